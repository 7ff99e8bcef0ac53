/**
 * SimpleConsumer over two brokers: receive() takes the topic's brokers in turn, each ack goes to the broker its
 * handle names, and a FIFO message not acked in time comes back first with deliveryAttempt 2.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsumeFromWhere, type PoppedMessage, Producer, SimpleConsumer } from '../../src/client/index.js';
import { startCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster;
let producer: Producer;
const started: SimpleConsumer[] = [];

before(async () => {
  cluster = await startCluster(2);
  producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_simple_brokers' });
  await producer.start();
});

after(async () => {
  for (const c of started) await c.shutdown();
  await producer.shutdown();
  await cluster.close();
});

async function consumer(group: string, topic: string, fifo = false): Promise<SimpleConsumer> {
  const c = new SimpleConsumer({
    nameServer: cluster.nameServer,
    group,
    subscriptions: { [topic]: '*' },
    awaitDurationMs: 500,
    invisibleDurationMs: 20_000,
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    fifo,
  });
  await c.start();
  started.push(c);
  return c;
}

test('messages of both brokers are received, and each ack reaches its broker', async () => {
  const topic = 'E2E_SimpleTwoBrokers';
  await cluster.createTopic(topic, 2);
  // One at a time: concurrent sends would share one automatic batch, on one broker.
  const sent = [];
  for (let i = 0; i < 40; i++) sent.push(await producer.send({ topic, body: `b${i}` }));
  assert.equal(new Set(sent.map((r) => r.messageQueue.brokerName)).size, 2, 'the producer used both brokers');
  const c = await consumer('cg_simple_two_brokers', topic);
  const got: PoppedMessage[] = [];
  const deadline = Date.now() + 30_000;
  while (got.length < 40 && Date.now() < deadline) {
    const msgs = await c.receive(32);
    got.push(...msgs);
    await Promise.all(msgs.map((m) => c.ack(m)));
  }
  assert.equal(new Set(got.map((m) => m.body.toString())).size, 40);
  assert.deepEqual(new Set(got.map((m) => m.brokerName)), new Set(['broker-a', 'broker-b']));
  for (let i = 0; i < 4; i++) assert.deepEqual(await c.receive(32, 1000), [], 'all acked on both brokers');
});

test('FIFO: a message not acked in time comes back first, with deliveryAttempt 2', async () => {
  const topic = 'E2E_SimpleFifoRedeliver';
  await cluster.createTopic(topic, 1);
  for (let i = 0; i < 3; i++) await producer.send({ topic, body: `f${i}`, messageGroup: 'g' });
  const c = await consumer('cg_simple_fifo_redeliver', topic, true);
  const first: PoppedMessage[] = [];
  const deadline = Date.now() + 30_000;
  while (first.length === 0 && Date.now() < deadline) first.push(...(await c.receive(1, 1000)));
  assert.equal(first[0]?.body.toString(), 'f0');
  assert.equal(first[0]?.deliveryAttempt, 1);
  const again: PoppedMessage[] = [];
  while (again.length === 0 && Date.now() < deadline) again.push(...(await c.receive(1, 20_000)));
  assert.equal(again[0]?.body.toString(), 'f0', 'the unacked message first, not the next one');
  assert.equal(again[0]?.deliveryAttempt, 2);
  await c.ack(again[0] as PoppedMessage);
  const rest: string[] = [];
  while (rest.length < 2 && Date.now() < deadline) {
    for (const m of await c.receive(1)) {
      rest.push(m.body.toString());
      assert.equal(m.deliveryAttempt, 1);
      await c.ack(m);
    }
  }
  assert.deepEqual(rest, ['f1', 'f2']);
});
