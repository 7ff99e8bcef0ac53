/**
 * Orderly consumption with Apache's RocketMQ 4.9.8 Java client (Scenarios.java `orderly`): a producer sends 3 keys
 * with SelectMessageQueueByHash, two MessageListenerOrderly consumers of one group hold the queues through
 * LOCK_BATCH_MQ, one leaves halfway (UNLOCK_BATCH_MQ) and the other takes over. Per key the deliveries are one at
 * a time and in order, nothing is skipped; a SUSPEND_CURRENT_QUEUE_A_MOMENT answer is retried locally in place.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MessageQueue } from '../../src/client/message-queue.js';
import { selectByHash } from '../../src/client/queue-selector.js';
import { runJavaScenarios } from './java-client.js';
import { type RunningSystem, startSystem } from './system.js';

let system: RunningSystem | undefined;
before(async () => {
  system = await startSystem();
});
after(() => system?.stop());

interface Delivery {
  k: string;
  s: number;
  by: string;
  r: number;
  ts: number;
  te: number;
}

test('Java MessageListenerOrderly + MessageQueueSelector: per key in order across a hand-over; local suspend and retry', async () => {
  const { nameSrv, dataDir } = system as RunningSystem;
  const run = await runJavaScenarios(nameSrv, dataDir, {
    serializeType: 'JSON',
    suffix: '',
    scenarios: ['orderly'],
    // A rebalance every second (default 20 s): a queue refused while its old owner still holds it is retried soon.
    properties: { 'scenarios.orderly': 'true', 'rocketmq.client.rebalance.waitInterval': '1000' },
  });
  const r = run.results.get('orderly');
  assert.ok(r !== undefined, `no result; JVM log:\n${run.stderr.slice(-4000)}`);
  assert.equal(r['error'], undefined, String(r['error']));
  const perKey = r['perKey'] as number;
  const deliveries = (r['deliveries'] as Delivery[]).slice().sort((a, b) => a.ts - b.ts);

  // Our selector picks the queue Java's SelectMessageQueueByHash picked for each key.
  const queues: MessageQueue[] = [0, 1, 2, 3].map((queueId) => ({ topic: 'JavaOrderly', brokerName: 'b', queueId }));
  for (const [key, queueId] of Object.entries(r['queueOfKey'] as Record<string, number>)) {
    assert.equal(selectByHash(queues, { topic: 'JavaOrderly', body: '' }, key).queueId, queueId, `queue of key ${key}`);
  }

  let repeats = 0;
  for (const key of ['A', 'B', 'C']) {
    let high = -1;
    let prev: Delivery | undefined;
    for (const d of deliveries.filter((x) => x.k === key)) {
      assert.ok(
        prev === undefined || d.ts >= prev.te,
        `key ${key}: ${d.s} by ${d.by} overlaps ${prev?.s} by ${prev?.by}`,
      );
      assert.ok(d.s <= high + 1, `key ${key}: ${d.s} by ${d.by} before ${high + 1}`);
      if (d.s <= high) repeats++;
      high = Math.max(high, d.s);
      prev = d;
    }
    assert.equal(high, perKey - 1, `key ${key} consumed to the end`);
  }
  // Suspended twice, then consumed: each retry grows reconsumeTimes on the consumer that holds the queue; an orderly
  // consumer counts locally (RocketMQ's client), so a hand-over between two tries starts the new owner at 0.
  const b10 = deliveries.filter((d) => d.k === 'B' && d.s === 10);
  assert.equal(b10.length, 3, `B:10 delivered ${JSON.stringify(b10)}`);
  b10.forEach((d, i) => {
    const prev = b10[i - 1];
    const want = prev === undefined || prev.by !== d.by ? 0 : prev.r + 1;
    assert.equal(d.r, want, `B:10 try ${i + 1}: ${JSON.stringify(b10)}`);
  });
  assert.ok(repeats >= 2, 'the two local retries are repeats');
  const byConsumer = new Set(deliveries.map((d) => d.by));
  assert.deepEqual([...byConsumer].sort(), ['1', '2'], 'both consumers held queues');
  assert.ok(repeats - 2 < perKey, `re-deliveries after the hand-over (${repeats - 2}) stay bounded`);
});
