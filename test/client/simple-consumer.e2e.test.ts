/**
 * SimpleConsumer against an in-process broker over remoting POP: receive / ack, redelivery after the invisible
 * duration (deliveryAttempt 2), changeInvisibleDuration, tag and SQL92 filters, FIFO message groups over 2 consumers,
 * 4 consumers sharing one queue, timer messages, and the typed refusals.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConsumeFromWhere,
  InvalidReceiptHandleError,
  type PoppedMessage,
  Producer,
  ReceiptHandleExpiredError,
  SimpleConsumer,
  type SimpleConsumerOptions,
  SubscriptionRefusedError,
  TopicNotFoundError,
} from '../../src/client/index.js';
import { startCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster;
let producer: Producer;
const started: SimpleConsumer[] = [];

before(async () => {
  cluster = await startCluster(1, { enablePropertyFilter: true });
  producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_simple' });
  await producer.start();
});

after(async () => {
  for (const c of started) await c.shutdown();
  await producer.shutdown();
  await cluster.close();
});

async function consumer(over: Partial<SimpleConsumerOptions> & { group: string }): Promise<SimpleConsumer> {
  const c = new SimpleConsumer({
    nameServer: cluster.nameServer,
    awaitDurationMs: 1000,
    invisibleDurationMs: 20_000,
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    ...over,
  });
  await c.start();
  started.push(c);
  return c;
}

/** Receives until `count` messages came or `timeoutMs` passed. */
async function receiveN(c: SimpleConsumer, count: number, timeoutMs = 20_000, invisibleMs?: number) {
  const out: PoppedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) out.push(...(await c.receive(32, invisibleMs)));
  return out;
}

const bodies = (msgs: readonly PoppedMessage[]) => msgs.map((m) => m.body.toString()).sort();

test('receive with a tag filter, ack, and nothing comes back', async () => {
  const topic = 'E2E_SimpleTag';
  await cluster.createTopic(topic, 2);
  for (let i = 0; i < 6; i++) await producer.send({ topic, body: `t${i}`, tags: i % 2 === 0 ? 'A' : 'B' });
  const c = await consumer({ group: 'cg_simple_tag', subscriptions: { [topic]: 'A' } });
  // A body over 4 KiB travels zlib-compressed and is received inflated.
  const big = 't6'.padEnd(10_000, 'x');
  await producer.send({ topic, body: big, tags: 'A' });
  const got = await receiveN(c, 4);
  assert.deepEqual(bodies(got), ['t0', 't2', 't4', big]);
  for (const m of got) {
    assert.equal(m.topic, topic);
    assert.equal(m.tags, 'A');
    assert.equal(m.deliveryAttempt, 1);
    assert.match(m.msgId, /^[0-9A-F]{32}$/);
    await c.ack(m);
  }
  assert.deepEqual(await c.receive(32, 1000), [], 'nothing more for tag A');
});

test("tags sharing a hash ('Aa', 'BB'): only the subscribed one is received, the other never comes back", async () => {
  const topic = 'E2E_SimpleTagHash';
  await cluster.createTopic(topic, 1);
  await producer.send({ topic, body: 'bb', tags: 'BB' });
  await producer.send({ topic, body: 'aa', tags: 'Aa' });
  const c = await consumer({ group: 'cg_simple_tag_hash', subscriptions: { [topic]: 'Aa' } });
  // 3 s of invisibility: room for the acks on a loaded machine.
  const got = await receiveN(c, 1, 20_000, 3000);
  assert.deepEqual(bodies(got), ['aa']);
  await c.ack(got[0] as PoppedMessage);
  // The broker filters on the hash: 'bb' reached the client, which acked it away. Had it not, 'bb' would be back
  // after its 3 s, for a member of the group that asks for BB.
  const other = await consumer({ group: 'cg_simple_tag_hash', subscriptions: { [topic]: 'BB' } });
  assert.deepEqual(bodies(await receiveN(other, 1, 6000, 1000)), []);
});

test('a SQL92 filter receives the matching messages; a bad expression fails start()', async () => {
  const topic = 'E2E_SimpleSql';
  await cluster.createTopic(topic, 2);
  for (let i = 0; i < 6; i++) await producer.send({ topic, body: `q${i}`, properties: { n: String(i) } });
  const c = await consumer({ group: 'cg_simple_sql', subscriptions: { [topic]: { sql: 'n >= 3' } } });
  const got = await receiveN(c, 3);
  assert.deepEqual(bodies(got), ['q3', 'q4', 'q5']);
  await Promise.all(got.map((m) => c.ack(m)));
  assert.deepEqual(await c.receive(32, 1000), []);
  const bad = new SimpleConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_simple_sql_bad',
    subscriptions: { [topic]: { sql: 'n >>= 3' } },
  });
  await assert.rejects(bad.start(), SubscriptionRefusedError);
});

