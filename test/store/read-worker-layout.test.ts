/**
 * The read worker's job counters are int32s in shared memory that wrap after 2^31 jobs (days of a busy broker):
 * stepping and ring places must stay in step across the wrap on both sides.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobMessage, jobSlotOf, nextCount, ringAt, ringSize } from '../../src/store/read-worker-layout.js';

test('job counters wrap as the int32 in shared memory does, and ring places follow one by one', () => {
  const shared = new Int32Array(1);
  let n = 2 ** 31 - 3;
  let place = ringAt(n);
  for (let i = 0; i < 6; i++) {
    const next = nextCount(n);
    shared[0] = next;
    // What the other side loads equals what this side keeps: compared with !== only.
    assert.equal(shared[0], next);
    assert.equal(ringAt(next), (place + 1) % ringSize);
    n = next;
    place = ringAt(n);
  }
  assert.equal(n, -(2 ** 31) + 3);
});

test('a job message carries its slot and read count', () => {
  for (const [slot, spans] of [
    [0, 1],
    [15, 64],
    [7, 32],
  ] as const) {
    assert.deepEqual(jobSlotOf(jobMessage(slot, spans)), { slot, spans });
  }
});
