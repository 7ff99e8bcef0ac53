/**
 * The consume RPCs driven by a plain gRPC client with requests no real client sends: every malformed one gets its
 * apache.rocketmq.v2.Code with a message, and the server stays up. Also: QueryAssignment's answers, a stale
 * handle refused, a receive cancelled mid-poll loses nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { credentials, type ServiceClientConstructor } from '@grpc/grpc-js';
import { Producer } from '../../../src/client/producer.js';
import { rocketmqV2 } from '../../../src/proxy/proto.js';
import { type GrpcHarness, startGrpcHarness } from '../harness.js';
import { RawClient } from '../raw-client.js';
import { createGroup, createTopic } from './helpers.js';

interface Status {
  code: string;
  message: string;
}
interface ReceiveReply {
  content: 'status' | 'message' | 'deliveryTimestamp';
  status?: Status;
  message?: { systemProperties: { receiptHandle: string; messageId: string }; body: Buffer };
}

let h: GrpcHarness;
let raw: RawClient;
let producer: Producer;
const topic = 'GrpcBadTopic';

before(async () => {
  h = await startGrpcHarness({ autoCreateTopicEnable: false });
  raw = new RawClient(h.endpoints);
  await createTopic(h, topic, 2);
  producer = new Producer({ nameServer: h.namesrvAddr, group: 'GrpcBadPG', clientIp: '127.0.0.1' });
  await producer.start();
});

after(async () => {
  raw.close();
  await producer.shutdown();
  await h.stop();
});

function receiveReq(over: Record<string, unknown> = {}) {
  return {
    group: { name: 'GrpcBadGroup' },
    messageQueue: { topic: { name: topic }, id: -1, broker: { name: '' } },
    filterExpression: { type: 'TAG', expression: '*' },
    batchSize: 8,
    invisibleDuration: { seconds: 10, nanos: 0 },
    autoRenew: false,
    longPollingTimeout: { seconds: 1, nanos: 0 },
    ...over,
  };
}

async function receive(over: Record<string, unknown> = {}) {
  const replies = await raw.stream<ReceiveReply>('ReceiveMessage', receiveReq(over));
  const statuses = replies.filter((r) => r.content === 'status').map((r) => r.status as Status);
  const messages = replies
    .filter((r) => r.content === 'message')
    .map((r) => r.message as NonNullable<ReceiveReply['message']>);
  assert.equal(statuses.length, 1, 'one status per receive');
  return { status: statuses[0] as Status, messages };
}

test('malformed ReceiveMessage requests: one status with the right code and a message', async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ group: null }, 'ILLEGAL_CONSUMER_GROUP'],
    [{ group: { name: 'has space' } }, 'ILLEGAL_CONSUMER_GROUP'],
    [{ messageQueue: null }, 'ILLEGAL_TOPIC'],
    [{ messageQueue: { topic: { name: 'NoSuchTopic' } } }, 'TOPIC_NOT_FOUND'],
    [{ filterExpression: { type: 'SQL', expression: 'a = = 1' } }, 'ILLEGAL_FILTER_EXPRESSION'],
    [{ invisibleDuration: { seconds: 0, nanos: 1000 } }, 'ILLEGAL_INVISIBLE_TIME'],
    [{ invisibleDuration: null }, 'ILLEGAL_INVISIBLE_TIME'],
    [{ batchSize: 0 }, 'BAD_REQUEST'],
  ];
  for (const [over, code] of cases) {
    const r = await receive(over);
    assert.equal(r.status.code, code, `${JSON.stringify(over)}: ${r.status.message}`);
    assert.ok(r.status.message.length > 0);
    assert.equal(r.messages.length, 0);
  }
});

test('a group that may not consume is FORBIDDEN', async () => {
  await createGroup(h.brokerAddr, 'GrpcDisabledGroup', { consumeEnable: false });
  const r = await receive({ group: { name: 'GrpcDisabledGroup' } });
  assert.equal(r.status.code, 'FORBIDDEN', r.status.message);
});

test('nothing to receive: one MESSAGE_NOT_FOUND after the long poll (from 1 s)', async () => {
  const started = Date.now();
  const r = await receive({ group: { name: 'GrpcEmptyGroup' } });
  assert.equal(r.status.code, 'MESSAGE_NOT_FOUND');
  assert.ok(Date.now() - started >= 900, `answered after ${Date.now() - started} ms`);
});

test('malformed and stale handles: INVALID_RECEIPT_HANDLE with the reason; bad fields their codes', async () => {
  const group = { name: 'GrpcHandleGroup' };
  const t = { name: topic };
  const ack = (entries: object[], over: object = {}) =>
    raw.call<{ status: Status; entries: { status: Status }[] }>('AckMessage', { group, topic: t, entries, ...over });
  let res = await ack([{ messageId: 'x', receiptHandle: 'not a handle' }]);
  assert.equal(res.status.code, 'INVALID_RECEIPT_HANDLE');
  assert.equal(res.entries[0]?.status.code, 'INVALID_RECEIPT_HANDLE');
  assert.match(res.entries[0]?.status.message ?? '', /malformed/);
  res = await ack([{ messageId: 'x', receiptHandle: '' }]);
  assert.equal(res.status.code, 'INVALID_RECEIPT_HANDLE');
  assert.equal((await ack([])).status.code, 'BAD_REQUEST');
  assert.equal((await ack([{ receiptHandle: 'x' }], { group: null })).status.code, 'ILLEGAL_CONSUMER_GROUP');
  assert.equal((await ack([{ receiptHandle: 'x' }], { topic: null })).status.code, 'ILLEGAL_TOPIC');

  const change = (over: object) =>
    raw.call<{ status: Status; receiptHandle: string }>('ChangeInvisibleDuration', {
      group,
      topic: t,
      receiptHandle: 'garbage',
      invisibleDuration: { seconds: 5, nanos: 0 },
      ...over,
    });
  assert.equal((await change({})).status.code, 'INVALID_RECEIPT_HANDLE');
  const fwd = await raw.call<{ status: Status }>('ForwardMessageToDeadLetterQueue', {
    group,
    topic: t,
    receiptHandle: '1 2 3',
    messageId: 'x',
  });
  assert.equal(fwd.status.code, 'INVALID_RECEIPT_HANDLE');

  // A real handle, acked once: a second ack and a change are refused as expired.
  const sent = await producer.send({ topic, body: 'handle me' });
  let got: Awaited<ReturnType<typeof receive>> | undefined;
  for (let i = 0; i < 10 && (got === undefined || got.messages.length === 0); i++) got = await receive({ group });
  const m = got?.messages[0];
  assert.ok(m, 'the message was received');
  assert.equal(m.systemProperties.messageId, sent.msgId);
  const handle = m.systemProperties.receiptHandle;
  assert.equal(
    (await change({ receiptHandle: handle, invisibleDuration: { seconds: 0, nanos: 5e8 } })).status.code,
    'ILLEGAL_INVISIBLE_TIME',
  );
  assert.equal((await ack([{ messageId: m.systemProperties.messageId, receiptHandle: handle }])).status.code, 'OK');
  const again = await ack([{ messageId: m.systemProperties.messageId, receiptHandle: handle }]);
  const mixed = await ack([
    { messageId: m.systemProperties.messageId, receiptHandle: handle },
    { messageId: 'y', receiptHandle: 'still not a handle' },
  ]);
  assert.equal(mixed.status.code, 'MULTIPLE_RESULTS');
  assert.deepEqual(
    mixed.entries.map((e) => e.status.code),
    ['INVALID_RECEIPT_HANDLE', 'INVALID_RECEIPT_HANDLE'],
  );
  assert.equal(again.status.code, 'INVALID_RECEIPT_HANDLE');
  assert.match(again.status.message, /expired/);
  assert.equal((await change({ receiptHandle: handle })).status.code, 'INVALID_RECEIPT_HANDLE');

  const route = await raw.call<{ status: Status }>('QueryRoute', { topic: t });
  assert.equal(route.status.code, 'OK', 'the server is still up');
});

test('QueryAssignment: one assignment over every queue for a normal group, one per queue for a FIFO group', async () => {
  type Res = {
    status: Status;
    assignments: {
      messageQueue: { id: number; permission: string; broker: { endpoints: { addresses: { port: number }[] } } };
    }[];
  };
  const normal = await raw.call<Res>('QueryAssignment', { topic: { name: topic }, group: { name: 'GrpcAssignGroup' } });
  assert.equal(normal.status.code, 'OK', normal.status.message);
  assert.deepEqual(
    normal.assignments.map((a) => a.messageQueue.id),
    [-1],
  );
  assert.equal(normal.assignments[0]?.messageQueue.permission, 'READ_WRITE');
  assert.equal(
    String(normal.assignments[0]?.messageQueue.broker.endpoints.addresses[0]?.port),
    h.endpoints.split(':')[1],
  );
  await createGroup(h.brokerAddr, 'GrpcAssignFifo', { consumeMessageOrderly: true });
  const fifo = await raw.call<Res>('QueryAssignment', { topic: { name: topic }, group: { name: 'GrpcAssignFifo' } });
  assert.deepEqual(
    fifo.assignments.map((a) => a.messageQueue.id),
    [0, 1],
  );
  const missing = await raw.call<Res>('QueryAssignment', { topic: { name: 'NoSuchTopic' }, group: { name: 'G' } });
  assert.equal(missing.status.code, 'TOPIC_NOT_FOUND');
  const noGroup = await raw.call<Res>('QueryAssignment', { topic: { name: topic } });
  assert.equal(noGroup.status.code, 'ILLEGAL_CONSUMER_GROUP');
});

test('a receive cancelled mid-poll loses nothing: the next receive gets the message sent after', async () => {
  const group = { name: 'GrpcCancelGroup' };
  const Ctor = rocketmqV2()['MessagingService'] as ServiceClientConstructor;
  const client = new Ctor(h.endpoints, credentials.createInsecure());
  try {
    const call = (
      client as unknown as Record<string, (r: object, m: unknown) => NodeJS.EventEmitter & { cancel(): void }>
    )['ReceiveMessage']?.call(
      client,
      receiveReq({
        group,
        longPollingTimeout: { seconds: 10, nanos: 0 },
        invisibleDuration: { seconds: 60, nanos: 0 },
      }),
      raw.metadata(),
    );
    assert.ok(call);
    const ended = new Promise<void>((resolve) => {
      call.on('error', () => resolve());
      call.on('end', () => resolve());
    });
    call.on('data', () => {});
    await new Promise((r) => setTimeout(r, 300));
    call.cancel();
    await ended;
  } finally {
    client.close();
  }
  // Had the cancelled pop gone on, it would take this message and hide it for 60 s, past the loop below.
  const sent = await producer.send({ topic, body: 'after cancel' });
  let got: Awaited<ReturnType<typeof receive>> | undefined;
  for (let i = 0; i < 10 && (got === undefined || got.messages.length === 0); i++) got = await receive({ group });
  assert.equal(got?.messages[0]?.systemProperties.messageId, sent.msgId);
});
