/**
 * Rebuilding the de-duplication tables from a store: the window's keys of each topic's queues, delayed and half
 * messages found under REAL_TOPIC with the answer they first got, nothing past the window, a bounded scan, and an
 * unreadable record skipped (counted) instead of failing the broker's start.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DedupTable, newDedupCounters } from '../../../src/broker/dedup/dedup-table.js';
import { rebuildDedupTables } from '../../../src/broker/dedup/rebuild.js';
import { encodeProperties } from '../../../src/common/properties.js';
import { RecordPos } from '../../../src/common/record.js';
import { createMessageStore, type MessageStore } from '../../../src/store/index.js';
import { offsetMsgIdsOf } from '../../../src/store/results.js';

async function storeWith(withTimer = false): Promise<{ store: MessageStore; ids: Map<string, string> }> {
  const store = createMessageStore({ storePathRootDir: '/nonexistent' }, { kind: 'memory' });
  await store.start();
  const ids = new Map<string, string>();
  const put = async (topic: string, queueId: number, props: Record<string, string>) => {
    const r = await store.putMessage({
      topic,
      queueId,
      flag: 0,
      body: Buffer.from('b'),
      properties: encodeProperties(props),
      sysFlag: 0,
      bornTimestamp: BigInt(Date.now()),
      bornHost: '127.0.0.1:1',
      reconsumeTimes: 0,
      preparedTransactionOffset: 0n,
      tagsCode: 0n,
      uniqKey: props['UNIQ_KEY'],
    });
    const k = props['UNIQ_KEY'] ?? '';
    if (!ids.has(k)) ids.set(k, offsetMsgIdsOf(r)[0] as string);
  };
  for (let i = 0; i < 6; i++) await put('T', i % 2, { UNIQ_KEY: `K${i}` });
  await put('OTHER', 0, { UNIQ_KEY: 'O1' });
  await put('SCHEDULE_TOPIC_XXXX', 2, { UNIQ_KEY: 'D1', REAL_TOPIC: 'T', REAL_QID: '1', DELAY: '3' });
  if (withTimer) await put('rmq_sys_wheel_timer', 0, { UNIQ_KEY: 'W1', REAL_TOPIC: 'T', REAL_QID: '0' });
  await put('RMQ_SYS_TRANS_HALF_TOPIC', 0, { UNIQ_KEY: 'H1', REAL_TOPIC: 'T', REAL_QID: '1' });
  await put('RMQ_SYS_TRANS_HALF_TOPIC', 0, { UNIQ_KEY: 'H2', REAL_TOPIC: 'OTHER', REAL_QID: '0' });
  // The delayed message delivered later to T under the same key: the first answer (the schedule queue's) stays.
  await put('T', 1, { UNIQ_KEY: 'D1', REAL_TOPIC: 'T', REAL_QID: '1' });
  return { store, ids };
}

test('the window of a topic comes back: own queues, delayed, timer and half messages under REAL_TOPIC', async () => {
  const { store, ids } = await storeWith(true);
  const t = new DedupTable(60_000, 100, newDedupCounters());
  const now = Date.now();
  const counts = await rebuildDedupTables(store, new Map([['T', t]]), now);
  assert.deepEqual(counts, { keys: 9, unreadable: 0 });
  assert.equal(t.lookup('K3', now)?.offsetMsgId, ids.get('K3'));
  assert.deepEqual({ q: t.lookup('K3', now)?.queueId, o: t.lookup('K3', now)?.queueOffset }, { q: 1, o: 1n });
  assert.deepEqual(t.lookup('D1', now), {
    queueId: 2,
    queueOffset: 0n,
    offsetMsgId: ids.get('D1'),
    storeTimeMs: t.lookup('D1', now)?.storeTimeMs,
  });
  assert.equal(t.lookup('W1', now)?.offsetMsgId, ids.get('W1'), 'a timer message waiting under REAL_TOPIC');
  assert.equal(t.lookup('H1', now)?.queueId, 1, 'a half message answers the queue it was sent to');
  assert.equal(t.lookup('H1', now)?.queueOffset, 0n);
  assert.equal(t.lookup('O1', now), undefined);
  assert.equal(t.lookup('H2', now), undefined);
});

test('nothing older than the window comes back', async () => {
  const { store } = await storeWith();
  const t = new DedupTable(1_000, 100, newDedupCounters());
  const counts = await rebuildDedupTables(store, new Map([['T', t]]), Date.now() + 5_000);
  assert.equal(counts.keys, 0);
  assert.equal(t.size, 0);
});

test('at most keysMax records per queue are read, the newest', async () => {
  const { store } = await storeWith();
  const t = new DedupTable(60_000, 2, newDedupCounters());
  await rebuildDedupTables(store, new Map([['T', t]]), Date.now());
  assert.equal(t.size, 2);
  assert.ok(t.lookup('K5', Date.now()) !== undefined || t.lookup('D1', Date.now()) !== undefined);
  assert.equal(t.lookup('K0', Date.now()), undefined);
});

test('an unreadable record is skipped and counted; the rest come back', async () => {
  const { store } = await storeWith();
  const got = await store.getMessage('T', 0, 1n, 1, 1 << 20);
  const rec = got.records[0] as Buffer;
  rec.writeUInt32BE(0xdeadbeef, RecordPos.magic);
  const t = new DedupTable(60_000, 100, newDedupCounters());
  const counts = await rebuildDedupTables(store, new Map([['T', t]]), Date.now());
  assert.deepEqual(counts, { keys: 7, unreadable: 1 });
  assert.equal(t.lookup('K2', Date.now()), undefined);
  assert.ok(t.lookup('K4', Date.now()) !== undefined);
});
