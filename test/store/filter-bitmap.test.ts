/**
 * The SQL92 filter bitmap (enableCalcFilterBitMap) in the file store: pulls that skip records by their bits return
 * exactly what pulls judging every record return (random properties and expressions, filters registered late,
 * replaced, restarted, after a crash), and a 1 %-selective pull fills its batch.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { bitmapPredicateOf, compiledSql92, sqlMessageFilter } from '../../src/broker/filter/sql92-filter.js';
import { decodeRecord } from '../../src/common/record.js';
import { bloomMaskOf } from '../../src/store/bitmap/bloom.js';
import { type BitmapFilter, BitmapFilters, bitsOf, maybeAll } from '../../src/store/bitmap/filters.js';
import { listedEntries, MatchList, matchListEntriesMax } from '../../src/store/bitmap/match-lists.js';
import type { ConsumeQueue } from '../../src/store/consume-queue.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import {
  createMessageStore,
  GetStatus,
  type MessageFilter,
  type MessageStore,
  type StoreConfig,
} from '../../src/store/index.js';
import type { LogReader } from '../../src/store/log-reader.js';
import { eventually } from '../broker/helpers.js';
import { msg, tempDir } from './helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

async function openStore(dir?: string, more: Partial<StoreConfig> = {}): Promise<FileMessageStore> {
  const root = dir ?? (await tempDir('tsrocket-bitmap-'));
  if (dir === undefined) dirs.push(root);
  const store = createMessageStore(
    {
      storePathRootDir: root,
      mappedFileSizeConsumeQueue: 20 * 1000,
      mappedFileSizeCommitLog: 4 * 1024 * 1024,
      ...more,
    },
    { filterBitmap: bitmapPredicateOf },
  ) as FileMessageStore;
  await store.start();
  return store;
}

function propsMessage(topic: string, props: Record<string, string>, body = 'm') {
  const m = msg(topic, 0, body);
  m.properties = Object.entries(props)
    .map(([k, v]) => `${k}\u0001${v}\u0002`)
    .join('');
  return m;
}

function filterOf(store: MessageStore, topic: string, group: string, expression: string, useBitmap: boolean) {
  const c = compiledSql92(expression);
  assert.ok(c.ok, expression);
  return sqlMessageFilter(c.filter, useBitmap ? store.filterBitmap?.probe(topic, group, expression) : undefined);
}

/** Pulls queue 0 from 0 to its end; returns the queue offsets delivered and the number of pulls. */
async function pullAll(store: MessageStore, topic: string, filter: MessageFilter, maxMsgNums = 32, from = 0n) {
  const offsets: number[] = [];
  let offset = from;
  let pulls = 0;
  for (;;) {
    const r = await store.getMessage(topic, 0, offset, maxMsgNums, 4 * 1024 * 1024, filter);
    pulls++;
    if (r.status === GetStatus.FOUND) {
      for (const rec of r.records) offsets.push(Number(decodeRecord(rec).msg.queueOffset));
    } else if (r.status !== GetStatus.NO_MATCHED_MESSAGE) break;
    r.release?.();
    offset = r.nextBeginOffset;
    if (offset >= r.maxOffset) break;
  }
  return { offsets, pulls };
}

const propsArb = fc.record(
  {
    a: fc.integer({ min: 0, max: 9 }).map(String),
    b: fc.constantFrom('x', 'y', 'z', '7'),
    TAGS: fc.constantFrom('t1', 't2'),
  },
  { requiredKeys: [] },
);

const leafArb = fc.oneof(
  fc
    .tuple(fc.constantFrom('=', '<>', '>', '>=', '<', '<='), fc.integer({ min: 0, max: 9 }))
    .map(([op, n]) => `a ${op} ${n}`),
  fc.constantFrom('x', 'y', 'z').map((v) => `b = '${v}'`),
  fc
    .tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }))
    .map(([x, y]) => `a BETWEEN ${Math.min(x, y)} AND ${Math.max(x, y)}`),
  fc.constant("b IN ('x', 'y')"),
  fc.constant("TAGS = 't1'"),
  fc.constantFrom('a IS NULL', 'b IS NOT NULL'),
  fc.constant('b > 5'), // a String compared with a number: a type mismatch for most values
);
const exprArb: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.tuple(tie('e'), fc.constantFrom('AND', 'OR'), tie('e')).map(([l, op, r]) => `(${l}) ${op} (${r})`),
    tie('e').map((e) => `NOT (${e})`),
  ),
})).e;