test('an unacked message comes back after its invisible duration with deliveryAttempt 2; an acked one never', async () => {
  const topic = 'E2E_SimpleRedeliver';
  await cluster.createTopic(topic, 1);
  await producer.send({ topic, body: 'keep' });
  await producer.send({ topic, body: 'drop' });
  const c = await consumer({ group: 'cg_simple_redeliver', subscriptions: { [topic]: '*' } });
  // 3 s: room for the ack of 'keep' on a loaded machine.
  const first = await receiveN(c, 2, 20_000, 3000);
  assert.deepEqual(bodies(first), ['drop', 'keep']);
  await c.ack(first.find((m) => m.body.toString() === 'keep') as PoppedMessage);
  const again = await receiveN(c, 1, 30_000, 10_000);
  assert.deepEqual(bodies(again), ['drop']);
  const [m] = again as [PoppedMessage];
  assert.equal(m.deliveryAttempt, 2);
  assert.equal(m.topic, topic, 'the original topic, not the retry topic');
  await c.ack(m);
  // The first delivery's handle is spent: too late for it.
  const old = first.find((x) => x.body.toString() === 'drop') as PoppedMessage;
  await assert.rejects(c.ack(old), ReceiptHandleExpiredError);
  assert.deepEqual(await c.receive(32, 1000), [], 'acked messages stay acked');
});

test('ack(messages): acked ones never come back, an expired one is named as failed, the rest come back', async () => {
  const topic = 'E2E_SimpleBatchAck';
  await cluster.createTopic(topic, 1);
  for (let i = 0; i < 6; i++) await producer.send({ topic, body: `b${i}` });
  const c = await consumer({ group: 'cg_simple_batch_ack', subscriptions: { [topic]: '*' } });
  const first = await receiveN(c, 6, 20_000, 4000);
  assert.deepEqual(bodies(first), ['b0', 'b1', 'b2', 'b3', 'b4', 'b5']);
  const byBody = (b: string) => first.find((m) => m.body.toString() === b) as PoppedMessage;
  await c.ack(byBody('b0'));
  // b0 is spent already: the batch acks b1 and b2 and says b0 failed.
  const r = await c.ack([byBody('b0'), byBody('b1'), byBody('b2')]);
  assert.deepEqual(bodies(r.acked), ['b1', 'b2']);
  assert.equal(r.failed.length, 1);
  assert.equal(r.failed[0]?.message.body.toString(), 'b0');
  assert.ok(r.failed[0]?.error instanceof ReceiptHandleExpiredError);
  // Single acks in one turn go out as one batch: each settles on its own.
  await Promise.all([c.ack(byBody('b3')), c.ack(byBody('b4'))]);
  const again = await receiveN(c, 1, 30_000, 10_000);
  assert.deepEqual(bodies(again), ['b5']);
  assert.equal((again[0] as PoppedMessage).deliveryAttempt, 2);
  assert.deepEqual(await c.ack(again), { acked: again, failed: [] });
  assert.deepEqual(await c.receive(32, 1000), [], 'acked messages stay acked');
});

test('changeInvisibleDuration extends a message, replaces its handle, and the new handle acks it', async () => {
  const topic = 'E2E_SimpleChange';
  await cluster.createTopic(topic, 1);
  await producer.send({ topic, body: 'long work' });
  const c = await consumer({ group: 'cg_simple_change', subscriptions: { [topic]: '*' } });
  const [m] = (await receiveN(c, 1, 20_000, 3000)) as [PoppedMessage];
  const before = m.receiptHandle;
  await c.changeInvisibleDuration(m, 20_000);
  assert.notEqual(m.receiptHandle, before);
  await sleep(4000);
  assert.deepEqual(await c.receive(32, 1000), [], 'still invisible past the first duration');
  await c.ack(m);
});

test('changeInvisibleDuration to a short time brings the message back sooner', async () => {
  const topic = 'E2E_SimpleChangeShort';
  await cluster.createTopic(topic, 1);
  await producer.send({ topic, body: 'retry soon' });
  const c = await consumer({ group: 'cg_simple_change_short', subscriptions: { [topic]: '*' } });
  const [m] = (await receiveN(c, 1, 20_000, 60_000)) as [PoppedMessage];
  await c.changeInvisibleDuration(m, 1000);
  const [back] = (await receiveN(c, 1, 30_000)) as [PoppedMessage];
  assert.equal(back.body.toString(), 'retry soon');
  assert.equal(back.deliveryAttempt, 2);
  await c.ack(back);
});

