import assert from 'node:assert/strict';
import { test } from 'node:test';
import { avoidanceMs, FaultStrategy } from '../../src/client/fault-strategy.js';
import { selectByHash } from '../../src/client/queue-selector.js';
import { backoffDelayMs, RetriesExhaustedError, withRetries } from '../../src/client/retry.js';
import { TsRocketError } from '../../src/common/errors.js';

const policy = { initialMs: 1, maxMs: 4, multiplier: 2, jitter: 0 };

test('back-off grows, caps and jitters downwards', () => {
  assert.equal(backoffDelayMs(1, policy), 0);
  assert.equal(backoffDelayMs(2, policy), 1);
  assert.equal(backoffDelayMs(3, policy), 2);
  assert.equal(backoffDelayMs(9, policy), 4);
  assert.equal(
    backoffDelayMs(2, { ...policy, initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 1),
    50,
  );
});

test('withRetries retries retriable errors only and reports every attempt', async () => {
  let calls = 0;
  const ok = await withRetries(
    async (attempt) => {
      calls++;
      if (attempt < 3) throw new TsRocketError('busy', { retriable: true });
      return 'done';
    },
    { what: 'op', attempts: 3, backoff: policy },
  );
  assert.equal(ok, 'done');
  assert.equal(calls, 3);
  await assert.rejects(
    withRetries(async () => Promise.reject(new TsRocketError('down', { retriable: true, code: 14 })), {
      what: 'op',
      attempts: 2,
      backoff: policy,
    }),
    (err: unknown) =>
      err instanceof RetriesExhaustedError &&
      err.errors.length === 2 &&
      err.code === 14 &&
      /after 2 attempt/.test(err.message),
  );
  calls = 0;
  await assert.rejects(
    withRetries(
      async () => {
        calls++;
        throw new TsRocketError('bad', { retriable: false });
      },
      { what: 'op', attempts: 5 },
    ),
    /bad/,
  );
  assert.equal(calls, 1);
});

test('fault strategy avoids failed and slow brokers for a while', () => {
  let now = 1000;
  const fault = new FaultStrategy(true, () => now);
  assert.equal(avoidanceMs(10), 0);
  assert.equal(avoidanceMs(600), 30000);
  fault.update('a', 5, false);
  assert.equal(fault.isAvailable('a'), true);
  fault.update('b', 0, true);
  assert.equal(fault.isAvailable('b'), false);
  fault.update('c', 1200, false);
  assert.equal(fault.leastBad(['b', 'c']), 'c');
  now += 600_001;
  assert.equal(fault.isAvailable('b'), true);
  const off = new FaultStrategy(false);
  off.update('x', 0, true);
  assert.equal(off.isAvailable('x'), true);
});

test('sharding keys map to a stable queue', () => {
  const qs = Array.from({ length: 8 }, (_, i) => ({ topic: 'T', brokerName: 'b', queueId: i }));
  const m = { topic: 'T', body: 'x' };
  assert.equal(selectByHash(qs, m, 'order-1'), selectByHash(qs, m, 'order-1'));
  // Java: "order-1".hashCode() = -1207111310; |h % 8| = 6.
  assert.equal(selectByHash(qs, m, 'order-1').queueId, 6);
});