let runId = 0;

test('property: a pull with the bitmap delivers exactly what judging every record delivers', async () => {
  // With the read worker: pulls of 3 that fill up have their successors read ahead (read-bitmap-ahead.ts).
  const store = await openStore(undefined, { sparseReadWorkerEnable: true });
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(propsArb, { minLength: 1, maxLength: 150 }),
        fc.array(exprArb, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.option(exprArb),
        async (messages, expressions, cut, replacement) => {
          const topic = `BitmapProp${runId++}`;
          // Some messages before the filters exist (judged on their records), the rest after.
          const before = cut % (messages.length + 1);
          for (const p of messages.slice(0, before)) await store.putMessage(propsMessage(topic, p));
          for (const [g, e] of expressions.entries()) assert.ok(store.filterBitmap?.register(topic, `G${g}`, e));
          const half = before + Math.floor((messages.length - before) / 2);
          for (const p of messages.slice(before, half)) await store.putMessage(propsMessage(topic, p));
          // A group changes its expression midway: the old bits never count for the new one.
          if (replacement !== null) expressions[0] = replacement;
          if (replacement !== null) store.filterBitmap?.register(topic, 'G0', replacement);
          for (const p of messages.slice(half)) await store.putMessage(propsMessage(topic, p));
          for (let g = 0; g < expressions.length; g++) {
            const e = expressions[g] as string;
            const c = compiledSql92(e);
            assert.ok(c.ok);
            const truth = messages.flatMap((p, i) => (c.filter.matchesMap(new Map(Object.entries(p))) ? [i] : []));
            const withBits = await pullAll(store, topic, filterOf(store, topic, `G${g}`, e, true));
            const without = await pullAll(store, topic, filterOf(store, topic, `G${g}`, e, false));
            const small = await pullAll(store, topic, filterOf(store, topic, `G${g}`, e, true), 3);
            assert.deepEqual(withBits.offsets, truth, `${e} with bits`);
            assert.deepEqual(small.offsets, truth, `${e} with bits, pulls of 3`);
            assert.deepEqual(without.offsets, truth, `${e} without bits`);
          }
          if (messages.length > before) assert.equal(store.bitmapQueueOf(topic, 0)?.maxOffset, messages.length);
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    await store.shutdown();
  }
});

/** `count` messages with bucket = i % 100 (`bucket = 7` selects 1 %). */
async function putBuckets(store: MessageStore, topic: string, from: number, count: number) {
  for (let i = from; i < from + count; i += 50) {
    const batch = Array.from({ length: Math.min(50, from + count - i) }, (_, k) =>
      propsMessage(topic, { bucket: String((i + k) % 100), seq: String(i + k) }, `m${i + k}`),
    );
    await store.putMessages(batch);
  }
}

const expected = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) => from + k).filter((i) => i % 100 === 7);

test('a 1 %-selective pull fills its batch through the bitmap; without it a pull judges 2,000 records', async () => {
  const store = await openStore();
  try {
    assert.ok(store.filterBitmap?.register('Sel', 'G', 'bucket = 7'));
    assert.equal(store.filterBitmap?.register('Sel', 'Bad', 'bucket >'), false);
    await putBuckets(store, 'Sel', 0, 6000);
    const withBits = await store.getMessage(
      'Sel',
      0,
      0n,
      32,
      4 * 1024 * 1024,
      filterOf(store, 'Sel', 'G', 'bucket = 7', true),
    );
    assert.equal(withBits.records.length, 32);
    withBits.release?.();
    const without = await store.getMessage(
      'Sel',
      0,
      0n,
      32,
      4 * 1024 * 1024,
      filterOf(store, 'Sel', 'G', 'bucket = 7', false),
    );
    assert.equal(without.records.length, 20);
    without.release?.();
    const all = await pullAll(store, 'Sel', filterOf(store, 'Sel', 'G', 'bucket = 7', true));
    assert.deepEqual(all.offsets, expected(0, 6000));
    assert.ok(all.pulls <= 3, `pulls ${all.pulls}`);
  } finally {
    await store.shutdown();
  }
});

