import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lockMaxLiveTimeMsDefault, RebalanceLocks } from '../../../src/broker/clients/rebalance-locks.js';

const q0 = { topic: 'T', brokerName: 'b', queueId: 0 };
const q1 = { topic: 'T', brokerName: 'b', queueId: 1 };

function clock(startMs = 1_000_000) {
  const c = { nowMs: startMs, now: () => c.nowMs };
  return c;
}

test('a free queue goes to the first client; a rival is refused while the owner renews', () => {
  const c = clock();
  const locks = new RebalanceLocks(lockMaxLiveTimeMsDefault, c.now);
  assert.deepEqual(locks.tryLockBatch('G', [q0, q1], 'A'), [q0, q1]);
  assert.equal(locks.ownerOf('G', q0), 'A');
  c.nowMs += 50_000;
  assert.deepEqual(locks.tryLockBatch('G', [q0, q1], 'B'), [], 'rival refused within the lease');
  assert.deepEqual(locks.tryLockBatch('G', [q0], 'A'), [q0], 'owner renews');
  c.nowMs += 50_000;
  // q0 was renewed 50 s ago (still live); q1 was granted 100 s ago and never renewed (expired).
  assert.deepEqual(locks.tryLockBatch('G', [q0, q1], 'B'), [q1]);
  assert.equal(locks.ownerOf('G', q0), 'A');
  assert.equal(locks.ownerOf('G', q1), 'B');
});

test('a lock is free exactly when its lease (60 s by default) has passed without renewal', () => {
  const c = clock();
  const locks = new RebalanceLocks(lockMaxLiveTimeMsDefault, c.now);
  locks.tryLockBatch('G', [q0], 'A');
  c.nowMs += lockMaxLiveTimeMsDefault;
  assert.deepEqual(locks.tryLockBatch('G', [q0], 'B'), [], 'at the lease end it is still held');
  c.nowMs += 1;
  assert.deepEqual(locks.tryLockBatch('G', [q0], 'B'), [q0], 'past it, a rival takes it');
  assert.deepEqual(locks.tryLockBatch('G', [q0], 'A'), [], 'the old owner lost it');
});

test('only the owner releases; a released queue goes to the next client at once', () => {
  const c = clock();
  const locks = new RebalanceLocks(lockMaxLiveTimeMsDefault, c.now);
  locks.tryLockBatch('G', [q0, q1], 'A');
  locks.unlockBatch('G', [q0, q1], 'B');
  assert.equal(locks.ownerOf('G', q0), 'A', 'a rival cannot release');
  locks.unlockBatch('G', [q0], 'A');
  assert.equal(locks.ownerOf('G', q0), undefined);
  assert.deepEqual(locks.tryLockBatch('G', [q0, q1], 'B'), [q0]);
  locks.unlockBatch('Unknown', [q0], 'B');
  assert.equal(locks.ownerOf('G', q0), 'B');
});

test('groups, topics, brokers and queue ids are separate locks', () => {
  const locks = new RebalanceLocks();
  locks.tryLockBatch('G1', [q0], 'A');
  assert.deepEqual(locks.tryLockBatch('G2', [q0], 'B'), [q0], 'another group');
  const other = [{ topic: 'U', brokerName: 'b', queueId: 0 }, { topic: 'T', brokerName: 'c', queueId: 0 }, q1];
  assert.deepEqual(locks.tryLockBatch('G1', other, 'B'), other);
  assert.deepEqual(locks.tryLockBatch('G1', [], 'B'), []);
});
