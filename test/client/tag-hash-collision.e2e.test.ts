/**
 * The broker filters by tag hash (Java String.hashCode); "Aa" and "BB" share one (2112), so the broker hands both to
 * an "Aa" subscription and the client drops the "BB" by its exact tag, as RocketMQ's client does — and the
 * group's offset still moves past it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer, PullConsumer, PushConsumer, type ReceivedMessage } from '../../src/client/index.js';
import { javaStringHashCode } from '../../src/common/hash.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;
let producer: Producer;
let admin: Admin;

before(async () => {
  cluster = await startCluster(1);
  producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_collide' });
  await producer.start();
  admin = new Admin({ nameServer: cluster.nameServer });
});

after(async () => {
  await admin.close();
  await producer.shutdown();
  await cluster.close();
});

async function sendColliding(topic: string): Promise<void> {
  await cluster.createTopic(topic, 1);
  for (const tags of ['Aa', 'BB', 'Aa', 'BB', 'Cc']) await producer.send({ topic, body: `${tags}`, tags });
}

test('the two tags really share one hash (the premise of this file)', () => {
  assert.equal(javaStringHashCode('Aa'), javaStringHashCode('BB'));
  assert.notEqual(javaStringHashCode('Aa'), javaStringHashCode('Cc'));
});

test('push consumer: a colliding tag is dropped on the client and the offset moves past it', async () => {
  const topic = 'E2E_TagCollidePush';
  await sendColliding(topic);
  const got: ReceivedMessage[] = [];
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_collide_push',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    persistOffsetIntervalMs: 200,
  });
  consumer.subscribe(topic, 'Aa').onMessage((msg) => {
    got.push(msg);
  });
  await consumer.start();
  try {
    await waitFor(() => got.length === 2, 'both Aa messages');
    await waitFor(async () => (await admin.consumerProgress('cg_collide_push', topic)).lagTotal === 0, 'lag 0', 8000);
    assert.deepEqual(
      got.map((m) => m.tags),
      ['Aa', 'Aa'],
    );
  } finally {
    await consumer.shutdown();
  }
});

test('pull consumer: the same exact-tag check', async () => {
  const topic = 'E2E_TagCollidePull';
  await sendColliding(topic);
  const consumer = new PullConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_collide_pull',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  });
  await consumer.subscribe(topic, 'Aa');
  await consumer.start();
  try {
    const got: ReceivedMessage[] = [];
    await waitFor(async () => {
      got.push(...(await consumer.poll(500)));
      return got.length >= 2;
    }, 'both Aa messages');
    got.push(...(await consumer.poll(500)));
    assert.deepEqual(
      got.map((m) => m.tags),
      ['Aa', 'Aa'],
    );
  } finally {
    await consumer.shutdown();
  }
});
