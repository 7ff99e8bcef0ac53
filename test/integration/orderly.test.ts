/**
 * Orderly consumption over real processes: orderly consumer processes joining and leaving while 3 sharding
 * keys × 1,000 messages flow (per key strictly in order, nothing skipped; duplicates after a hand-over are
 * counted), and a failing message retried locally without letting later messages of its queue pass.
 * The one-queue (global order) and per-key scope runs are in orderly-scopes.test.ts.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer } from '../../src/client/producer.js';
import { dlqTopicOf } from '../../src/common/topics.js';
import { cleanups, deliveries, joinAndLeave, spawnOrderly, startOnce } from './orderly-run.js';
import { createTopic, stopAll } from './procs.js';

after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

test('3 keys × 1,000 messages, 4 orderly consumers joining and leaving: per key in order, nothing skipped', async (t) => {
  const all = await joinAndLeave(t, { topic: 'ItOrderly', queues: 4, scope: 'queue', perKey: 1000 });
  assert.ok(new Set(all.map((d) => d.by)).size >= 3, 'queues changed hands more than once');
});

test('a failing message is retried locally in order; past maxReconsumeTimes it goes to the DLQ', async () => {
  const { nameServer, brokerAddr } = await startOnce();
  const topic = 'ItOrderlyRetry';
  const group = 'GID_it_orderly_retry';
  await createTopic(nameServer, brokerAddr, topic, 1);
  const worker = spawnOrderly('retry', {
    nameServer,
    topic,
    group,
    maxReconsumeTimes: 3,
    failures: { 'R:5': 2, 'R:12': -1 },
  });
  await worker.until(() => worker.eventsOf('started').length > 0, 'started');
  const producer = new Producer({ nameServer, group: 'PID_it_orderly_retry', clientIp: '127.0.0.1' });
  await producer.start();
  try {
    for (let s = 0; s < 20; s++) await producer.send({ topic, body: `R:${s}` }, { shardingKey: 'R' });
  } finally {
    await producer.shutdown();
  }
  await worker.until(() => deliveries([worker]).some((d) => d.s === 19), 'R:19 consumed', 30_000);
  const seq = deliveries([worker]).map((d) => `${d.s}/${d.r}`);
  const expected = [...Array(20).keys()].flatMap((s) =>
    s === 5 ? ['5/0', '5/1', '5/2'] : s === 12 ? ['12/0', '12/1', '12/2', '12/3'] : [`${s}/0`],
  );
  assert.deepEqual(seq, expected);
  const admin = new Admin({ nameServer, timeoutMs: 5000 });
  try {
    const dlqCount = async () => {
      const stats = await admin.topicStatus(dlqTopicOf(group)).catch(() => []);
      return stats.reduce((n, q) => n + q.maxOffset - q.minOffset, 0);
    };
    let inDlq = 0;
    const deadline = Date.now() + 15_000;
    while (inDlq === 0 && Date.now() < deadline) {
      inDlq = await dlqCount();
      if (inDlq === 0) await sleep(200);
    }
    assert.equal(inDlq, 1, 'R:12 stored in the DLQ');
  } finally {
    await admin.close();
  }
});
