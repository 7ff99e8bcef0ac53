/**
 * 4.x ↔ 5.x: the real ali-ons client (remoting) on one side, Apache's Node.js 5.x client (gRPC) on the other, one
 * broker. Ids, tags, keys, user properties and bodies cross intact: 4.x zlib bodies (≥ 4 KiB) reach the 5.x client
 * inflated, and what the 5.x client sends reaches ali-ons as it was sent.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type MessageView, Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { type GrpcHarness, startGrpcHarness } from '../harness.js';
import { RawClient } from '../raw-client.js';
import { clientOptions, createTopic, mixedBody, until } from './helpers.js';

const run = promisify(execFile);
const driver = fileURLToPath(new URL('./ali-ons-mixed-driver.js', import.meta.url));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let h: GrpcHarness;
before(async () => {
  h = await startGrpcHarness();
});
after(() => h.stop());

async function onsDriver<T>(args: string[]): Promise<T> {
  const { stdout } = await run(process.execPath, [driver, ...args], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as T;
}

test('ali-ons produces → rocketmq-client-nodejs consumes: ids, tags, keys, properties, inflated bodies', async () => {
  const topic = 'MixedOnsToV5';
  await createTopic(h, topic);
  const { sent } = await onsDriver<{
    sent: Array<{ msgId: string; tag: string; key: string; index: number; bodySha256: string }>;
  }>(['produce', h.namesrvAddr, topic, '6']);
  assert.equal(sent.length, 6);
  const c = new SimpleConsumer({
    ...clientOptions(h.endpoints),
    consumerGroup: 'MixedOnsToV5Group',
    subscriptions: new Map([[topic, '*']]),
    awaitDuration: 2000,
  });
  await c.startup();
  const got = new Map<string, MessageView>();
  try {
    await until(
      () => got.size >= sent.length,
      async () => {
        for (const m of await c.receive(16, 10_000)) {
          got.set(m.messageId, m);
          await c.ack(m);
        }
      },
      30_000,
      'every ali-ons message',
    );
  } finally {
    await c.shutdown();
  }
  for (const s of sent) {
    const m = got.get(s.msgId);
    assert.ok(m, `message ${s.msgId} (ali-ons sets no UNIQ_KEY: its id is the offsetMsgId) received`);
    assert.equal(m.tag, s.tag);
    assert.deepEqual(m.keys, [s.key]);
    assert.equal(m.properties.get('index'), String(s.index));
    assert.equal(m.properties.get('color'), s.index % 3 === 0 ? 'red' : 'blue');
    assert.notEqual(m.corrupted, true);
    assert.equal(sha256(m.body), s.bodySha256, `body of ${s.index} (${m.body.length} bytes) as sent`);
  }
  assert.ok(
    sent.some((s) => s.index % 2 === 0 && mixedBody(s.index).length >= 4096),
    'some bodies were over the 4 KiB compression threshold',
  );
});

test('rocketmq-client-nodejs produces → ali-ons consumes: ids, tags, keys, properties, bodies', async () => {
  const topic = 'MixedV5ToOns';
  await createTopic(h, topic);
  const producer = new Producer({ ...clientOptions(h.endpoints), topics: [topic] });
  await producer.startup();
  const sent: Array<{ id: string; i: number }> = [];
  try {
    for (let i = 0; i < 6; i++) {
      const receipt = await producer.send({
        topic,
        tag: i % 2 === 0 ? 'TagA' : 'TagB',
        keys: [`v5-key-${i}`],
        properties: new Map([
          ['color', i % 3 === 0 ? 'red' : 'blue'],
          ['index', String(i)],
        ]),
        body: mixedBody(i),
      });
      sent.push({ id: receipt.messageId, i });
    }
  } finally {
    await producer.shutdown();
  }
  const { received } = await onsDriver<{
    received: Array<{
      msgId: string;
      uniqKey?: string;
      tag: string;
      keys: string;
      props: Record<string, string>;
      bodySha256: string;
    }>;
  }>(['consume', h.namesrvAddr, topic, 'MixedV5ToOnsGroup', String(sent.length), '40000']);
  assert.equal(received.length, sent.length);
  const byId = new Map(received.map((r) => [r.uniqKey, r]));
  for (const s of sent) {
    const r = byId.get(s.id);
    assert.ok(r, `message ${s.id} reached ali-ons with its id as UNIQ_KEY`);
    assert.equal(r.tag, s.i % 2 === 0 ? 'TagA' : 'TagB');
    assert.equal(r.keys, `v5-key-${s.i}`);
    assert.equal(r.props['index'], String(s.i));
    assert.equal(r.props['color'], s.i % 3 === 0 ? 'red' : 'blue');
    assert.equal(r.bodySha256, sha256(mixedBody(s.i)));
  }
});

test('a GZIP body sent over gRPC reaches ali-ons and a 5.x consumer as it was before compression', async () => {
  const topic = 'MixedGzip';
  await createTopic(h, topic);
  const plain = mixedBody(0);
  const messageId = `01${randomBytes(16).toString('hex').toUpperCase()}`;
  const raw = new RawClient(h.endpoints);
  try {
    const res = await raw.call<{ status: { code: string; message: string } }>('SendMessage', {
      messages: [
        {
          topic: { name: topic },
          userProperties: { origin: 'gzip' },
          systemProperties: {
            tag: 'TagZ',
            keys: ['gz-key'],
            messageId,
            bodyEncoding: 'GZIP',
            messageType: 'NORMAL',
            bornTimestamp: { seconds: Math.floor(Date.now() / 1000), nanos: 0 },
            bornHost: '127.0.0.1',
          },
          body: gzipSync(plain),
        },
      ],
    });
    assert.equal(res.status.code, 'OK', res.status.message);
  } finally {
    raw.close();
  }
  const { received } = await onsDriver<{
    received: Array<{ uniqKey?: string; tag: string; keys: string; props: Record<string, string>; bodySha256: string }>;
  }>(['consume', h.namesrvAddr, topic, 'MixedGzipOns', '1', '40000']);
  assert.equal(received.length, 1);
  assert.equal(received[0]?.uniqKey, messageId);
  assert.equal(received[0]?.bodySha256, sha256(plain), 'ali-ons inflated the body');
  assert.equal(received[0]?.props['origin'], 'gzip');
  const c = new SimpleConsumer({
    ...clientOptions(h.endpoints),
    consumerGroup: 'MixedGzipV5',
    subscriptions: new Map([[topic, '*']]),
    awaitDuration: 2000,
  });
  await c.startup();
  const got: MessageView[] = [];
  try {
    await until(
      () => got.length >= 1,
      async () => got.push(...(await c.receive(4, 10_000))),
      30_000,
      'the gzip message',
    );
    await c.ack(got[0] as MessageView);
  } finally {
    await c.shutdown();
  }
  assert.equal(got[0]?.messageId, messageId);
  assert.equal(sha256(got[0]?.body ?? Buffer.alloc(0)), sha256(plain));
});
