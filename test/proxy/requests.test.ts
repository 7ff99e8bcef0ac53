/**
 * The gRPC endpoint over a raw client: Telemetry's settings handshake, registration visible to admin requests,
 * batches, GZIP bodies, and every malformed request answered with its apache.rocketmq.v2.Code while the server
 * keeps serving.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Admin } from '../../src/client/admin/admin.js';
import { Prop } from '../../src/common/properties.js';
import { SystemTopic } from '../../src/common/topics.js';
import { ConsumeFromWhere, PullConsumer, type ReceivedMessage } from '../../src/index.js';
import type { Settings } from '../../src/proxy/proto.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { encodeConsumerGroupHeader } from '../../src/remoting/protocol/clients.js';
import { type GrpcHarness, startGrpcHarness } from './harness.js';
import { RawClient } from './raw-client.js';

const bodyBytesMax = 4096;
let h: GrpcHarness;
let raw: RawClient;
let seq = 0;

interface Reply {
  status: { code: string; message: string };
  [k: string]: unknown;
}

before(async () => {
  h = await startGrpcHarness({ autoCreateTopicEnable: false, maxMessageSize: bodyBytesMax });
  raw = new RawClient(h.endpoints);
  const admin = new Admin({ nameServer: h.namesrvAddr, timeoutMs: 5000 });
  try {
    const create = (topicName: string, queues: number, messageType?: 'FIFO') =>
      admin.createOrUpdateTopic(
        { brokerAddr: h.brokerAddr },
        { topicName, readQueueNums: queues, writeQueueNums: queues, ...(messageType ? { messageType } : {}) },
      );
    await create('RawTopic', 2);
    await create('RawFifoOnly', 2, 'FIFO');
  } finally {
    await admin.close();
  }
});

after(async () => {
  raw.close();
  await h.stop();
});

/** A message as Apache's clients send it; `over` replaces system properties. */
function message(topic: string, body: Buffer | string, over: Record<string, unknown> = {}, user: object = {}) {
  return {
    topic: { name: topic },
    userProperties: user,
    systemProperties: {
      messageId: `01AABBCCDDEEFF00010000000${String(++seq).padStart(9, '0')}`,
      bodyEncoding: 'IDENTITY',
      messageType: 'NORMAL',
      bornTimestamp: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 },
      bornHost: 'raw-host',
      ...over,
    },
    body: typeof body === 'string' ? Buffer.from(body) : body,
  };
}

const send = (...messages: object[]) => raw.call<Reply>('SendMessage', { messages });

