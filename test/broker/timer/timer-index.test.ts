/** TimerIndex: slots of precisionMs, never due before a message's time, the floor the checkpoint relies on. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimerIndex } from '../../../src/broker/timer/timer-index.js';

test('a slot is due at its end: nothing is taken before its deliver time, everything within one slot after', () => {
  const idx = new TimerIndex(100);
  const times = new Map<number, number>();
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let off = 0; off < 5000; off++) {
    const t = 1_000_000 + Math.floor(rand() * 60_000);
    times.set(off, t);
    idx.add(off, t);
  }
  assert.equal(idx.size, 5000);
  const seen = new Set<number>();
  for (let now = 1_000_000; now <= 1_060_100; now += 37) {
    for (const off of idx.takeDue(now, Number.POSITIVE_INFINITY)) {
      const t = times.get(off) as number;
      assert.ok(t <= now, `offset ${off} due ${t} taken at ${now}`);
      assert.ok(now - t < 100 + 37, `offset ${off} due ${t} taken late at ${now}`);
      assert.equal(seen.has(off), false);
      seen.add(off);
    }
  }
  assert.equal(seen.size, 5000);
  assert.equal(idx.size, 0);
  assert.equal(idx.nextDueMs(), undefined);
});

test('nextDueMs, deliverFloorMs and minOffset describe what is pending; takeDue stops after max', () => {
  const idx = new TimerIndex(1000);
  idx.add(10, 5001);
  idx.add(3, 5999);
  idx.add(8, 6000);
  idx.add(20, 9000);
  assert.equal(idx.nextDueMs(), 6000);
  assert.equal(idx.deliverFloorMs(), 5000);
  assert.equal(idx.minOffset(), 3);
  assert.deepEqual(idx.takeDue(5999, 10), []);
  // A slot bigger than `max` is taken in parts; the rest stays due (and pending for the checkpoint).
  const part = idx.takeDue(6000, 2);
  assert.equal(part.length, 2);
  assert.equal(idx.size, 2);
  assert.equal(idx.nextDueMs(), 6000);
  const rest = idx.takeDue(6000, 10);
  assert.deepEqual(
    [...part, ...rest].sort((a, b) => a - b),
    [3, 8, 10],
  );
  assert.equal(idx.minOffset(), 20);
  assert.equal(idx.deliverFloorMs(), 8000);
  assert.deepEqual(idx.takeDue(100_000, 10), [20]);
  assert.equal(idx.minOffset(), undefined);
});
