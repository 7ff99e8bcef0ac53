/** The de-duplication table alone: window expiry, the keys bound, the in-flight marks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DedupEntry, DedupTable, newDedupCounters } from '../../../src/broker/dedup/dedup-table.js';

const entry = (storeTimeMs: number, queueOffset = 0n): DedupEntry => ({
  queueId: 1,
  queueOffset,
  offsetMsgId: `ID${queueOffset}`,
  storeTimeMs,
});

test('a key stored within the window is found; past it, it is gone and counted expired', () => {
  const c = newDedupCounters();
  const t = new DedupTable(1000, 10, c);
  t.add('k1', entry(5000, 7n), 5000);
  assert.deepEqual(t.lookup('k1', 5999), entry(5000, 7n));
  assert.equal(t.lookup('k1', 6001), undefined);
  assert.equal(c.expired, 1);
  assert.equal(t.size, 0);
});

test('adding drops the expired keys at the front, and a key already held keeps its first answer', () => {
  const c = newDedupCounters();
  const t = new DedupTable(1000, 10, c);
  t.add('a', entry(0, 1n), 0);
  t.add('b', entry(500, 2n), 500);
  t.add('b', entry(600, 3n), 600);
  assert.equal(t.lookup('b', 600)?.queueOffset, 2n);
  t.add('c', entry(1400, 4n), 1400);
  assert.equal(t.size, 2, 'a (stored at 0) left when c came at 1400');
  assert.equal(c.expired, 1);
});

test('past keysMax the oldest keys leave, counted evicted; the newest stay', () => {
  const c = newDedupCounters();
  const t = new DedupTable(60_000, 3, c);
  for (let i = 0; i < 5; i++) t.add(`k${i}`, entry(i, BigInt(i)), i);
  assert.equal(t.size, 3);
  assert.equal(c.evicted, 2);
  assert.equal(t.lookup('k0', 10), undefined);
  assert.equal(t.lookup('k1', 10), undefined);
  assert.equal(t.lookup('k4', 10)?.queueOffset, 4n);
});

test('an in-flight key: a second sender waits and gets what the first stored', async () => {
  const t = new DedupTable(60_000, 10, newDedupCounters());
  const done = t.begin('k');
  const waiting = t.pending('k');
  assert.ok(waiting !== undefined);
  assert.equal(t.inFlightCount, 1);
  done(entry(Date.now(), 9n));
  assert.equal((await waiting)?.queueOffset, 9n);
  assert.equal(t.inFlightCount, 0);
  assert.equal(t.lookup('k', Date.now())?.queueOffset, 9n);
});

test('an in-flight key whose put failed: the waiter gets nothing and the key stays unknown', async () => {
  const t = new DedupTable(60_000, 10, newDedupCounters());
  const done = t.begin('k');
  const waiting = t.pending('k');
  done(undefined);
  done(entry(0, 1n)); // a second call is ignored
  assert.equal(await waiting, undefined);
  assert.equal(t.lookup('k', Date.now()), undefined);
  assert.equal(t.size, 0);
});