async function pullAll(topic: string, group: string, count: number): Promise<ReceivedMessage[]> {
  const c = new PullConsumer({
    nameServer: h.namesrvAddr,
    group,
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  await c.subscribe(topic);
  await c.start();
  const got: ReceivedMessage[] = [];
  try {
    const deadline = Date.now() + 15_000;
    while (got.length < count && Date.now() < deadline) got.push(...(await c.poll(500)));
  } finally {
    await c.shutdown();
  }
  return got;
}

test('Telemetry answers a producer the back-off policy and the broker maxMessageSize', async () => {
  const t = raw.telemetry(raw.metadata('raw-producer-1'));
  t.write({ settings: { clientType: 'PRODUCER', publishing: { topics: [{ name: 'RawTopic' }] } } });
  const reply = (await t.next()) as { status: { code: string }; settings: Settings };
  t.end();
  assert.equal(reply.status.code, 'OK');
  const s = reply.settings;
  assert.equal(s.pubSub, 'publishing');
  assert.equal(s.publishing?.maxBodySize, bodyBytesMax);
  assert.equal(s.publishing?.validateMessageType, true);
  assert.equal(s.backoffPolicy?.maxAttempts, 3);
  assert.equal(s.backoffPolicy?.strategy, 'exponentialBackoff');
  assert.ok(Number(s.backoffPolicy?.exponentialBackoff?.max.seconds) >= 1);
});

test('Telemetry answers a simple consumer its group retry budget, batch size and long-polling timeout; admin sees it', async () => {
  const clientId = 'raw-consumer-1';
  const t = raw.telemetry(raw.metadata(clientId));
  t.write({
    settings: {
      clientType: 'SIMPLE_CONSUMER',
      subscription: {
        group: { name: 'raw_group' },
        subscriptions: [{ topic: { name: 'RawTopic' }, expression: { type: 'TAG', expression: 'a || b' } }],
      },
    },
  });
  const reply = (await t.next()) as { status: { code: string }; settings: Settings };
  assert.equal(reply.status.code, 'OK');
  const s = reply.settings;
  assert.equal(s.pubSub, 'subscription');
  assert.equal(s.backoffPolicy?.maxAttempts, 17, 'retryMaxTimes 16 + 1');
  assert.equal(s.backoffPolicy?.strategy, 'customizedBackoff');
  assert.equal(s.subscription?.receiveBatchSize, 32);
  assert.equal(s.subscription?.longPollingTimeout?.seconds, '20');
  assert.equal(s.subscription?.fifo, false);
  const hb = await raw.call<Reply>(
    'Heartbeat',
    { group: { name: 'raw_group' }, clientType: 'SIMPLE_CONSUMER' },
    raw.metadata(clientId),
  );
  assert.equal(hb.status.code, 'OK');
  const remoting = new RemotingClient();
  try {
    const resp = await remoting.invoke(
      h.brokerAddr,
      createRequest(
        RequestCode.GET_CONSUMER_CONNECTION_LIST,
        encodeConsumerGroupHeader({ consumerGroup: 'raw_group' }),
      ),
      5000,
    );
    assert.equal(resp.code, ResponseCode.SUCCESS, resp.remark);
    const body = JSON.parse(resp.body?.toString() ?? '{}') as {
      connectionSet: { clientId: string }[];
      subscriptionTable: Record<string, { tagsSet: string[] }>;
      consumeType: string;
    };
    assert.deepEqual(
      body.connectionSet.map((c) => c.clientId),
      [clientId],
    );
    assert.deepEqual(body.subscriptionTable['RawTopic']?.tagsSet, ['a', 'b']);
    assert.equal(body.consumeType, 'CONSUME_ACTIVELY');
    const bye = await raw.call<Reply>(
      'NotifyClientTermination',
      { group: { name: 'raw_group' } },
      raw.metadata(clientId),
    );
    assert.equal(bye.status.code, 'OK');
    const gone = await remoting.invoke(
      h.brokerAddr,
      createRequest(
        RequestCode.GET_CONSUMER_CONNECTION_LIST,
        encodeConsumerGroupHeader({ consumerGroup: 'raw_group' }),
      ),
      5000,
    );
    assert.equal(gone.code, ResponseCode.CONSUMER_NOT_ONLINE);
  } finally {
    t.end();
    await remoting.close();
  }
});

test('a batch is stored in one queue with consecutive offsets, one entry per message', async () => {
  const msgs = [message('RawTopic', 'b0'), message('RawTopic', 'b1'), message('RawTopic', 'b2')];
  const r = await send(...msgs);
  assert.equal(r.status.code, 'OK', r.status.message);
  const entries = r['entries'] as { status: { code: string }; messageId: string; offset: string }[];
  assert.deepEqual(
    entries.map((e) => e.messageId),
    msgs.map((m) => m.systemProperties.messageId),
  );
  const first = Number(entries[0]?.offset);
  assert.deepEqual(
    entries.map((e) => Number(e.offset)),
    [first, first + 1, first + 2],
  );
  assert.ok(entries.every((e) => e.status.code === 'OK'));
});

test('a GZIP body is stored compressed and read back inflated by a 4.x-protocol consumer', async () => {
  const text = 'gzip me '.repeat(100);
  const m = message('RawTopic', gzipSync(Buffer.from(text)), { bodyEncoding: 'GZIP', tag: 'gz' });
  const r = await send(m);
  assert.equal(r.status.code, 'OK', r.status.message);
  const got = (await pullAll('RawTopic', 'raw_gzip_reader', 8)).filter((x) => x.tags === 'gz');
  assert.equal(got.length, 1);
  assert.equal(got[0]?.body.toString(), text);
  assert.equal(got[0]?.msgId, m.systemProperties.messageId);
});

test('malformed sends get their apache.rocketmq.v2 code and a message, and the server keeps serving', async () => {
  const cases: [string, () => Promise<Reply>, string, RegExp][] = [
    ['no message', () => send(), 'MESSAGE_CORRUPTED', /no message/],
    ['no topic', () => send({ ...message('RawTopic', 'x'), topic: null }), 'ILLEGAL_TOPIC', /topic is required/],
    ['bad topic name', () => send(message('bad topic', 'x')), 'ILLEGAL_TOPIC', /characters outside/],
    ['system topic', () => send(message(SystemTopic.schedule, 'x')), 'ILLEGAL_TOPIC', /system topic/],
    ['unknown topic', () => send(message('NoSuchTopic', 'x')), 'TOPIC_NOT_FOUND', /NoSuchTopic/],
    ['empty body', () => send(message('RawTopic', '')), 'MESSAGE_BODY_EMPTY', /empty/],
    [
      'oversized body',
      () => send(message('RawTopic', Buffer.alloc(bodyBytesMax + 1))),
      'MESSAGE_BODY_TOO_LARGE',
      new RegExp(`${bodyBytesMax + 1} bytes, more than the max ${bodyBytesMax}`),
    ],
    ['no message id', () => send(message('RawTopic', 'x', { messageId: '' })), 'ILLEGAL_MESSAGE_ID', /empty/],
    [
      'system property name',
      () => send(message('RawTopic', 'x', {}, { [Prop.uniqKey]: 'mine' })),
      'ILLEGAL_MESSAGE_PROPERTY_KEY',
      /used by system/,
    ],
    ['tag with |', () => send(message('RawTopic', 'x', { tag: 'a|b' })), 'ILLEGAL_MESSAGE_TAG', /'\|'/],
    ['blank key', () => send(message('RawTopic', 'x', { keys: ['  '] })), 'ILLEGAL_MESSAGE_KEY', /whitespace/],
    [
      'long message group',
      () => send(message('RawTopic', 'x', { messageType: 'FIFO', messageGroup: 'g'.repeat(64) })),
      'ILLEGAL_MESSAGE_GROUP',
      /max size 64/,
    ],
    [
      'GZIP body that is not gzip',
      () => send(message('RawTopic', 'plain', { bodyEncoding: 'GZIP' })),
      'MESSAGE_CORRUPTED',
      /not gzip/,
    ],
    [
      'batch over two topics',
      () => send(message('RawTopic', 'x'), message('RawFifoOnly', 'y')),
      'MESSAGE_CORRUPTED',
      /share a topic/,
    ],
    [
      'too many messages in one request',
      () => send(...Array.from({ length: 1025 }, () => message('RawTopic', 'x'))),
      'PAYLOAD_TOO_LARGE',
      /1025 messages in one request, max 1024/,
    ],
    [
      'too many user properties',
      () =>
        send(message('RawTopic', 'x', {}, Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`p${i}`, 'v'])))),
      'MESSAGE_PROPERTIES_TOO_LARGE',
      /too many user properties, max is 128/,
    ],
    [
      'properties past maxPropertiesBytes',
      () => send(message('RawTopic', 'x', {}, { big: 'v'.repeat(40_000) })),
      'MESSAGE_PROPERTIES_TOO_LARGE',
      /more than the 32767 allowed/,
    ],
    [
      'type the topic refuses',
      () => send(message('RawFifoOnly', 'x')),
      'MESSAGE_PROPERTY_CONFLICT_WITH_TYPE',
      /accepts FIFO messages only; this message is NORMAL/,
    ],
    [
      'delivery time past the timer limit',
      () =>
        send(
          message('RawTopic', 'x', {
            messageType: 'DELAY',
            deliveryTimestamp: { seconds: String(Math.floor(Date.now() / 1000) + 30 * 86_400), nanos: 0 },
          }),
        ),
      'ILLEGAL_DELIVERY_TIME',
      /timer/,
    ],
  ];
  for (const [what, run, code, re] of cases) {
    const r = await run();
    assert.equal(r.status.code, code, `${what}: ${r.status.message}`);
    assert.match(r.status.message, re, what);
  }
  const ok = await send(message('RawFifoOnly', 'x', { messageType: 'FIFO', messageGroup: 'g1' }));
  assert.equal(ok.status.code, 'OK', ok.status.message);
});

