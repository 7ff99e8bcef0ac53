/**
 * Offsets move past messages a subscription filters out: with 1 TagA and 5 TagB and a `TagA` subscription,
 * the group's lag (consumerProgress, GET_CONSUME_STATS over TCP) reaches 0 once the TagA is consumed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer, PullConsumer, PushConsumer, type ReceivedMessage } from '../../src/client/index.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;
let producer: Producer;
let admin: Admin;

before(async () => {
  cluster = await startCluster(1);
  producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_filtered' });
  await producer.start();
  admin = new Admin({ nameServer: cluster.nameServer });
});

after(async () => {
  await admin.close();
  await producer.shutdown();
  await cluster.close();
});

async function sendOneTagAFiveTagB(topic: string): Promise<void> {
  await cluster.createTopic(topic, 1);
  await producer.send({ topic, body: 'a', tags: 'TagA' });
  for (let i = 0; i < 5; i++) await producer.send({ topic, body: `b${i}`, tags: 'TagB' });
}

/** Well below the broker's 15 s long-poll hold: the offset must not wait for an empty poll to time out. */
const lagZeroWithinMs = 6000;

async function lagOf(group: string, topic: string): Promise<number> {
  return (await admin.consumerProgress(group, topic)).lagTotal;
}

test('push consumer: lag reaches 0 after the only matching message is consumed', async () => {
  const topic = 'E2E_FilteredPush';
  await sendOneTagAFiveTagB(topic);
  const got: ReceivedMessage[] = [];
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_filtered_push',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    persistOffsetIntervalMs: 200,
  });
  consumer.subscribe(topic, 'TagA').onMessage((msg) => {
    got.push(msg);
  });
  await consumer.start();
  try {
    await waitFor(() => got.length === 1, 'the TagA message');
    await waitFor(async () => (await lagOf('cg_filtered_push', topic)) === 0, 'lag 0', lagZeroWithinMs);
    const progress = await admin.consumerProgress('cg_filtered_push', topic);
    assert.equal(progress.consumerOffsetTotal, 6);
    assert.deepEqual(
      got.map((m) => m.body.toString()),
      ['a'],
    );
  } finally {
    await consumer.shutdown();
  }
});

// A held poll wakes only for a matching message (as RocketMQ's); when its hold ends, the filtered range comes back
// as no-match (PULL_RETRY_IMMEDIATELY) with the next begin offset, which the consumer commits.
test('push consumer: TagB sent after the TagA is consumed moves the offset when the hold ends', async () => {
  const topic = 'E2E_FilteredPushLater';
  await cluster.createTopic(topic, 1);
  const got: ReceivedMessage[] = [];
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_filtered_later',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    persistOffsetIntervalMs: 200,
    suspendTimeoutMs: 1000,
  });
  consumer.subscribe(topic, 'TagA').onMessage((msg) => {
    got.push(msg);
  });
  await consumer.start();
  try {
    await producer.send({ topic, body: 'a', tags: 'TagA' });
    await waitFor(() => got.length === 1, 'the TagA message');
    for (let i = 0; i < 5; i++) await producer.send({ topic, body: `b${i}`, tags: 'TagB' });
    await waitFor(async () => (await lagOf('cg_filtered_later', topic)) === 0, 'lag 0', lagZeroWithinMs);
  } finally {
    await consumer.shutdown();
  }
});

test('pull consumer: commit stores the offset past filtered messages', async () => {
  const topic = 'E2E_FilteredPull';
  await sendOneTagAFiveTagB(topic);
  const consumer = new PullConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_filtered_pull',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    autoCommit: false,
  });
  await consumer.subscribe(topic, 'TagA');
  await consumer.start();
  try {
    const got: ReceivedMessage[] = [];
    await waitFor(async () => {
      got.push(...(await consumer.poll(200)));
      return got.length >= 1;
    }, 'the TagA message');
    assert.deepEqual(
      got.map((m) => m.body.toString()),
      ['a'],
    );
    await waitFor(
      async () => {
        await consumer.poll(100);
        await consumer.commit();
        return (await lagOf('cg_filtered_pull', topic)) === 0;
      },
      'lag 0',
      lagZeroWithinMs,
    );
  } finally {
    await consumer.shutdown();
  }
});
