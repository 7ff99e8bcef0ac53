/**
 * The read worker with its native reads (native/sparse-read.c) on a real store: filtered pulls read again and
 * again come from mapped segments and deliver what the main thread delivers; a segment deleted by the store is
 * unmapped (the store's count of segment changes); a segment cut under a mapping by something else does not crash
 * the broker and its pulls answer as the main thread's do. Its own file: the worker and the module are one per
 * process (the module's counters, read here, are the worker's).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { bitmapPredicateOf, compiledSql92, sqlMessageFilter } from '../../src/broker/filter/sql92-filter.js';
import { decodeRecord } from '../../src/common/record.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore, GetStatus, type MessageFilter, type StoreConfig } from '../../src/store/index.js';
import type { LogReader } from '../../src/store/log-reader.js';
import { ReadWorker, sparseReadOptions } from '../../src/store/read-worker.js';
import { msg, tempDir } from './helpers.js';

interface Stats {
  mappings: number;
  warm: number;
  faultIns: number;
}
const file = fileURLToPath(new URL('../../native/sparse-read.node', import.meta.url));
const native = fs.existsSync(file) ? (createRequire(import.meta.url)(file) as { stats(): Stats }) : undefined;
const skip =
  native === undefined || process.platform !== 'linux' || sparseReadOptions.mode !== 'map'
    ? 'native/sparse-read.c not built here, or its mapping turned off'
    : false;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Small segments: the records lie in two of them. */
const segmentBytes = 1024 * 1024;
const topic = 'Mapped';
const group = 'G';
const expression = 'bucket = 7 OR bucket = 8';
const count = 3000;
const bodyOf = (i: number) => `m${i}-${'x'.repeat(400)}`;
const matching = Array.from({ length: count }, (_, i) => i).filter((i) => i % 100 === 7 || i % 100 === 8);

async function open(dir: string, more: Partial<StoreConfig> = {}): Promise<FileMessageStore> {
  const store = createMessageStore(
    {
      storePathRootDir: dir,
      mappedFileSizeConsumeQueue: 20 * 1000,
      mappedFileSizeCommitLog: segmentBytes,
      sparseReadWorkerEnable: true,
      ...more,
    },
    { filterBitmap: bitmapPredicateOf },
  ) as FileMessageStore;
  await store.start();
  return store;
}

/** A stopped store of `count` messages (bucket = i % 100) written with the filter registered, reopened. */
async function filledStore(): Promise<{ store: FileMessageStore; dir: string; offsets: number[] }> {
  const dir = await tempDir('tsrocket-mapped-');
  dirs.push(dir);
  let store = await open(dir);
  assert.ok(store.filterBitmap?.register(topic, group, expression));
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    const m = msg(topic, 0, bodyOf(i));
    m.properties = `bucket\u0001${i % 100}\u0002seq\u0001${i}\u0002`;
    offsets.push(Number((await store.putMessage(m)).wroteOffset));
  }
  await store.shutdown();
  store = await open(dir);
  return { store, dir, offsets };
}

function bitsFilter(store: FileMessageStore): MessageFilter {
  const c = compiledSql92(expression);
  assert.ok(c.ok);
  const probe = store.filterBitmap?.probe(topic, group, expression);
  assert.ok(probe !== undefined);
  return sqlMessageFilter(c.filter, probe);
}

const worker = ReadWorker.shared();

/** Ends a pause after slow wake-ups (a busy machine) so that the next jobs go to the worker. */
function unpause(): void {
  for (let i = 0; i < 4 && worker?.noteWake(1, performance.now() - 2000) === false; i++);
}

/** Pulls the queue to its end with the bitmap: the queue offsets and bodies delivered. */
async function pullAll(store: FileMessageStore): Promise<{ offsets: number[]; bodies: string[] }> {
  unpause();
  const filter = bitsFilter(store);
  const offsets: number[] = [];
  const bodies: string[] = [];
  let offset = 0n;
  for (let guard = 0; guard < 1000; guard++) {
    const r = await store.getMessage(topic, 0, offset, 32, 4 * 1024 * 1024, filter);
    if (r.status === GetStatus.FOUND)
      for (const rec of r.records) {
        const m = decodeRecord(rec).msg;
        offsets.push(Number(m.queueOffset));
        bodies.push(m.body.toString());
      }
    r.release?.();
    offset = r.nextBeginOffset;
    if (offset >= r.maxOffset) return { offsets, bodies };
  }
  throw new Error('the queue never ends');
}