test('malformed route, client, transaction and offset requests get their codes', async () => {
  const route = await raw.call<Reply>('QueryRoute', { topic: { name: 'NoSuchTopic' } });
  assert.equal(route.status.code, 'TOPIC_NOT_FOUND');
  assert.match(route.status.message, /NoSuchTopic/);
  const anon = await raw.call<Reply>('Heartbeat', { clientType: 'PRODUCER' }, raw.metadata(''));
  assert.equal(anon.status.code, 'CLIENT_ID_REQUIRED');
  const stranger = await raw.call<Reply>('Heartbeat', { clientType: 'PRODUCER' }, raw.metadata('never-sent-settings'));
  assert.equal(stranger.status.code, 'UNRECOGNIZED_CLIENT_TYPE');
  const t = raw.telemetry(raw.metadata('raw-empty-settings'));
  t.write({ settings: { clientType: 'PRODUCER' } });
  const refusal = (await t.next()) as Reply;
  assert.equal(refusal.status.code, 'BAD_REQUEST');
  assert.match(refusal.status.message, /neither publishing nor subscription|no publishing or subscription/);
  t.end();

  const normal = await send(message('RawTopic', 'not a half'));
  const end = (transactionId: string, messageId = 'x') =>
    raw.call<Reply>('EndTransaction', { topic: { name: 'RawTopic' }, messageId, transactionId, resolution: 'COMMIT' });
  assert.equal((await end('not-hex')).status.code, 'INVALID_TRANSACTION_ID');
  const e0 = (normal['entries'] as { messageId: string }[])[0];
  // The id of a message that is not a half message: its CommitLog offset holds no transaction.
  const offsetMsgId = '7F00000100000000' + '0000000000000000';
  const notHalf = await end(offsetMsgId, e0?.messageId);
  assert.equal(notHalf.status.code, 'INVALID_TRANSACTION_ID');
  assert.match(notHalf.status.message, /not a half message|Find prepared/);
  const noResolution = await raw.call<Reply>('EndTransaction', {
    topic: { name: 'RawTopic' },
    messageId: 'x',
    transactionId: offsetMsgId,
  });
  assert.equal(noResolution.status.code, 'BAD_REQUEST');

  const mq = { topic: { name: 'RawTopic' }, id: 0 };
  assert.equal((await raw.call<Reply>('GetOffset', { messageQueue: mq })).status.code, 'ILLEGAL_CONSUMER_GROUP');
  assert.equal(
    (await raw.call<Reply>('GetOffset', { group: { name: 'g' }, messageQueue: { ...mq, id: 9 } })).status.code,
    'BAD_REQUEST',
  );
  assert.equal(
    (await raw.call<Reply>('UpdateOffset', { group: { name: 'g' }, messageQueue: mq, offset: '-1' })).status.code,
    'ILLEGAL_OFFSET',
  );
  const committed = await raw.call<Reply>('UpdateOffset', {
    group: { name: 'raw_offsets' },
    messageQueue: mq,
    offset: '1',
  });
  assert.equal(committed.status.code, 'OK', committed.status.message);
  const back = await raw.call<Reply>('GetOffset', { group: { name: 'raw_offsets' }, messageQueue: mq });
  assert.equal(back['offset'], '1');
  const end2 = await raw.call<Reply>('QueryOffset', { messageQueue: mq, queryOffsetPolicy: 'END' });
  assert.equal(end2.status.code, 'OK');
  assert.ok(Number(end2['offset']) >= 1);
  const ok = await raw.call<Reply>('QueryRoute', { topic: { name: 'RawTopic' } });
  assert.equal(ok.status.code, 'OK', 'still serving');
});

