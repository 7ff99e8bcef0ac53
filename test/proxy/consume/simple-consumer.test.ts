/**
 * Apache's Node.js 5.x client (rocketmq-client-nodejs) against the gRPC endpoint: its Producer and SimpleConsumer
 * round trip with a tag filter, and delayed delivery; redelivery after the invisible duration and change of
 * invisible duration with messages from tsrocket's own Producer (remoting), so v4 → v2 translation is exercised too.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type MessageView, SimpleConsumer, Producer as V5Producer } from 'rocketmq-client-nodejs';
import { Producer } from '../../../src/client/producer.js';
import { type GrpcHarness, startGrpcHarness } from '../harness.js';
import { clientOptions, createTopic, until } from './helpers.js';

let h: GrpcHarness;
let producer: Producer;

before(async () => {
  h = await startGrpcHarness();
  producer = new Producer({ nameServer: h.namesrvAddr, group: 'GrpcConsumePG', clientIp: '127.0.0.1' });
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await h.stop();
});

async function v5Producer(topic: string): Promise<V5Producer> {
  const p = new V5Producer({ ...clientOptions(h.endpoints), topics: [topic] });
  await p.startup();
  return p;
}

async function simpleConsumer(group: string, topic: string, filter = '*', awaitDurationMs = 2000) {
  const c = new SimpleConsumer({
    ...clientOptions(h.endpoints),
    consumerGroup: group,
    subscriptions: new Map([[topic, filter]]),
    awaitDuration: awaitDurationMs,
  });
  await c.startup();
  return c;
}

test('round trip with a tag filter: only the tag asked for, with keys, properties and body intact', async () => {
  const topic = 'GrpcTagTopic';
  await createTopic(h, topic);
  const c = await simpleConsumer('GrpcTagGroup', topic, 'TagA');
  const v5 = await v5Producer(topic);
  try {
    const sent = new Map<string, { i: number; tag: string }>();
    for (let i = 0; i < 10; i++) {
      const tag = i % 2 === 0 ? 'TagA' : 'TagB';
      const r = await v5.send({
        topic,
        tag,
        keys: [`key-${i}`, `alt-${i}`],
        body: Buffer.from(`body ${i}`),
        properties: new Map([
          ['color', i % 3 === 0 ? 'red' : 'blue'],
          ['index', String(i)],
        ]),
      });
      sent.set(r.messageId, { i, tag });
    }
    const got = new Map<string, MessageView>();
    await until(
      () => got.size >= 5,
      async () => {
        for (const m of await c.receive(16, 10_000)) {
          got.set(m.messageId, m);
          await c.ack(m);
        }
      },
      30_000,
      'the 5 TagA messages',
    );
    assert.equal(got.size, 5);
    for (const [id, m] of got) {
      const s = sent.get(id);
      assert.ok(s, `received id ${id} was sent`);
      assert.equal(m.tag, 'TagA');
      assert.equal(s.tag, 'TagA');
      assert.equal(m.topic, topic);
      assert.deepEqual(m.keys, [`key-${s.i}`, `alt-${s.i}`]);
      assert.equal(m.body.toString(), `body ${s.i}`);
      assert.equal(m.properties.get('index'), String(s.i));
      assert.equal(m.properties.get('color'), s.i % 3 === 0 ? 'red' : 'blue');
      assert.equal(m.properties.has('UNIQ_KEY'), false, 'system properties stay out of user properties');
      assert.notEqual(m.corrupted, true, 'body digest matches');
      assert.equal(m.deliveryAttempt, 1);
    }
    // Acked and filtered: nothing more comes.
    assert.deepEqual(await c.receive(16, 10_000), []);
  } finally {
    await v5.shutdown();
    await c.shutdown();
  }
});

test('a message not acked comes back after its invisible duration, an acked one never', async () => {
  const topic = 'GrpcRedeliverTopic';
  await createTopic(h, topic, 1);
  const c = await simpleConsumer('GrpcRedeliverGroup', topic);
  try {
    const kept = await producer.send({ topic, body: 'acked' });
    const dropped = await producer.send({ topic, body: 'not acked' });
    const first: MessageView[] = [];
    await until(
      () => first.length >= 2,
      async () => first.push(...(await c.receive(8, 2000))),
      20_000,
      'both',
    );
    const acked = first.find((m) => m.messageId === kept.msgId);
    assert.ok(acked && first.some((m) => m.messageId === dropped.msgId));
    await c.ack(acked);
    const bornMs = Date.now();
    const again: MessageView[] = [];
    await until(
      () => again.length >= 1,
      async () => again.push(...(await c.receive(8, 2000))),
      30_000,
      'redelivery',
    );
    assert.ok(Date.now() - bornMs >= 500, 'not before the invisible time ran out');
    assert.deepEqual(
      again.map((m) => m.messageId),
      [dropped.msgId],
    );
    const back = again[0] as MessageView;
    assert.equal(back.deliveryAttempt, 2);
    assert.equal(back.topic, topic, 'the original topic, not the retry topic');
    assert.equal(back.body.toString(), 'not acked');
    await c.ack(back);
    // Acked now: it stays gone (waiting past another invisible duration).
    assert.deepEqual(await c.receive(8, 2000), []);
    assert.deepEqual(await c.receive(8, 2000), []);
  } finally {
    await c.shutdown();
  }
});

test('changeInvisibleDuration gives a new handle: the old one is refused, the new one acks', async () => {
  const topic = 'GrpcChangeTopic';
  await createTopic(h, topic, 1);
  const c = await simpleConsumer('GrpcChangeGroup', topic);
  try {
    await producer.send({ topic, body: 'changed' });
    const got: MessageView[] = [];
    await until(
      () => got.length >= 1,
      async () => got.push(...(await c.receive(1, 5000))),
      20_000,
      'the message',
    );
    const m = got[0] as MessageView;
    const oldHandle = m.receiptHandle;
    await c.changeInvisibleDuration(m, 20_000);
    assert.notEqual(m.receiptHandle, oldHandle);
    const stale = Object.assign(Object.create(Object.getPrototypeOf(m)), m, { receiptHandle: oldHandle });
    await assert.rejects(c.ack(stale), /receipt handle|INVALID_RECEIPT_HANDLE|40013/i);
    await c.ack(m);
  } finally {
    await c.shutdown();
  }
});

test('delayed delivery: a timer message arrives at its time, typed DELAY with its delivery timestamp', async () => {
  const topic = 'GrpcDelayTopic';
  await createTopic(h, topic, 1);
  const c = await simpleConsumer('GrpcDelayGroup', topic);
  const v5 = await v5Producer(topic);
  try {
    const at = Date.now() + 3000;
    const sent = await v5.send({ topic, body: Buffer.from('later'), deliveryTimestamp: new Date(at) });
    const got: MessageView[] = [];
    await until(
      () => got.length >= 1,
      async () => got.push(...(await c.receive(4, 5000))),
      30_000,
      'the delayed one',
    );
    const receivedMs = Date.now();
    const m = got[0] as MessageView;
    assert.equal(m.messageId, sent.messageId);
    assert.ok(receivedMs >= at - 1000, `delivered ${at - receivedMs} ms early`);
    // The timer fires within its precision (1 s) of the time asked for; the v5 side sees when it fired.
    const firedMs = m.deliveryTimestamp?.getTime() ?? 0;
    assert.ok(firedMs >= at - 1000 && firedMs <= receivedMs, `delivery timestamp ${firedMs - at} ms from ${at}`);
    await c.ack(m);
  } finally {
    await v5.shutdown();
    await c.shutdown();
  }
});
