import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessQueue } from '../../src/client/process-queue.js';

const msg = (offset: number, bytes = 10) => ({ queueOffset: BigInt(offset), body: Buffer.alloc(bytes) });

test('commit offset is the smallest offset still in flight', () => {
  const pq = new ProcessQueue();
  assert.equal(pq.commitOffset(), -1n);
  const [m10, m11, m12, m13] = [msg(10), msg(11), msg(12), msg(13)];
  assert.equal(pq.add([m10, m11, m12, m13]).length, 4);
  assert.equal(pq.count, 4);
  assert.equal(pq.cachedBytes, 40);
  assert.equal(pq.remove([m12]), 10n);
  assert.equal(pq.remove([m10]), 11n);
  assert.equal(pq.remove([m13]), 11n);
  assert.equal(pq.remove([m11]), 14n, 'drained: one past the largest seen');
  assert.equal(pq.count, 0);
  assert.equal(pq.cachedBytes, 0);
  // Removing twice changes nothing.
  assert.equal(pq.remove([m11]), 14n);
});

test('re-added offsets are ignored and limits trigger flow control', () => {
  const pq = new ProcessQueue();
  pq.add([msg(0), msg(1)]);
  assert.equal(pq.add([msg(1), msg(2)]).length, 1);
  assert.equal(pq.commitOffset(), 0n, 'offset 1 was not added twice');
  assert.equal(pq.isOverLimit(3, 1000), false);
  pq.add([msg(3)]);
  assert.equal(pq.isOverLimit(3, 1000), true, 'over the message count');
  assert.equal(pq.isOverLimit(100, 30), true, 'over the byte size');
  pq.clear();
  assert.equal(pq.count, 0);
  assert.equal(pq.cachedBytes, 0);
});

test('a drained queue commits the end of what was pulled, past filtered-out offsets', () => {
  const pq = new ProcessQueue();
  pq.pulledUpTo(3n);
  assert.equal(pq.commitOffset(), 3n, 'nothing matched: the whole pulled range is consumed');
  const m3 = msg(3);
  pq.add([m3]);
  pq.pulledUpTo(9n);
  assert.equal(pq.commitOffset(), 3n, 'in flight');
  assert.equal(pq.remove([m3]), 9n, 'drained: offsets 4..8 were filtered out');
  pq.pulledUpTo(5n);
  assert.equal(pq.commitOffset(), 9n, 'never backwards');
});