test('a filter registered late: older records are judged on their properties, newer ones by their bits', async () => {
  const store = await openStore();
  try {
    await putBuckets(store, 'Late', 0, 3000);
    assert.equal(store.bitmapQueueOf('Late', 0), undefined);
    assert.ok(store.filterBitmap?.register('Late', 'G', 'bucket = 7'));
    await putBuckets(store, 'Late', 3000, 3000);
    const bq = store.bitmapQueueOf('Late', 0);
    assert.equal(bq?.minOffset, 3000);
    assert.equal(bq?.maxOffset, 6000);
    const all = await pullAll(store, 'Late', filterOf(store, 'Late', 'G', 'bucket = 7', true));
    assert.deepEqual(all.offsets, expected(0, 6000));
    // A group with another expression than the one registered gets no bits.
    assert.equal(store.filterBitmap?.probe('Late', 'G', 'bucket = 8'), undefined);
    assert.equal(store.filterBitmap?.probe('Late', 'Other', 'bucket = 7'), undefined);
  } finally {
    await store.shutdown();
  }
});

test('the bitmap and its filters survive a clean restart', async () => {
  const store = await openStore();
  const dir = store.config.storePathRootDir;
  assert.ok(store.filterBitmap?.register('Restart', 'G', 'bucket = 7'));
  await putBuckets(store, 'Restart', 0, 4000);
  await store.shutdown();
  const again = await openStore(dir);
  try {
    const probe = again.filterBitmap?.probe('Restart', 'G', 'bucket = 7');
    assert.ok(probe !== undefined);
    assert.equal(again.bitmapQueueOf('Restart', 0)?.maxOffset, 4000);
    await putBuckets(again, 'Restart', 4000, 1000);
    const first = await again.getMessage(
      'Restart',
      0,
      0n,
      32,
      4 * 1024 * 1024,
      filterOf(again, 'Restart', 'G', 'bucket = 7', true),
    );
    assert.equal(first.records.length, 32);
    first.release?.();
    const all = await pullAll(again, 'Restart', filterOf(again, 'Restart', 'G', 'bucket = 7', true));
    assert.deepEqual(all.offsets, expected(0, 5000));
  } finally {
    await again.shutdown();
  }
});

test('after a crash the entries past the checkpoint are recomputed with the filters the checkpoint saved', async () => {
  // No periodic checkpoint: the test's own is the last one before the "crash".
  const store = await openStore(undefined, { flushIntervalConsumeQueue: 600_000 });
  const dir = store.config.storePathRootDir;
  const copy = `${dir}-crash`;
  dirs.push(copy);
  try {
    assert.ok(store.filterBitmap?.register('Crash', 'G', 'bucket = 7'));
    await putBuckets(store, 'Crash', 0, 2000);
    await store.checkpoint();
    // After the checkpoint the group changes its expression: those bits are for `bucket = 8`.
    assert.ok(store.filterBitmap?.register('Crash', 'G', 'bucket = 8'));
    await putBuckets(store, 'Crash', 2000, 2000);
    // Let the coalesced ConsumeQueue and bitmap writes land, then copy the files as a crash would leave them.
    await new Promise((r) => setTimeout(r, 100));
    await fs.cp(dir, copy, { recursive: true });
  } finally {
    await store.shutdown();
  }
  const bitmapFile = path.join(copy, 'filterbitmap', 'queues', 'Crash', '0');
  assert.ok((await fs.readdir(bitmapFile)).length > 0);
  const again = await openStore(copy);
  try {
    assert.equal(again.lastRecovery?.clean, false);
    // The saved table names `bucket = 7`: replay recomputed the entries written with `bucket = 8`.
    assert.ok(again.filterBitmap?.probe('Crash', 'G', 'bucket = 7') !== undefined);
    assert.equal(again.filterBitmap?.probe('Crash', 'G', 'bucket = 8'), undefined);
    const all = await pullAll(again, 'Crash', filterOf(again, 'Crash', 'G', 'bucket = 7', true));
    assert.deepEqual(all.offsets, expected(0, 4000));
    assert.ok(all.pulls <= 3, `pulls ${all.pulls}`);
  } finally {
    await again.shutdown();
  }
});

