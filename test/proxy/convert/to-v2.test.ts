import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { type MessageExt, SysFlag } from '../../../src/common/message.js';
import { inflatedBodyBytesMax, protoTimeOfMs, toV2Message } from '../../../src/proxy/convert/to-v2.js';

function stored(over: Partial<MessageExt> = {}, props: Record<string, string> = {}): MessageExt {
  return {
    topic: 'TopicA',
    queueId: 2,
    flag: 0,
    queueOffset: 41n,
    commitLogOffset: 9000n,
    storeSize: 200,
    sysFlag: 0,
    bodyCRC: 0,
    bornTimestamp: 1_700_000_000_123n,
    bornHost: '10.0.0.7:51000',
    storeTimestamp: 1_700_000_000_456n,
    storeHost: '192.168.1.2:10911',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    body: Buffer.from('hello'),
    properties: new Map(Object.entries({ UNIQ_KEY: 'AB'.repeat(16), ...props })),
    offsetMsgId: 'C0A8010200002A9F0000000000002328',
    ...over,
  };
}

const md5Upper = (b: Buffer) => createHash('md5').update(b).digest('hex').toUpperCase();

test('system properties: tag, keys, id, digest, hosts, times, queue, attempt; user properties keep the rest', () => {
  const m = toV2Message(
    stored({ reconsumeTimes: 2 }, { TAGS: 'TagA', KEYS: 'k1 k2', color: 'red', WAIT: 'true', size: '3' }),
    { receiptHandle: 'handle-1', invisibleTimeMs: 15_500, deliveryAttempt: 3 },
  );
  assert.deepEqual(m.topic, { resourceNamespace: '', name: 'TopicA' });
  assert.deepEqual(m.userProperties, { color: 'red', size: '3' });
  const s = m.systemProperties;
  assert.equal(s.tag, 'TagA');
  assert.deepEqual(s.keys, ['k1', 'k2']);
  assert.equal(s.messageId, 'AB'.repeat(16));
  assert.deepEqual(s.bodyDigest, { type: 'MD5', checksum: md5Upper(Buffer.from('hello')) });
  assert.equal(s.bodyEncoding, 'IDENTITY');
  assert.equal(s.messageType, 'NORMAL');
  assert.deepEqual(s.bornTimestamp, { seconds: '1700000000', nanos: 123_000_000 });
  assert.deepEqual(s.storeTimestamp, { seconds: '1700000000', nanos: 456_000_000 });
  assert.equal(s.bornHost, '10.0.0.7');
  assert.equal(s.storeHost, '192.168.1.2:10911');
  assert.equal(s.queueId, 2);
  assert.equal(s.queueOffset, '41');
  assert.equal(s.receiptHandle, 'handle-1');
  assert.deepEqual(s.invisibleDuration, { seconds: '15', nanos: 500_000_000 });
  assert.equal(s.deliveryAttempt, 3);
  assert.equal(s.messageGroup, undefined);
  assert.equal(s.deliveryTimestamp, undefined);
  assert.deepEqual(m.body, Buffer.from('hello'));
});

test('a message without UNIQ_KEY is identified by its offsetMsgId; no delivery → attempt from reconsumeTimes', () => {
  const msg = stored({ reconsumeTimes: 4 });
  msg.properties.delete('UNIQ_KEY');
  const m = toV2Message(msg);
  assert.equal(m.systemProperties.messageId, msg.offsetMsgId);
  assert.equal(m.systemProperties.deliveryAttempt, 5);
  assert.equal(m.systemProperties.receiptHandle, undefined);
  assert.equal(m.systemProperties.tag, undefined);
  assert.deepEqual(m.systemProperties.keys, []);
});

test('message type: TRAN_MSG → TRANSACTION, delay/timer → DELAY with its delivery time, sharding key → FIFO', () => {
  assert.equal(toV2Message(stored({}, { TRAN_MSG: 'true' })).systemProperties.messageType, 'TRANSACTION');
  const delayed = toV2Message(stored({}, { TIMER_DELIVER_MS: '1700000005250' })).systemProperties;
  assert.equal(delayed.messageType, 'DELAY');
  assert.deepEqual(delayed.deliveryTimestamp, { seconds: '1700000005', nanos: 250_000_000 });
  assert.equal(toV2Message(stored({}, { DELAY: '3' })).systemProperties.messageType, 'DELAY');
  const fired = toV2Message(stored({}, { TIMER_ENQUEUE_MS: '1700000000000', TIMER_DEQUEUE_MS: '1700000009000' }));
  assert.equal(fired.systemProperties.messageType, 'DELAY');
  assert.deepEqual(fired.systemProperties.deliveryTimestamp, { seconds: '1700000009', nanos: 0 });
  const fifo = toV2Message(stored({}, { __SHARDINGKEY: 'order-7' })).systemProperties;
  assert.equal(fifo.messageType, 'FIFO');
  assert.equal(fifo.messageGroup, 'order-7');
});

