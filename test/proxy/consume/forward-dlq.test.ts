/**
 * ForwardMessageToDeadLetterQueue: the message is stored in %DLQ%<group> (id, body and properties kept) and acked,
 * so it never comes back; an expired handle is refused and leaves no DLQ copy. Driven by a raw gRPC client, and by
 * Apache's Node.js PushConsumer on a FIFO group, which forwards a message its listener fails.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Producer } from '../../../src/client/producer.js';
import { type GrpcHarness, startGrpcHarness } from '../harness.js';
import { RawClient } from '../raw-client.js';
import { createGroup, createTopic } from './helpers.js';

const run = promisify(execFile);
const driver = fileURLToPath(new URL('./push-consumer-driver.js', import.meta.url));

interface Status {
  code: string;
  message: string;
}
interface Received {
  status: Status;
  messages: {
    systemProperties: { receiptHandle: string; messageId: string };
    userProperties: Record<string, string>;
    body: Buffer;
  }[];
}

let h: GrpcHarness;
let raw: RawClient;
let producer: Producer;
before(async () => {
  h = await startGrpcHarness();
  raw = new RawClient(h.endpoints);
  producer = new Producer({ nameServer: h.namesrvAddr, group: 'GrpcDlqPG', clientIp: '127.0.0.1' });
  await producer.start();
});
after(async () => {
  raw.close();
  await producer.shutdown();
  await h.stop();
});

async function receive(topic: string, group: string, invisibleSeconds = 10): Promise<Received> {
  const replies = await raw.stream<{ content: string; status?: Status; message?: Received['messages'][number] }>(
    'ReceiveMessage',
    {
      group: { name: group },
      messageQueue: { topic: { name: topic }, id: -1 },
      filterExpression: { type: 'TAG', expression: '*' },
      batchSize: 16,
      invisibleDuration: { seconds: invisibleSeconds, nanos: 0 },
      longPollingTimeout: { seconds: 1, nanos: 0 },
    },
  );
  return {
    status: replies.find((r) => r.content === 'status')?.status as Status,
    messages: replies.filter((r) => r.content === 'message').map((r) => r.message as Received['messages'][number]),
  };
}

async function receiveSome(topic: string, group: string, tries = 15): Promise<Received> {
  let r = await receive(topic, group);
  for (let i = 1; i < tries && r.messages.length === 0; i++) r = await receive(topic, group);
  return r;
}

function forward(topic: string, group: string, receiptHandle: string, messageId: string) {
  return raw.call<{ status: Status }>('ForwardMessageToDeadLetterQueue', {
    group: { name: group },
    topic: { name: topic },
    receiptHandle,
    messageId,
    deliveryAttempt: 1,
    maxDeliveryAttempts: 1,
  });
}

test('a forwarded message lands in %DLQ%<group> and never comes back; an expired handle is refused', async () => {
  const topic = 'GrpcDlqTopic';
  const group = 'GrpcDlqGroup';
  await createTopic(h, topic, 2);
  const sent = await producer.send({ topic, body: 'to the dlq', properties: { reason: 'poison' } });
  const got = await receiveSome(topic, group);
  const m = got.messages[0];
  assert.ok(m, 'received');
  assert.equal(m.systemProperties.messageId, sent.msgId);
  const res = await forward(topic, group, m.systemProperties.receiptHandle, m.systemProperties.messageId);
  assert.equal(res.status.code, 'OK', res.status.message);
  // Acked: the group does not see it again, even after its invisible time.
  assert.equal((await receive(topic, group, 1)).messages.length, 0);
  assert.equal((await receive(topic, group, 1)).messages.length, 0);
  // The DLQ holds it, with its id, body and properties.
  const dlq = await receiveSome(`%DLQ%${group}`, 'GrpcDlqReader');
  assert.equal(dlq.messages.length, 1);
  assert.equal(dlq.messages[0]?.systemProperties.messageId, sent.msgId);
  assert.equal(Buffer.from(dlq.messages[0]?.body ?? []).toString(), 'to the dlq');
  assert.equal(dlq.messages[0]?.userProperties['reason'], 'poison');
  // Forwarding the same (now acked) handle again: refused, and no second DLQ copy.
  const again = await forward(topic, group, m.systemProperties.receiptHandle, m.systemProperties.messageId);
  assert.equal(again.status.code, 'INVALID_RECEIPT_HANDLE');
  assert.equal((await receive(`%DLQ%${group}`, 'GrpcDlqReader2')).messages.length, 1);
});

test('a FIFO PushConsumer forwards the message its listener fails, then goes on in order', async () => {
  const topic = 'GrpcDlqFifoTopic';
  const group = 'GrpcDlqFifoGroup';
  await createTopic(h, topic, 1);
  await createGroup(h.brokerAddr, group, { consumeMessageOrderly: true });
  for (const body of ['first', 'poison', 'last']) await producer.send({ topic, body }, { shardingKey: 'order-1' });
  const { stdout } = await run(process.execPath, [driver, h.endpoints, topic, group, '3', '30000', 'poison'], {
    timeout: 90_000,
  });
  const { bodies } = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { bodies: string[] };
  assert.deepEqual(
    bodies,
    ['first', 'poison', 'last'],
    'in order, the failed one once (the client has no retries left)',
  );
  const dlq = await receiveSome(`%DLQ%${group}`, 'GrpcDlqFifoReader');
  assert.deepEqual(
    dlq.messages.map((x) => Buffer.from(x.body).toString()),
    ['poison'],
  );
});