test('a bitmap queue out of step with its ConsumeQueue restarts empty; pulls stay exact', async () => {
  const store = await openStore();
  const dir = store.config.storePathRootDir;
  assert.ok(store.filterBitmap?.register('Step', 'G', 'bucket = 7'));
  await putBuckets(store, 'Step', 0, 3000);
  await store.shutdown();
  // A bitmap file cut short behind the store's back (the checkpoint says it was complete).
  const qdir = path.join(dir, 'filterbitmap', 'queues', 'Step', '0');
  const last = (await fs.readdir(qdir)).sort().at(-1) as string;
  await fs.truncate(path.join(qdir, last), 20 * 500);
  const again = await openStore(dir);
  try {
    assert.equal(again.bitmapQueueOf('Step', 0)?.maxOffset, 0);
    await putBuckets(again, 'Step', 3000, 1000);
    assert.equal(again.bitmapQueueOf('Step', 0)?.minOffset, 3000);
    const all = await pullAll(again, 'Step', filterOf(again, 'Step', 'G', 'bucket = 7', true));
    assert.deepEqual(all.offsets, expected(0, 4000));
  } finally {
    await again.shutdown();
  }
});

test('a deleted topic takes its bitmap and filters with it', async () => {
  const store = await openStore();
  try {
    assert.ok(store.filterBitmap?.register('Gone', 'G', 'bucket = 7'));
    await putBuckets(store, 'Gone', 0, 200);
    store.deleteTopics(['Gone']);
    assert.equal(store.bitmapQueueOf('Gone', 0), undefined);
    assert.equal(store.filterBitmap?.probe('Gone', 'G', 'bucket = 7'), undefined);
    await putBuckets(store, 'Gone', 0, 10);
    assert.equal(store.bitmapQueueOf('Gone', 0), undefined);
  } finally {
    await store.shutdown();
  }
});

test('sparse reads (records a bitmap picked far apart) return the stored bytes, blocking or through the pool', async () => {
  const store = await openStore();
  try {
    await putBuckets(store, 'Sparse', 0, 300);
    const entries = await store.readQueueEntries('Sparse', 0, 0n, 300);
    const reader = (store.commitLog as unknown as { reader: LogReader }).reader;
    for (const asyncPool of [false, true]) {
      // Three slow blocking reads in a row send sparse reads to the thread pool for a while.
      if (asyncPool)
        (reader as unknown as { sparseAsyncUntilMs: number }).sparseAsyncUntilMs = performance.now() + 60_000;
      for (const e of entries.filter((_, i) => i % 37 === 0)) {
        const got = await reader.readSparse(Number(e.phyOffset), e.size);
        const want = await store.commitLog.read(Number(e.phyOffset), e.size);
        assert.ok(got !== undefined && want !== undefined);
        assert.deepEqual(got.bytes, want);
      }
    }
    const end = Number(store.getMaxPhyOffset());
    assert.equal(await reader.readSparse(end - 10, 20), undefined);
  } finally {
    await store.shutdown();
  }
});

test('an unreadable filter table: the store starts, the bitmaps restart, pulls stay exact', async () => {
  const store = await openStore();
  const dir = store.config.storePathRootDir;
  assert.ok(store.filterBitmap?.register('Table', 'G', 'bucket = 7'));
  await putBuckets(store, 'Table', 0, 1000);
  await store.shutdown();
  await fs.writeFile(path.join(dir, 'filterbitmap', 'filters.json'), '{"filters": [{"topic": "Table"');
  const again = await openStore(dir);
  try {
    assert.equal(again.filterBitmap?.probe('Table', 'G', 'bucket = 7'), undefined);
    assert.equal(again.bitmapQueueOf('Table', 0), undefined);
    assert.ok(again.filterBitmap?.register('Table', 'G', 'bucket = 7'));
    await putBuckets(again, 'Table', 1000, 1000);
    assert.equal(again.bitmapQueueOf('Table', 0)?.minOffset, 1000);
    const all = await pullAll(again, 'Table', filterOf(again, 'Table', 'G', 'bucket = 7', true));
    assert.deepEqual(all.offsets, expected(0, 2000));
  } finally {
    await again.shutdown();
  }
});

