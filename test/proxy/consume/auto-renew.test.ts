/**
 * ReceiveMessage with auto_renew (what PushConsumers send) through a raw gRPC client: the message is held with the
 * 60 s slice, acked with the handle first given, and given back at once when its client says goodbye
 * (NotifyClientTermination), so another consumer gets it within seconds instead of a minute.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Producer } from '../../../src/client/producer.js';
import { type GrpcHarness, startGrpcHarness } from '../harness.js';
import { RawClient } from '../raw-client.js';
import { createTopic } from './helpers.js';

interface Status {
  code: string;
  message: string;
}
interface V2Msg {
  systemProperties: {
    receiptHandle: string;
    messageId: string;
    deliveryAttempt: number;
    invisibleDuration: { seconds: string };
  };
}

const topic = 'GrpcRenewTopic';
const group = 'GrpcRenewGroup';
let h: GrpcHarness;
let raw: RawClient;
let producer: Producer;

before(async () => {
  h = await startGrpcHarness();
  raw = new RawClient(h.endpoints);
  await createTopic(h, topic, 2);
  producer = new Producer({ nameServer: h.namesrvAddr, group: 'GrpcRenewPG', clientIp: '127.0.0.1' });
  await producer.start();
});

after(async () => {
  raw.close();
  await producer.shutdown();
  await h.stop();
});

async function receive(clientId: string, autoRenew: boolean): Promise<V2Msg[]> {
  const replies = await raw.stream<{ content: string; status?: Status; message?: V2Msg }>(
    'ReceiveMessage',
    {
      group: { name: group },
      messageQueue: { topic: { name: topic }, id: -1 },
      filterExpression: { type: 'TAG', expression: '*' },
      batchSize: 8,
      autoRenew,
      ...(autoRenew ? {} : { invisibleDuration: { seconds: 30, nanos: 0 } }),
      longPollingTimeout: { seconds: 1, nanos: 0 },
    },
    raw.metadata(clientId),
  );
  return replies.filter((r) => r.content === 'message').map((r) => r.message as V2Msg);
}

async function receiveSome(clientId: string, autoRenew: boolean, tries = 15): Promise<V2Msg[]> {
  for (let i = 0; i < tries; i++) {
    const got = await receive(clientId, autoRenew);
    if (got.length > 0) return got;
  }
  return [];
}

test('auto-renewed: held 60 s, acked with the first handle, given back when its client terminates', async () => {
  const clientId = 'renew-client-1';
  const t = raw.telemetry(raw.metadata(clientId));
  try {
    t.write({
      settings: {
        clientType: 'PUSH_CONSUMER',
        subscription: {
          group: { name: group },
          subscriptions: [{ topic: { name: topic }, expression: { type: 'TAG', expression: '*' } }],
        },
      },
    });
    const reply = (await t.next()) as { status: Status };
    assert.equal(reply.status.code, 'OK');

    const first = await producer.send({ topic, body: 'acked' });
    const [a] = await receiveSome(clientId, true);
    assert.ok(a);
    assert.equal(a.systemProperties.messageId, first.msgId);
    assert.equal(a.systemProperties.invisibleDuration.seconds, '60');
    const ack = await raw.call<{ status: Status }>(
      'AckMessage',
      {
        group: { name: group },
        topic: { name: topic },
        entries: [{ messageId: first.msgId, receiptHandle: a.systemProperties.receiptHandle }],
      },
      raw.metadata(clientId),
    );
    assert.equal(ack.status.code, 'OK', ack.status.message);

    const second = await producer.send({ topic, body: 'given back' });
    const [b] = await receiveSome(clientId, true);
    assert.equal(b?.systemProperties.messageId, second.msgId);
    assert.deepEqual(await receive('renew-client-2', false), [], 'held invisible for the first client');
    const bye = await raw.call<{ status: Status }>(
      'NotifyClientTermination',
      { group: { name: group } },
      raw.metadata(clientId),
    );
    assert.equal(bye.status.code, 'OK', bye.status.message);
  } finally {
    t.end();
  }
  const started = Date.now();
  const [again] = await receiveSome('renew-client-2', false);
  assert.equal(again?.systemProperties.deliveryAttempt, 2);
  assert.ok(Date.now() - started < 20_000, `back after ${Date.now() - started} ms, not after the 60 s slice`);
});