test('FIFO: 2 consumers get each message group in send order, the next only after the previous is acked', async () => {
  const topic = 'E2E_SimpleFifo';
  await cluster.createTopic(topic, 2);
  const groups = ['ga', 'gb', 'gc', 'gd'];
  const perGroup = 6;
  for (let i = 0; i < perGroup; i++) {
    for (const g of groups) await producer.send({ topic, body: `${g}:${i}`, messageGroup: g });
  }
  const opts = { group: 'cg_simple_fifo', subscriptions: { [topic]: '*' }, fifo: true, invisibleDurationMs: 20_000 };
  const consumers = [await consumer(opts), await consumer(opts)];
  const order = new Map<string, number[]>(groups.map((g) => [g, []]));
  const inFlight = new Set<string>();
  const violations: string[] = [];
  let done = 0;
  const deadline = Date.now() + 40_000;
  await Promise.all(
    consumers.map(async (c) => {
      while (done < groups.length * perGroup && Date.now() < deadline) {
        for (const m of await c.receive(4)) {
          const [g, n] = m.body.toString().split(':') as [string, string];
          if (inFlight.has(g)) violations.push(`${m.body} received while an earlier ${g} message was unacked`);
          inFlight.add(g);
          await sleep(20);
          order.get(g)?.push(Number(n));
          inFlight.delete(g);
          await c.ack(m);
          done++;
        }
      }
    }),
  );
  assert.deepEqual(violations, []);
  for (const g of groups) assert.deepEqual(order.get(g), [0, 1, 2, 3, 4, 5], `group ${g} in order, each once`);
});

test('4 consumers sharing one queue get disjoint messages and all of them', async () => {
  const topic = 'E2E_SimpleShared';
  await cluster.createTopic(topic, 1);
  const total = 200;
  await Promise.all(Array.from({ length: total }, (_, i) => producer.send({ topic, body: `s${i}` })));
  const opts = { group: 'cg_simple_shared', subscriptions: { [topic]: '*' } };
  const consumers = [await consumer(opts), await consumer(opts), await consumer(opts), await consumer(opts)];
  const seen = consumers.map(() => [] as string[]);
  let count = 0;
  const deadline = Date.now() + 40_000;
  await Promise.all(
    consumers.map(async (c, i) => {
      while (count < total && Date.now() < deadline) {
        const msgs = await c.receive(8);
        count += msgs.length;
        for (const m of msgs) seen[i]?.push(m.body.toString());
        await Promise.all(msgs.map((m) => c.ack(m)));
      }
    }),
  );
  const all = seen.flat();
  assert.equal(all.length, total, 'no message twice');
  assert.equal(new Set(all).size, total, 'every message once');
  assert.ok(seen.filter((s) => s.length > 0).length >= 2, `the queue was shared: ${seen.map((s) => s.length)}`);
});

test('a timer message is received only from its delivery time', async () => {
  const topic = 'E2E_SimpleTimer';
  await cluster.createTopic(topic, 1);
  const c = await consumer({ group: 'cg_simple_timer', subscriptions: { [topic]: '*' } });
  const deliverTimeMs = Date.now() + 3000;
  await producer.send({ topic, body: 'later', deliverTimeMs });
  const [m] = (await receiveN(c, 1, 20_000)) as [PoppedMessage];
  assert.equal(m.body.toString(), 'later');
  // The timer fires within its precision (1 s by default) of the delivery time, never before it.
  assert.ok(Date.now() >= deliverTimeMs - 1000, `received ${deliverTimeMs - Date.now()} ms early`);
  await c.ack(m);
});

test('a handle the broker cannot read is an InvalidReceiptHandleError; a forged one for nothing popped expires', async () => {
  const topic = 'E2E_SimpleForged';
  await cluster.createTopic(topic, 1);
  const c = await consumer({ group: 'cg_simple_forged', subscriptions: { [topic]: '*' } });
  const forged = (receiptHandle: string) => ({ topic, msgId: 'FORGED', receiptHandle }) as PoppedMessage;
  // Retry mark 2 (RocketMQ's v2 retry topic) reads on the client, but this broker knows only 0 and 1.
  await assert.rejects(c.ack(forged(`0 ${Date.now()} 60000 0 2 broker-a 0 0`)), InvalidReceiptHandleError);
  await assert.rejects(c.ack(forged(`0 ${Date.now()} 60000 0 0 broker-a 0 0`)), ReceiptHandleExpiredError);
  await assert.rejects(
    c.changeInvisibleDuration(forged(`0 ${Date.now()} 60000 0 0 broker-a 0 0`), 5000),
    ReceiptHandleExpiredError,
  );
});

test('shutdown() while a receive() waits: the receive returns empty at once', async () => {
  const topic = 'E2E_SimpleShutdown';
  await cluster.createTopic(topic, 1);
  const c = new SimpleConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_simple_shutdown',
    subscriptions: { [topic]: '*' },
    awaitDurationMs: 15_000,
  });
  await c.start();
  const waiting = c.receive(8);
  await sleep(200);
  const t0 = Date.now();
  await c.shutdown();
  assert.deepEqual(await waiting, []);
  assert.ok(Date.now() - t0 < 5000, 'not held until the poll time');
  await assert.rejects(c.receive(8), /not started/);
});

test('a topic no NameServer knows fails start() with TopicNotFoundError', async () => {
  const c = new SimpleConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_simple_missing',
    subscriptions: { E2E_NoSuchTopic: '*' },
  });
  await assert.rejects(c.start(), TopicNotFoundError);
});