test('a side queue that began mid-file, after a restart: the entries before its first one are judged on their records', async () => {
  const store = await openStore();
  const dir = store.config.storePathRootDir;
  await putBuckets(store, 'Mid', 0, 2550);
  assert.ok(store.filterBitmap?.register('Mid', 'G', 'bucket = 7'));
  await putBuckets(store, 'Mid', 2550, 1450);
  assert.equal(store.bitmapQueueOf('Mid', 0)?.minOffset, 2550);
  await store.shutdown();
  const again = await openStore(dir);
  try {
    // Its file starts at 2000: the entries from there to 2550 read back blank.
    assert.equal(again.bitmapQueueOf('Mid', 0)?.maxOffset, 4000);
    for (const from of [0, 2000, 2300]) {
      const all = await pullAll(again, 'Mid', filterOf(again, 'Mid', 'G', 'bucket = 7', true), 32, BigInt(from));
      assert.deepEqual(all.offsets, expected(from, 4000), `from ${from}`);
    }
  } finally {
    await again.shutdown();
  }
});

/** Two groups of `topic` whose masks each miss one of `group`'s bits but together hold them all. */
function coveringPair(topic: string, group: string): [string, string] {
  const mask = bloomMaskOf(group, topic).mask;
  const partial: Array<[string, bigint]> = [];
  for (let i = 0; partial.length < 200; i++) {
    const m = bloomMaskOf(`P${i}`, topic).mask;
    if ((m & mask) !== 0n && (m & mask) !== mask) partial.push([`P${i}`, m]);
  }
  for (let i = 0; i < 1_000_000; i++) {
    const m = bloomMaskOf(`Q${i}`, topic).mask;
    if ((m & mask) === mask) continue;
    const b = partial.find(([, pm]) => ((pm | m) & mask) === mask);
    if (b !== undefined) return [b[0], `Q${i}`];
  }
  throw new Error('no covering pair found');
}

test('exact windows: from a filter with an own bit until others cover it; kept by the saved table; none when not saved', () => {
  const table = new BitmapFilters(bitmapPredicateOf);
  assert.ok(table.register('T', 'A', 'a = 1', 100));
  const a = table.get('T', 'A') as BitmapFilter;
  assert.equal(a.exactFromPhy, 100);
  assert.equal(a.exactBelowPhy, Number.POSITIVE_INFINITY);
  const [b, c] = coveringPair('T', 'A');
  assert.ok(table.register('T', b, 'a = 2', 200));
  assert.equal(a.exactBelowPhy, Number.POSITIVE_INFINITY, 'one partial cover leaves an own bit');
  assert.ok(table.register('T', c, 'a = 3', 300));
  assert.equal(a.exactBelowPhy, 300);
  // Dropping a cover does not reopen the window (entries from 300 on may hold both covers' bits).
  table.unregister('T', c, 400);
  assert.equal(a.exactBelowPhy, 300);

  const loaded = new BitmapFilters(bitmapPredicateOf);
  assert.deepEqual(loaded.load(table.toJson()), []);
  for (const g of ['A', b]) {
    const was = table.get('T', g) as BitmapFilter;
    const now = loaded.get('T', g) as BitmapFilter;
    assert.equal(now.exactFromPhy, was.exactFromPhy, g);
    assert.equal(now.exactBelowPhy, was.exactBelowPhy, g);
  }
  // A table saved before exact windows existed: no verdict is exact.
  const old = new BitmapFilters(bitmapPredicateOf);
  old.load(JSON.stringify({ filters: [{ topic: 'T', group: 'A', expression: 'a = 1', bornPhyOffset: 100 }] }));
  assert.equal(old.get('T', 'A')?.exactFromPhy, Number.POSITIVE_INFINITY);
  assert.deepEqual(
    old.load(
      JSON.stringify({
        filters: [{ topic: 'T', group: 'X', expression: 'a = 1', bornPhyOffset: 1, exactFromPhy: 'x' }],
      }),
    ).length,
    1,
  );
});

test('an entry whose filters could not be evaluated holds every bit (no exact verdict trusts it)', () => {
  const table = new BitmapFilters((expression) =>
    expression === 'throws'
      ? () => {
          throw new Error('boom');
        }
      : bitmapPredicateOf(expression),
  );
  assert.ok(table.register('T', 'A', 'a = 1', 0));
  const groups = table.groupsOf('T') as ReadonlyMap<string, BitmapFilter>;
  assert.equal(bitsOf(groups, undefined), maybeAll);
  assert.equal(bitsOf(groups, 'a\u00011\u0002'), (table.get('T', 'A') as BitmapFilter).mask);
  assert.ok(table.register('T', 'B', 'throws', 0));
  assert.equal(bitsOf(groups, 'a\u00011\u0002'), maybeAll);
});

