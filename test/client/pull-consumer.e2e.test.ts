import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Producer, PullConsumer, type ReceivedMessage } from '../../src/client/index.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;
let producer: Producer;

before(async () => {
  cluster = await startCluster(1);
  producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_pull' });
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await cluster.close();
});

async function pollUntil(c: PullConsumer, count: number): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  await waitFor(async () => {
    out.push(...(await c.poll(200)));
    return out.length >= count;
  }, `${count} polled messages`);
  return out;
}

test('assign + poll + seek + commit', async () => {
  await cluster.createTopic('E2E_Pull', 1);
  for (let i = 0; i < 6; i++)
    await producer.send({ topic: 'E2E_Pull', body: `p${i}`, tags: i % 2 === 0 ? 'even' : 'odd' });
  const consumer = new PullConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_pull',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    autoCommit: false,
  });
  await consumer.start();
  try {
    const [mq] = await consumer.fetchMessageQueues('E2E_Pull');
    assert.ok(mq);
    await consumer.assign([mq]);
    const first = await pollUntil(consumer, 6);
    assert.deepEqual(
      first.map((m) => m.body.toString()),
      ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'],
    );
    assert.deepEqual(
      first.map((m) => m.queueOffset),
      [0n, 1n, 2n, 3n, 4n, 5n],
    );
    assert.deepEqual(await consumer.poll(100), [], 'nothing more');
    consumer.seek(mq, 4);
    const again = await pollUntil(consumer, 2);
    assert.deepEqual(
      again.map((m) => m.body.toString()),
      ['p4', 'p5'],
    );
    // Nothing committed yet: RocketMQ brokers answer "none" or 0 for a queue whose data is all in memory.
    assert.ok([undefined, 0n].includes(await consumer.committed(mq)), 'nothing committed yet');
    await consumer.commit();
    assert.equal(await consumer.committed(mq), 6n);
    await consumer.seekToBegin(mq);
    assert.equal((await pollUntil(consumer, 1))[0]?.body.toString(), 'p0');
  } finally {
    await consumer.shutdown();
  }
});

test('subscribe with a tag filter and read with for await; auto-commit on shutdown', async () => {
  await cluster.createTopic('E2E_PullSub', 2);
  const consumer = new PullConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_pull_sub',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    autoCommitIntervalMs: 100,
  });
  await consumer.subscribe('E2E_PullSub', 'keep');
  await consumer.start();
  await waitFor(() => consumer.assignment().length === 2, 'both queues assigned');
  for (let i = 0; i < 6; i++)
    await producer.send({ topic: 'E2E_PullSub', body: `s${i}`, tags: i < 4 ? 'keep' : 'drop' });
  const got: string[] = [];
  for await (const msg of consumer) {
    got.push(msg.body.toString());
    if (got.length === 4) break;
  }
  assert.deepEqual(got.sort(), ['s0', 's1', 's2', 's3']);
  await consumer.shutdown();
  // A new member of the group starts after the committed offsets: only new messages arrive.
  await producer.send({ topic: 'E2E_PullSub', body: 'later', tags: 'keep' });
  const next = new PullConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_pull_sub',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  });
  await next.subscribe('E2E_PullSub', 'keep');
  await next.start();
  try {
    const after = await pollUntil(next, 1);
    assert.deepEqual(
      after.map((m) => m.body.toString()),
      ['later'],
    );
  } finally {
    await next.shutdown();
  }
});
