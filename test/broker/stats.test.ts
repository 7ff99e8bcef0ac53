import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrokerStats, statsSampleMs } from '../../src/broker/stats/broker-stats.js';

test('rates come from samples: per group and topic over a minute, broker-wide over 10 s / 1 min / 10 min', () => {
  let now = 1_000_000;
  const stats = new BrokerStats(() => now);
  assert.equal(stats.groupGetTps('g', 't'), 0, 'never pulled');
  // 10 messages a second for two minutes, sampled as the broker's timer does.
  for (let s = 0; s < 120; s++) {
    stats.recordGet('g', 't', 10, 100);
    stats.recordPut('t', 10, 100);
    now += 1000;
    if (now % statsSampleMs === 0) stats.sample();
  }
  assert.ok(Math.abs(stats.groupGetTps('g', 't') - 10) < 0.5, `group rate ${stats.groupGetTps('g', 't')}`);
  assert.ok(Math.abs(stats.topicPutTps('t') - 10) < 0.5);
  assert.equal(stats.groupGetTps('g', 'other'), 0);
  const [tps10s, tps1m, tps10m] = stats.putTps().split(' ').map(Number);
  assert.ok(Math.abs((tps10s ?? 0) - 10) < 0.5 && Math.abs((tps1m ?? 0) - 10) < 0.5, stats.putTps());
  assert.ok(Math.abs((tps10m ?? 0) - 10) < 0.5, 'the 10 min window reaches back to the first sample');
  assert.equal(stats.putMessages, 1200);
  assert.equal(stats.getBytes, 12_000);
  // Idle for two minutes: the rates fall to 0 and the per-key counters are dropped.
  for (let s = 0; s < 120; s++) {
    now += 1000;
    if (now % statsSampleMs === 0) stats.sample();
  }
  assert.equal(stats.groupGetTps('g', 't'), 0);
  assert.equal(stats.putTps().split(' ')[1], '0.00');
  assert.equal(stats.getMessages, 1200, 'totals stay');
});