test('an exact verdict serves its records unjudged; once other groups cover its bits, newer records are judged again', async () => {
  const store = await openStore(undefined, { sparseReadWorkerEnable: true });
  try {
    const topic = 'Exact';
    assert.ok(store.filterBitmap?.register(topic, 'A', 'bucket = 7'));
    await putBuckets(store, topic, 0, 600);
    let judged = 0;
    const counting = (): MessageFilter => {
      const f = filterOf(store, topic, 'A', 'bucket = 7', true);
      const by = f.isMatchedByProperties?.bind(f) as NonNullable<MessageFilter['isMatchedByProperties']>;
      const isMatchedByProperties = (buf: Buffer, start: number, end: number) => {
        judged++;
        return by(buf, start, end);
      };
      return { ...f, isMatchedByProperties };
    };
    const first = await pullAll(store, topic, counting(), 3);
    assert.deepEqual(first.offsets, expected(0, 600));
    assert.equal(judged, 0, 'every candidate was an exact match');

    // Two groups that together set all of A's bits, both matching bucket 8 (which A does not select).
    const [b, c] = coveringPair(topic, 'A');
    assert.ok(store.filterBitmap?.register(topic, b, 'bucket = 8'));
    assert.ok(store.filterBitmap?.register(topic, c, 'bucket = 8'));
    await putBuckets(store, topic, 600, 600);
    judged = 0;
    const all = await pullAll(store, topic, counting(), 3);
    assert.deepEqual(all.offsets, expected(0, 1200), 'bucket 8 holds all of A bits and is still not delivered to A');
    assert.ok(judged >= 12, `records after the cover are judged (${judged})`);
    judged = 0;
    const older = await pullAll(store, topic, counting(), 3);
    assert.deepEqual(older.offsets.slice(0, 6), expected(0, 600));
  } finally {
    await store.shutdown();
  }
});

test('match lists: kept as records are dispatched, backfilled after a restart, none for a dense filter; pulls deliver the same', async () => {
  const store = await openStore();
  const dir = store.config.storePathRootDir;
  const topic = 'Listed';
  const listed0 = listedEntries();
  assert.ok(store.filterBitmap?.register(topic, 'G', 'bucket = 7'));
  assert.ok(store.filterBitmap?.register(topic, 'Dense', 'bucket < 50'));
  await putBuckets(store, topic, 0, 5000);
  const bq = store.bitmapQueueOf(topic, 0) as ConsumeQueue;
  const selective = store.filterBitmap?.probe(topic, 'G', 'bucket = 7') as BitmapFilter;
  const list = selective.matchesIn(bq);
  assert.equal(list?.from, 0);
  assert.equal(list?.count, 50);
  // Half the records match `bucket < 50`: past 4,096 entries that list is dropped; its pulls scan.
  const denseProbe = store.filterBitmap?.probe(topic, 'Dense', 'bucket < 50') as BitmapFilter;
  assert.equal(denseProbe.matchesIn(bq), undefined);
  assert.equal(listedEntries() - listed0, 50);
  assert.deepEqual(
    (await pullAll(store, topic, filterOf(store, topic, 'G', 'bucket = 7', true))).offsets,
    expected(0, 5000),
  );
  const dense = await pullAll(store, topic, filterOf(store, topic, 'Dense', 'bucket < 50', true));
  assert.equal(dense.offsets.length, 2500);
  await store.shutdown();
  assert.equal(listedEntries(), listed0, 'a stopped store keeps none');

  const again = await openStore(dir);
  try {
    const bq2 = again.bitmapQueueOf(topic, 0) as ConsumeQueue;
    const probe = again.filterBitmap?.probe(topic, 'G', 'bucket = 7') as BitmapFilter;
    // After the restart there is none until a pull asks: it begins at the side queue's end, and the older matches
    // from the pull's offset on are read back in the background.
    assert.equal(probe.matchesIn(bq2), undefined);
    const first = await pullAll(again, topic, filterOf(again, topic, 'G', 'bucket = 7', true));
    assert.deepEqual(first.offsets, expected(0, 5000));
    assert.ok(await eventually(() => probe.matchesIn(bq2)?.from === 0), 'backfilled');
    assert.equal(probe.matchesIn(bq2)?.count, 50);
    await putBuckets(again, topic, 5000, 1000);
    assert.equal(probe.matchesIn(bq2)?.count, 60);
    const all = await pullAll(again, topic, filterOf(again, topic, 'G', 'bucket = 7', true), 7);
    assert.deepEqual(all.offsets, expected(0, 6000));
  } finally {
    await again.shutdown();
  }
  assert.equal(listedEntries(), listed0);
});