/** Sparse reads of this store on the main thread from now on. */
function onMainThread(store: FileMessageStore): void {
  const reader = (store.commitLog as unknown as { reader: LogReader }).reader;
  reader.leaseSparse = () => 'later';
}

const segmentPath = (dir: string, start: number) => path.join(dir, 'commitlog', String(start).padStart(20, '0'));
const mapped = (p: string) => fs.readFileSync('/proc/self/maps', 'utf8').includes(p);

test('pulls read again come from mapped segments (two of them) and deliver what the main thread does', {
  skip,
}, async () => {
  const { store, dir } = await filledStore();
  try {
    const jobs = worker?.jobsRun ?? 0;
    const before = (native as { stats(): Stats }).stats();
    const want = { offsets: matching, bodies: matching.map(bodyOf) };
    const bothMapped = () => mapped(segmentPath(dir, 0)) && mapped(segmentPath(dir, segmentBytes));
    // Four passes at least; more while a loaded machine had the main thread take the worker's reads back (a pull that
    // finds its read ahead not begun reads it itself), until the worker read in both segments.
    for (let pass = 0; pass < 4 || (!bothMapped() && pass < 40); pass++) {
      assert.deepEqual(await pullAll(store), want, `pass ${pass}`);
    }
    assert.ok((worker?.jobsRun ?? 0) > jobs, 'the worker read');
    const s = (native as { stats(): Stats }).stats();
    assert.ok(s.faultIns > before.faultIns, 'windows read again were faulted in');
    assert.ok(s.warm > before.warm, 'and then read from the mapping');
    assert.ok(bothMapped(), 'both segments mapped');
    onMainThread(store);
    assert.deepEqual(await pullAll(store), want);
  } finally {
    await store.shutdown();
  }
});

test('a segment the store deletes is unmapped by the worker (its blocks can be freed)', { skip }, async () => {
  const { store, dir } = await filledStore();
  try {
    const first = segmentPath(dir, 0);
    for (let pass = 0; pass < 2 || (!mapped(first) && pass < 40); pass++) await pullAll(store);
    assert.ok(mapped(first));
    const segs = (store.commitLog as unknown as { segs: { deleteFirst(): Promise<void> } }).segs;
    await segs.deleteFirst();
    assert.equal(fs.existsSync(first), false);
    // The worker sleeps: the store's bump woke it to drop its mappings.
    for (let i = 0; i < 3000 && mapped(first); i++) await sleep(10);
    assert.equal(mapped(first), false, 'the deleted segment is no longer mapped');
    // The records of the segment left are still read (mapped afresh).
    const rest = await pullAll(store);
    assert.ok(rest.offsets.length > 0);
    for (let k = 0; k < rest.offsets.length; k++) assert.equal(rest.bodies[k], bodyOf(rest.offsets[k] as number));
  } finally {
    await store.shutdown();
  }
});

test('a segment cut under the mapping by something else: no crash, the pulls answer as on the main thread', {
  skip,
}, async () => {
  const { store, dir, offsets } = await filledStore();
  try {
    for (let pass = 0; pass < 4; pass++) await pullAll(store);
    // Cut the first segment after record 1500's start (not through the store: no bump, the mapping stays).
    const cut = offsets[1500] as number;
    assert.ok(cut < segmentBytes);
    fs.truncateSync(segmentPath(dir, 0), cut);
    const byWorker = await pullAll(store);
    // What is left of the cut segment and the next one are delivered; the cut records are not.
    assert.ok(byWorker.offsets.includes(1407) && !byWorker.offsets.includes(1507));
    for (let k = 0; k < byWorker.offsets.length; k++)
      assert.equal(byWorker.bodies[k], bodyOf(byWorker.offsets[k] as number));
    onMainThread(store);
    assert.deepEqual(await pullAll(store), byWorker);
  } finally {
    await store.shutdown();
  }
});