test('RECALL_MESSAGE (370) over remoting is refused, naming the gRPC RecallMessage', async () => {
  const remoting = new RemotingClient();
  try {
    const resp = await remoting.invoke(h.brokerAddr, createRequest(RequestCode.RECALL_MESSAGE, {}), 5000);
    assert.equal(resp.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    assert.match(resp.remark ?? '', /not built yet: recall timer messages with the gRPC RecallMessage/);
  } finally {
    await remoting.close();
  }
});

test('RecallMessage refuses a damaged handle, one of another topic, and one already due', async () => {
  const recall = (topic: string, recallHandle: string) =>
    raw.call<Reply>('RecallMessage', { topic: { name: topic }, recallHandle });
  const bad = await recall('RawTopic', 'garbage');
  assert.equal(bad.status.code, 'BAD_REQUEST');
  const soon = { seconds: String(Math.floor(Date.now() / 1000) + 60), nanos: 0 };
  const sent = await send(message('RawTopic', 'x', { messageType: 'DELAY', deliveryTimestamp: soon }));
  const entry = (sent['entries'] as { recallHandle: string }[])[0];
  assert.ok(entry !== undefined && entry.recallHandle !== '');
  const other = await recall('RawFifoOnly', entry.recallHandle);
  assert.equal(other.status.code, 'BAD_REQUEST');
  assert.match(other.status.message, /for topic RawTopic, not RawFifoOnly/);
  const ok = await recall('RawTopic', entry.recallHandle);
  assert.equal(ok.status.code, 'OK', ok.status.message);
  const past = Buffer.from(`v1 RawTopic broker-a ${Date.now() - 1000} 01AB`).toString('base64url');
  const late = await recall('RawTopic', past);
  assert.equal(late.status.code, 'MESSAGE_NOT_FOUND');
  assert.match(late.status.message, /too late to recall/);
});