test('a zlib body (4.x compression) is inflated and digested as delivered', () => {
  const plain = Buffer.alloc(8192, 'abcdefgh');
  const m = toV2Message(stored({ sysFlag: SysFlag.compressed, body: deflateSync(plain) }));
  assert.deepEqual(m.body, plain);
  assert.equal(m.systemProperties.bodyEncoding, 'IDENTITY');
  assert.equal(m.systemProperties.bodyDigest.checksum, md5Upper(plain));
});

test('a gzip body (sent by a 5.x client) goes out as GZIP, digest over the bytes sent', () => {
  const plain = Buffer.from('x'.repeat(5000));
  const gz = gzipSync(plain);
  const m = toV2Message(stored({ sysFlag: SysFlag.compressed, body: gz }));
  assert.equal(m.systemProperties.bodyEncoding, 'GZIP');
  assert.deepEqual(gunzipSync(m.body), plain);
  assert.equal(m.systemProperties.bodyDigest.checksum, md5Upper(gz));
});

test('a compressed flag over bytes that are not zlib, or a body inflating past the limit, goes out as stored', () => {
  const junk = Buffer.from('not compressed at all');
  assert.deepEqual(toV2Message(stored({ sysFlag: SysFlag.compressed, body: junk })).body, junk);
  const bomb = deflateSync(Buffer.alloc(inflatedBodyBytesMax + 1));
  const m = toV2Message(stored({ sysFlag: SysFlag.compressed, body: bomb }));
  assert.deepEqual(m.body, bomb);
  assert.equal(m.systemProperties.bodyDigest.checksum, md5Upper(bomb));
});

test('the topic shown can differ from the stored one (a retried message keeps its original topic)', () => {
  const m = toV2Message(stored({ topic: '%RETRY%g_TopicA' }), undefined, 'TopicA');
  assert.equal(m.topic.name, 'TopicA');
});

test('protoTimeOfMs splits milliseconds into seconds and nanos, negative ones too', () => {
  assert.deepEqual(protoTimeOfMs(0), { seconds: '0', nanos: 0 });
  assert.deepEqual(protoTimeOfMs(1999), { seconds: '1', nanos: 999_000_000 });
  assert.deepEqual(protoTimeOfMs(-1n), { seconds: '-1', nanos: 999_000_000 });
});

test('the object serializes with the vendored v2 schema and decodes to the same fields', async () => {
  const loader = await import('@grpc/proto-loader');
  const { fileURLToPath } = await import('node:url');
  const protoDir = fileURLToPath(new URL('../../../../proto', import.meta.url));
  const def = loader.loadSync('apache/rocketmq/v2/service.proto', {
    includeDirs: [protoDir],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const service = def['apache.rocketmq.v2.MessagingService'] as Record<
    string,
    { responseSerialize(v: unknown): Buffer; responseDeserialize(b: Buffer): unknown }
  >;
  const rpc = service['ReceiveMessage'];
  assert.ok(rpc);
  const msg = toV2Message(stored({}, { TAGS: 'TagA', KEYS: 'k1', color: 'red', __SHARDINGKEY: 'g1' }), {
    receiptHandle: 'rh',
    invisibleTimeMs: 2000,
    deliveryAttempt: 1,
  });
  const back = rpc.responseDeserialize(rpc.responseSerialize({ message: msg })) as {
    content: string;
    message: typeof msg;
  };
  assert.equal(back.content, 'message');
  const s = back.message.systemProperties;
  assert.equal(s.tag, 'TagA');
  assert.deepEqual(s.keys, ['k1']);
  assert.equal(s.messageType, 'FIFO');
  assert.equal(s.messageGroup, 'g1');
  assert.equal(s.receiptHandle, 'rh');
  assert.equal(s.queueOffset, '41');
  assert.deepEqual(s.bodyDigest, msg.systemProperties.bodyDigest);
  assert.deepEqual(back.message.userProperties, { color: 'red' });
  assert.deepEqual(Buffer.from(back.message.body), Buffer.from('hello'));
});
