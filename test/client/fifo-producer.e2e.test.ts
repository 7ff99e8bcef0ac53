/**
 * The producer's FIFO messages against an in-process broker: one message group lands on one queue, in send
 * order, each message carrying its group as __SHARDINGKEY; groups spread over the queues by their hash.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Producer, PullConsumer, type ReceivedMessage, selectByHash } from '../../src/client/index.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;
let producer: Producer;

before(async () => {
  cluster = await startCluster(1);
  producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_fifo' });
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await cluster.close();
});

test('a message group keeps to the queue of its hash, in send order, with __SHARDINGKEY', async () => {
  const topic = 'E2E_FifoProduce';
  await cluster.createTopic(topic, 8);
  const groups = ['g-a', 'g-b', 'g-c', 'g-d', 'g-e'];
  // Concurrent sends of different groups: each group's own sends are awaited one after another.
  const results = await Promise.all(
    groups.map(async (messageGroup) => {
      const out = [];
      for (let i = 0; i < 10; i++) out.push(await producer.send({ topic, body: `${messageGroup}:${i}`, messageGroup }));
      return out;
    }),
  );
  const queues = [0, 1, 2, 3, 4, 5, 6, 7].map((queueId) => ({ topic, brokerName: 'broker-a', queueId }));
  for (const [g, rs] of results.entries()) {
    const group = groups[g] as string;
    const expected = selectByHash(queues, { topic, body: '' }, group).queueId;
    assert.deepEqual(new Set(rs.map((r) => r.messageQueue.queueId)), new Set([expected]), `${group} on one queue`);
    const offsets = rs.map((r) => r.queueOffset);
    assert.deepEqual(
      offsets,
      [...offsets].sort((a, b) => (a < b ? -1 : 1)),
      `${group} in send order`,
    );
  }
  assert.ok(new Set(results.map((rs) => rs[0]?.messageQueue.queueId)).size > 1, 'groups spread over queues');

  const consumer = new PullConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_fifo_produce',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    autoCommit: false,
  });
  await consumer.start();
  try {
    await consumer.assign(await consumer.fetchMessageQueues(topic));
    const got: ReceivedMessage[] = [];
    await waitFor(async () => {
      got.push(...(await consumer.poll(200)));
      return got.length >= 50;
    }, '50 messages');
    for (const m of got) assert.equal(m.properties.get('__SHARDINGKEY'), m.body.toString().split(':')[0]);
  } finally {
    await consumer.shutdown();
  }
});

test('a FIFO message is never folded into an automatic batch with plain ones', async () => {
  const topic = 'E2E_FifoNoBatch';
  await cluster.createTopic(topic, 8);
  // Sent in one turn: the plain ones may share a batch, the grouped ones must each go to their group's queue.
  const sends = [];
  for (let i = 0; i < 8; i++) sends.push(producer.send({ topic, body: `plain${i}` }));
  for (let i = 0; i < 8; i++) sends.push(producer.send({ topic, body: `fifo${i}`, messageGroup: 'only-group' }));
  const rs = await Promise.all(sends);
  assert.equal(new Set(rs.slice(8).map((r) => r.messageQueue.queueId)).size, 1);
});
