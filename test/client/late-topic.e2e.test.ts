/**
 * A push consumer started before its topic exists: the route is polled quickly until it appears (not only on
 * the 30 s NameServer poll), and the wait is not reported as "no consumer of group … is connected".
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Producer, PushConsumer } from '../../src/index.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;

before(async () => {
  cluster = await startCluster(1);
});

after(async () => {
  await cluster.close();
});

test('a consumer started before its topic exists consumes within seconds of the topic appearing', async () => {
  const warnings: string[] = [];
  const keep = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    warnings.push(`${level} ${msg} ${String(fields?.['err'] ?? '')}`);
  };
  const logger = { debug: () => {}, info: () => {}, warn: keep('warn'), error: keep('error') };
  const received: string[] = [];
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_late_topic',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    logger,
  });
  consumer.subscribe('Late_Topic').onMessage((msg) => {
    received.push(msg.body.toString());
  });
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_late_topic' });
  try {
    await consumer.start();
    assert.deepEqual(consumer.assignedQueues(), [], 'no queues while the topic does not exist');
    // Longer than the start-up route wait, so only a later route refresh can find the topic.
    await new Promise((r) => setTimeout(r, 1500));
    await cluster.createTopic('Late_Topic', 2);
    await producer.start();
    const sentAt = Date.now();
    await producer.send({ topic: 'Late_Topic', body: 'first' });
    // RocketMQ's default route poll is 30 s; the fast poll must find the topic well before that.
    await waitFor(() => received.includes('first'), 'message on the late topic consumed', 8000);
    assert.ok(Date.now() - sentAt < 8000);
    assert.deepEqual(
      warnings.filter((w) => /no consumer of group/.test(w)),
      [],
      'waiting for a route is not reported as a missing consumer',
    );
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
  }
});
