/**
 * Our consumers apply a broker's RESET_CONSUMER_CLIENT_OFFSET (220) themselves: with pulls held for 20 s (so the
 * broker's PULL_OFFSET_MOVED fallback could not act before then), a PushConsumer and a PullConsumer re-read from the
 * reset offset within a few seconds of Admin.resetOffsetByTime, and get exactly the messages stored after the time.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '../../src/client/admin/admin.js';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PullConsumer } from '../../src/client/pull-consumer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

const heldPullMs = 20_000;
/** Well below heldPullMs: only the pushed reset can move the consumer this soon. */
const appliedWithinMs = 8_000;
let cluster: TestCluster;
let producer: Producer;
let admin: Admin;

before(async () => {
  cluster = await startCluster(1);
  producer = new Producer({ nameServer: cluster.nameServer, group: 'reset_e2e_producer' });
  await producer.start();
  admin = new Admin({ nameServer: cluster.nameServer });
});
after(async () => {
  await producer.shutdown();
  await admin.close();
  await cluster.close();
});

/** Sends 0..9, notes the time, sends 10..19; returns the time. */
async function sendAroundTime(topic: string): Promise<number> {
  await cluster.createTopic(topic, 2);
  for (let i = 0; i < 10; i++) await producer.send({ topic, body: String(i) });
  await sleep(10);
  const t = Date.now();
  await sleep(10);
  for (let i = 10; i < 20; i++) await producer.send({ topic, body: String(i) });
  return t;
}

test('PushConsumer: reset to a time is applied from the push, not after the held pull', async () => {
  const topic = 'ResetPushE2E';
  const t = await sendAroundTime(topic);
  const seen: number[] = [];
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'reset_e2e_push',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    suspendTimeoutMs: heldPullMs,
    handler: (m) => {
      seen.push(Number(m.body.toString()));
    },
  }).subscribe(topic);
  await consumer.start();
  try {
    await waitFor(() => seen.length === 20, 'all 20 consumed');
    await sleep(200); // the pulls that follow are held
    await admin.resetOffsetByTime('reset_e2e_push', topic, t);
    await waitFor(() => seen.length >= 30, 'the 10 messages after the time again', appliedWithinMs);
    assert.deepEqual(
      seen.slice(20).sort((a, b) => a - b),
      Array.from({ length: 10 }, (_, i) => 10 + i),
    );
  } finally {
    await consumer.shutdown();
  }
});

test('PullConsumer: reset to a time seeks its queues and commits the new offsets', async () => {
  const topic = 'ResetPullE2E';
  const t = await sendAroundTime(topic);
  const consumer = new PullConsumer({
    nameServer: cluster.nameServer,
    group: 'reset_e2e_pull',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    suspendTimeoutMs: heldPullMs,
  });
  consumer.subscribe(topic);
  await consumer.start();
  try {
    const first: number[] = [];
    while (first.length < 20) for (const m of await consumer.poll(5000)) first.push(Number(m.body.toString()));
    await sleep(200);
    await admin.resetOffsetByTime('reset_e2e_pull', topic, t);
    const again: number[] = [];
    const deadline = Date.now() + appliedWithinMs;
    while (again.length < 10 && Date.now() < deadline) {
      for (const m of await consumer.poll(500)) again.push(Number(m.body.toString()));
    }
    assert.deepEqual(
      again.sort((a, b) => a - b),
      Array.from({ length: 10 }, (_, i) => 10 + i),
    );
  } finally {
    await consumer.shutdown();
  }
});