test('a match list full of entries drops its older half and still answers exactly', () => {
  const list = new MatchList(0);
  // One entry in 20 matches (a list keeps none for a filter matching more than one in 16).
  const every = 20;
  for (let i = 0; i < matchListEntriesMax * every * 1.5; i++) {
    assert.ok(list.append(i, i * 100, 100, i % every === 0, true));
  }
  assert.equal(list.count, matchListEntriesMax);
  assert.ok(list.from > 0);
  assert.equal(list.pick(list.from - 1, 5, 0, 1 << 20), undefined, 'below its start: not covered');
  const first = Math.ceil(list.from / every) * every;
  const p = list.pick(list.from, 5, 0, 1 << 20);
  assert.deepEqual(
    p?.queueOffsets,
    [0, 1, 2, 3, 4].map((k) => first + k * every),
  );
  assert.equal(p?.next, first + 5 * every);
  assert.equal(list.pick(list.to, 5, 0, 1 << 20)?.phys.length, 0);
  // Records below the log's start: counted as removed, then trimmed away.
  assert.equal(list.pick(first, 3, (first + 2 * every) * 100, 1 << 20)?.removed, 2);
  list.trimBelow((first + 10 * every) * 100);
  assert.equal(list.pick(first, 1, 0, 1 << 20), undefined);
  list.release();
});

test('property: after a restart, pulls racing their lists backfill — and after it — deliver exactly what judging every record delivers', async () => {
  const store = await openStore(undefined, { sparseReadWorkerEnable: true });
  const dir = store.config.storePathRootDir;
  const cases: Array<{ topic: string; messages: Array<Record<string, string>>; expressions: string[] }> = [];
  await fc.assert(
    fc.asyncProperty(
      fc.array(propsArb, { minLength: 1, maxLength: 300 }),
      fc.array(exprArb, { minLength: 1, maxLength: 3 }),
      fc.nat(),
      async (messages, expressions, cut) => {
        const topic = `Backfill${runId++}`;
        const before = cut % (messages.length + 1);
        for (const p of messages.slice(0, before)) await store.putMessage(propsMessage(topic, p));
        for (const [g, e] of expressions.entries()) assert.ok(store.filterBitmap?.register(topic, `G${g}`, e));
        for (const p of messages.slice(before)) await store.putMessage(propsMessage(topic, p));
        cases.push({ topic, messages, expressions });
      },
    ),
    { numRuns: 25 },
  );
  await store.shutdown();
  const again = await openStore(dir, { sparseReadWorkerEnable: true });
  try {
    for (const round of ['racing the backfill', 'after it']) {
      if (round === 'after it') assert.ok(listedEntries() > 0, 'the pulls backfilled lists');
      for (const { topic, messages, expressions } of cases) {
        for (let g = 0; g < expressions.length; g++) {
          const e = expressions[g] as string;
          const c = compiledSql92(e);
          assert.ok(c.ok);
          const truth = messages.flatMap((p, i) => (c.filter.matchesMap(new Map(Object.entries(p))) ? [i] : []));
          // Pulls of 3 from a random place in the middle first (a backfill from there), then from 0.
          const mid = BigInt(Math.floor(messages.length / 2));
          const tail = await pullAll(again, topic, filterOf(again, topic, `G${g}`, e, true), 3, mid);
          assert.deepEqual(
            tail.offsets,
            truth.filter((i) => i >= Number(mid)),
            `${e} from ${mid}, ${round}`,
          );
          const all = await pullAll(again, topic, filterOf(again, topic, `G${g}`, e, true), 3);
          assert.deepEqual(all.offsets, truth, `${e}, ${round}`);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await again.shutdown();
  }
});
