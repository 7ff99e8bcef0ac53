/**
 * Records a filter bitmap picks far apart are read straight into one buffer per pull, by the read worker
 * (read-worker.ts) or on the main thread (`collectNow` in read-filtered.ts): both deliver the same records; a
 * damaged record among them is skipped and counted while the rest are delivered, the records kept form one body
 * part, reads that must go through the thread pool part-way through a pull deliver the same, and a segment closed
 * while the worker reads it stays open until the read is done.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { bitmapPredicateOf, compiledSql92, sqlMessageFilter } from '../../src/broker/filter/sql92-filter.js';
import { decodeRecord, RecordPos } from '../../src/common/record.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore, GetStatus, type MessageFilter, type StoreConfig } from '../../src/store/index.js';
import { NodeStorageIO } from '../../src/store/io.js';
import type { LogReader } from '../../src/store/log-reader.js';
import { aheadBatch, aheadStats } from '../../src/store/read-bitmap-ahead.js';
import { freeArenaCount, giveArena, ReadWorker, takeArena } from '../../src/store/read-worker.js';
import { msg, tempDir } from './helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const segmentBytes = 4 * 1024 * 1024;
const topic = 'Sparse';
const group = 'G';
/** Two neighbours of every hundred: each pair is one read, the pairs ~45 KiB apart (each its own read). */
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
      // These pulls scan the side queue (the match lists' pulls: filter-bitmap.test.ts).
      filterMatchListEnable: false,
      ...more,
    },
    { filterBitmap: bitmapPredicateOf },
  ) as FileMessageStore;
  await store.start();
  return store;
}

/** A store of `count` messages (bucket = i % 100) written with the filter registered, stopped cleanly. */
async function filled(): Promise<{ dir: string; offsets: bigint[] }> {
  const dir = await tempDir('tsrocket-sparse-');
  dirs.push(dir);
  const store = await open(dir);
  assert.ok(store.filterBitmap?.register(topic, group, expression));
  const offsets: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const m = msg(topic, 0, bodyOf(i));
    m.properties = `bucket\u0001${i % 100}\u0002seq\u0001${i}\u0002`;
    const r = await store.putMessage(m);
    offsets.push(r.wroteOffset);
  }
  await store.shutdown();
  return { dir, offsets };
}

/** A filled store with the read worker running, handed to `body`; shut down after it, whatever happens. */
async function withWorkerStore(body: (store: FileMessageStore) => Promise<void>): Promise<void> {
  const { dir } = await filled();
  const store = await open(dir);
  try {
    unpause();
    await body(store);
  } finally {
    await store.shutdown();
  }
}

function bitsFilter(store: FileMessageStore): MessageFilter {
  const c = compiledSql92(expression);
  assert.ok(c.ok);
  const probe = store.filterBitmap?.probe(topic, group, expression);
  assert.ok(probe !== undefined);
  return sqlMessageFilter(c.filter, probe);
}

/** Sparse reads of this store stay on the main thread (no descriptor is leased to the read worker). */
function onMainThread(store: FileMessageStore): void {
  const reader = (store.commitLog as unknown as { reader: LogReader }).reader;
  reader.leaseSparse = () => 'later';
}

const worker = ReadWorker.shared();

/** Jobs the read worker has run so far. */
function workerJobs(): number {
  return worker?.jobsRun ?? 0;
}

/** Ends a pause after slow wake-ups (a busy machine) so that the next jobs go to the worker. */
function unpause(): void {
  // Slow wakes until a pause begins (as if 2 s ago, so over): whatever count earlier jobs left, it ends at 0.
  for (let i = 0; i < 4 && worker?.noteWake(1, performance.now() - 2000) === false; i++);
}

/** Pulls the queue to its end with the bitmap; the queue offsets and bodies delivered, and each pull's parts. */
async function pullAll(store: FileMessageStore, maxMsgNums = 32) {
  const filter = bitsFilter(store);
  const offsets: number[] = [];
  const bodies: string[] = [];
  const partCounts: number[] = [];
  let offset = 0n;
  for (let guard = 0; guard < 1000; guard++) {
    const r = await store.getMessage(topic, 0, offset, maxMsgNums, 4 * 1024 * 1024, filter);
    if (r.status === GetStatus.FOUND) {
      const parts = r.bodyParts ?? [];
      partCounts.push(parts.length);
      // The parts are the records back to back, as they go on the wire.
      assert.deepEqual(Buffer.concat(parts as Buffer[]), Buffer.concat(r.records));
      for (const rec of r.records) {
        const m = decodeRecord(rec).msg;
        offsets.push(Number(m.queueOffset));
        bodies.push(m.body.toString());
      }
    } else assert.equal(r.status, GetStatus.NO_MATCHED_MESSAGE);
    r.release?.();
    offset = r.nextBeginOffset;
    if (offset >= r.maxOffset) return { offsets, bodies, partCounts };
  }
  throw new Error('the queue never ends');
}

for (const where of ['read worker', 'main thread'] as const) {
  test(`a record failing its BODYCRC in the middle of a bitmap pull (${where}) is skipped and counted, the rest delivered`, async () => {
    const { dir, offsets } = await filled();
    // Record 207 is read together with 208 (its neighbour): 208 is kept, moved down over it.
    const bad = 207;
    const rec = Number(offsets[bad]);
    const segStart = rec - (rec % segmentBytes);
    const fh = await fs.open(path.join(dir, 'commitlog', String(segStart).padStart(20, '0')), 'r+');
    await fh.write(Buffer.from('#'), 0, 1, rec - segStart + RecordPos.body + 3);
    await fh.close();
    // No tail check at start: the read path must catch it (records stored before this start are CRC-checked).
    const off = where === 'main thread' ? { sparseReadWorkerEnable: false } : {};
    const store = await open(dir, { recoverTailCheckBytes: 0, ...off });
    try {
      unpause();
      const jobs = workerJobs();
      const got = await pullAll(store);
      const want = matching.filter((i) => i !== bad);
      assert.deepEqual(got.offsets, want);
      assert.deepEqual(
        got.bodies,
        want.map((i) => bodyOf(i)),
      );
      assert.equal(store.stats()['storeRecordsSkippedCrc'], 1);
      // Far-apart records, one buffer per pull: each full pull is one body part, not one per record.
      assert.ok(got.partCounts.length >= 2);
      for (const n of got.partCounts) assert.equal(n, 1);
      if (where === 'read worker') assert.ok(workerJobs() > jobs, 'the worker read');
      else assert.equal(workerJobs(), jobs);
    } finally {
      await store.shutdown();
    }
  });
}

test('the read worker delivers the same records as reads on the main thread', async () => {
  await withWorkerStore(async (store) => {
    const jobs = workerJobs();
    const inWorker = await pullAll(store);
    assert.ok(workerJobs() > jobs, 'the worker read');
    onMainThread(store);
    const here = await pullAll(store);
    assert.deepEqual(inWorker.offsets, matching);
    assert.deepEqual(here.offsets, matching);
    assert.deepEqual(inWorker.bodies, here.bodies);
    assert.deepEqual(
      inWorker.bodies,
      matching.map((i) => bodyOf(i)),
    );
    assert.deepEqual(inWorker.partCounts, here.partCounts);
  });
});

test("each full pull's successor is read ahead by the worker and taken: the same records as the main thread", async () => {
  await withWorkerStore(async (store) => {
    const taken = aheadStats.taken;
    // 60 matches by 8: seven full pulls, each followed by a pull that takes what was read ahead for it, but for
    // one whose side-queue entries lie in a ConsumeQueue file not yet opened (read ahead only from open files).
    const ahead = await pullAll(store, 8);
    assert.equal(aheadStats.taken - taken, 6);
    onMainThread(store);
    const here = await pullAll(store, 8);
    assert.equal(aheadStats.taken - taken, 6, 'no read ahead without the worker');
    assert.deepEqual(ahead.offsets, matching);
    assert.deepEqual(ahead.bodies, here.bodies);
    assert.deepEqual(ahead.partCounts, here.partCounts);
  });
});

const offsetsOf = (r: { records: Buffer[] }) => r.records.map((rec) => Number(decodeRecord(rec).msg.queueOffset));

test('a read ahead the worker has not begun when its pull comes is read by that pull itself: the same records', async () => {
  await withWorkerStore(async (store) => {
    const filter = bitsFilter(store);
    const get = (from: bigint) => store.getMessage(topic, 0, from, 8, 4 * 1024 * 1024, filter);
    const a = await get(0n);
    // The worker reads a's next two (b's and c's records) meanwhile, then sleeps.
    await new Promise((r) => setTimeout(r, 50));
    const { taken, takenBack } = aheadStats;
    // b takes what was read ahead and starts d's and e's read ahead, whose wake waits for the end of the event-loop
    // turn; c takes its own, read already; d comes within the same turn: the worker has not begun it.
    const b = await get(a.nextBeginOffset);
    const c = await get(b.nextBeginOffset);
    const d = await get(c.nextBeginOffset);
    assert.deepEqual([aheadStats.taken - taken, aheadStats.takenBack - takenBack], [3, 1]);
    assert.deepEqual(
      [a, b, c, d].flatMap((r) => offsetsOf(r)),
      matching.slice(0, 32),
    );
    for (const r of [a, b, c, d]) r.release?.();
    assert.equal(store.stats()['storeRecordsSkippedCrc'], 0);
  });
});

test('a read ahead the worker has done is taken by its pull at once, before the worker says so: the same records', async () => {
  await withWorkerStore(async (store) => {
    const filter = bitsFilter(store);
    // Pulls of three: a..e in the first ConsumeQueue file (20 matches; read ahead only from open files).
    const get = (from: bigint) => store.getMessage(topic, 0, from, 3, 4 * 1024 * 1024, filter);
    const a = await get(0n);
    // a read its next two (b's and c's) ahead with its own job; they are done and settled meanwhile.
    await new Promise((r) => setTimeout(r, 50));
    // b takes its own and reads the next two (d's and e's) ahead; the worker is woken at the end of this turn.
    const b = await get(a.nextBeginOffset);
    await new Promise((r) => setImmediate(r));
    // The main thread does not turn (the worker's message waits) until the worker has done them.
    const until = performance.now() + 10_000;
    while (worker?.busy() === true && performance.now() < until);
    assert.equal(worker?.busy(), false, 'the worker did the reads ahead');
    const { taken, ready, polled, waited } = aheadStats;
    const since = () => [
      aheadStats.taken - taken,
      aheadStats.polled - polled,
      aheadStats.ready - ready,
      aheadStats.waited - waited,
    ];
    const c = await get(b.nextBeginOffset);
    assert.deepEqual(since(), [1, 0, 1, 0], "c's was settled before");
    const d = await get(c.nextBeginOffset);
    assert.deepEqual(since(), [2, 1, 1, 0], "d's taken, settled by the look at the done ring, not waited for");
    // After the worker's message was handled, the next is settled already.
    await new Promise((r) => setTimeout(r, 20));
    const e = await get(d.nextBeginOffset);
    assert.deepEqual(since(), [3, 1, 2, 0]);
    assert.deepEqual(
      [a, b, c, d, e].flatMap((r) => offsetsOf(r)),
      matching.slice(0, 15),
    );
    for (const r of [a, b, c, d, e]) r.release?.();
    assert.equal(store.stats()['storeRecordsSkippedCrc'], 0);
  });
});

test('a stream that keeps pulling has its next pulls read ahead two at a time, topped up when one is left', async () => {
  await withWorkerStore(async (store) => {
    const filter = bitsFilter(store);
    // Pulls of three (sparse: a pair of neighbours is not), a..e in the first ConsumeQueue file (20 matches).
    const get = (from: bigint) => store.getMessage(topic, 0, from, 3, 4 * 1024 * 1024, filter);
    const { scheduled, taken } = aheadStats;
    const since = () => [aheadStats.scheduled - scheduled, aheadStats.taken - taken];
    const a = await get(0n);
    assert.deepEqual(since(), [aheadBatch, 0], 'the first full pull reads its next two ahead');
    const b = await get(a.nextBeginOffset);
    assert.deepEqual(since(), [2 * aheadBatch, 1], 'one left after b took its own: two more');
    const c = await get(b.nextBeginOffset);
    assert.deepEqual(since(), [2 * aheadBatch, 2], 'two left after c took its own: none');
    const d = await get(c.nextBeginOffset);
    assert.equal(since()[1], 3, 'd took its own, read ahead with c');
    assert.deepEqual(
      [a, b, c, d].flatMap((r) => offsetsOf(r)),
      matching.slice(0, 12),
    );
    for (const r of [a, b, c, d]) r.release?.();
    assert.equal(store.stats()['storeRecordsSkippedCrc'], 0);
  });
});

test("a stream's first pull posts its next two pulls' reads ahead right after its own job: both taken, the same records", async () => {
  await withWorkerStore(async (store) => {
    const filter = bitsFilter(store);
    const get = (from: bigint) => store.getMessage(topic, 0, from, 3, 4 * 1024 * 1024, filter);
    const w = worker as ReadWorker;
    // Each job posted: whether a pull waits for it, and whether the first pull's own job had been read by then.
    const posts: Array<[boolean, boolean]> = [];
    let own: Promise<boolean> | undefined;
    let ownRead = false;
    const run = w.run;
    w.run = function (this: ReadWorker, slot: number, spans: number, timed?: boolean) {
      posts.push([timed !== false, ownRead]);
      const job = run.call(this, slot, spans, timed);
      if (own === undefined) {
        own = job;
        job.then(() => {
          ownRead = true;
        });
      }
      return job;
    };
    const { taken } = aheadStats;
    let a: Awaited<ReturnType<typeof get>>;
    try {
      a = await get(0n);
    } finally {
      w.run = run;
    }
    // Its own job, then its next two while it waits for its records (one wake of the worker for the three), not
    // once they came.
    assert.deepEqual(posts, [
      [true, false],
      [false, false],
      [false, false],
    ]);
    const b = await get(a.nextBeginOffset);
    const c = await get(b.nextBeginOffset);
    assert.equal(aheadStats.taken - taken, 2, 'b and c took theirs (read by the worker or taken back)');
    assert.deepEqual(
      [a, b, c].flatMap((r) => offsetsOf(r)),
      matching.slice(0, 9),
    );
    for (const r of [a, b, c]) r.release?.();
    assert.equal(store.stats()['storeRecordsSkippedCrc'], 0);
  });
});

test("a read ahead reads about as much of the side queue as the stream's last pick spanned, more only when short", async () => {
  await withWorkerStore(async (store) => {
    const filter = bitsFilter(store);
    const get = (from: bigint) => store.getMessage(topic, 0, from, 3, 4 * 1024 * 1024, filter);
    const bq = store.bitmapQueueOf(topic, 0);
    assert.ok(bq !== undefined);
    // Entries asked of the side queue per blocking read.
    const asked: number[] = [];
    const readNow = bq.readNow;
    bq.readNow = function (this: typeof bq, offset: number, count: number, into: Buffer) {
      asked.push(count);
      return readNow.call(this, offset, count, into);
    };
    const { taken } = aheadStats;
    const got: Array<Awaited<ReturnType<typeof get>>> = [];
    try {
      let from = 0n;
      for (let i = 0; i < 5; i++) {
        const r = await get(from);
        got.push(r);
        from = r.nextBeginOffset;
      }
    } finally {
      bq.readNow = readNow;
    }
    // The first pull's own chunk (4,096 entries asked), then its reads ahead's: a pull of 3 spans 101 or 199
    // entries here (pairs of neighbours every 100); a part that ran short is followed by one for the rest.
    assert.equal(asked[0], 4096);
    assert.ok(asked.length > 1 && asked.slice(1).every((n) => n < 512), `entries asked: ${asked.join(', ')}`);
    assert.equal(aheadStats.taken - taken, 4, 'b..e took theirs');
    assert.deepEqual(
      got.flatMap((r) => offsetsOf(r)),
      matching.slice(0, 15),
    );
    for (const r of got) r.release?.();
    assert.equal(store.stats()['storeRecordsSkippedCrc'], 0);
  });
});

test("a pull over entries older than the filter's bits reads nothing ahead from where its candidates end", async () => {
  const dir = await tempDir('tsrocket-sparse-');
  dirs.push(dir);
  const first = await open(dir);
  const put = async (store: FileMessageStore, from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const m = msg(topic, 0, bodyOf(i));
      m.properties = `bucket\u0001${i % 100}\u0002seq\u0001${i}\u0002`;
      await store.putMessage(m);
    }
  };
  // A ConsumeQueue file's worth (1,000) before the filter is registered: its side queue begins at the next file.
  await put(first, 0, 1000);
  assert.ok(first.filterBitmap?.register(topic, group, expression));
  await put(first, 1000, 2000);
  await first.shutdown();
  const store = await open(dir);
  try {
    unpause();
    const filter = bitsFilter(store);
    assert.equal(store.bitmapQueueOf(topic, 0)?.minOffset, 1000);
    const { scheduled, dropped } = aheadStats;
    // From 700 (a reset): its candidates are every entry up to the side queue (judged on their properties), it
    // fills up at 807; nothing is read ahead from 1,000, where the candidates end.
    const r = await store.getMessage(topic, 0, 700n, 3, 4 * 1024 * 1024, filter);
    assert.deepEqual(offsetsOf(r), [707, 708, 807]);
    r.release?.();
    assert.deepEqual([aheadStats.scheduled - scheduled, aheadStats.dropped - dropped], [0, 0], 'none read ahead');
  } finally {
    await store.shutdown();
  }
});

test('no read ahead reads the side queue while fewer than half the arenas are free', async () => {
  await withWorkerStore(async (store) => {
    const filter = bitsFilter(store);
    const bq = store.bitmapQueueOf(topic, 0);
    assert.ok(bq !== undefined);
    const asked: number[] = [];
    const readNow = bq.readNow;
    bq.readNow = function (this: typeof bq, offset: number, count: number, into: Buffer) {
      asked.push(count);
      return readNow.call(this, offset, count, into);
    };
    // Leave fewer than half of them free (answers come first).
    const kept: Buffer[] = [];
    while (freeArenaCount() >= 15) kept.push(takeArena() as Buffer);
    const { scheduled } = aheadStats;
    try {
      const r = await store.getMessage(topic, 0, 0n, 3, 4 * 1024 * 1024, filter);
      assert.deepEqual(offsetsOf(r), matching.slice(0, 3));
      r.release?.();
    } finally {
      bq.readNow = readNow;
      for (const b of kept) giveArena(b);
    }
    assert.equal(aheadStats.scheduled - scheduled, 0, 'none read ahead');
    assert.deepEqual(asked, [4096], "the pull's own chunk only");
  });
});

test('a read ahead is dropped, not taken, by a pull of another maxMsgNums or after the log start passed it', async () => {
  await withWorkerStore(async (store) => {
    const filter = bitsFilter(store);
    const scheduled = aheadStats.scheduled;
    const first = await store.getMessage(topic, 0, 0n, 8, 4 * 1024 * 1024, filter);
    assert.deepEqual(offsetsOf(first), matching.slice(0, 8));
    first.release?.();
    const { taken, dropped } = aheadStats;
    const nine = await store.getMessage(topic, 0, first.nextBeginOffset, 9, 4 * 1024 * 1024, filter);
    assert.deepEqual(offsetsOf(nine), matching.slice(8, 17));
    nine.release?.();
    // The first pull read ahead its next two (a batch), both dropped.
    assert.deepEqual([aheadStats.taken - taken, aheadStats.dropped - dropped], [0, aheadBatch]);
    // The pull of nine read ahead its next two; then the log's only segment is deleted under them.
    const segs = (store.commitLog as unknown as { segs: { deleteFirst(): Promise<void> } }).segs;
    await segs.deleteFirst();
    const after = await store.getMessage(topic, 0, nine.nextBeginOffset, 9, 4 * 1024 * 1024, filter);
    assert.notEqual(after.status, GetStatus.FOUND, 'records of a deleted segment served from a read ahead');
    after.release?.();
    // Every one read ahead since was dropped (the second batch holds fewer where a ConsumeQueue file ends).
    assert.ok(aheadStats.scheduled - scheduled > aheadBatch);
    assert.deepEqual([aheadStats.taken - taken, aheadStats.dropped - dropped], [0, aheadStats.scheduled - scheduled]);
  });
});

test('a file closed while its descriptor is leased closes once the lease ends, and leases no more meanwhile', async () => {
  const dir = await tempDir('tsrocket-lease-');
  dirs.push(dir);
  const file = await new NodeStorageIO().open(path.join(dir, 'f'));
  await file.write(Buffer.from('leased bytes'), 0);
  const fd = file.leaseFd?.();
  assert.ok(fd !== undefined);
  let closed = false;
  const closing = file.close().then(() => {
    closed = true;
  });
  assert.equal(file.leaseFd?.(), undefined, 'a closing file leases no descriptor');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(closed, false);
  // The descriptor still reads this file (not another one opened under a reused number).
  const buf = Buffer.alloc(6);
  assert.equal((await import('node:fs')).readSync(fd, buf, 0, 6, 0), 6);
  assert.equal(buf.toString(), 'leased');
  file.endLease?.();
  await closing;
  assert.equal(closed, true);
});

test('a segment deleted while the read worker reads it: the pull delivers intact records, the deletion completes', async () => {
  const { dir } = await filled();
  const store = await open(dir);
  try {
    const filter = bitsFilter(store);
    // A first pull opens the queue's files (their first reads go through the thread pool).
    const first = await store.getMessage(topic, 0, 0n, 32, 4 * 1024 * 1024, filter);
    first.release?.();
    unpause();
    const jobs = workerJobs();
    // The job is handed to the worker (its descriptor leased) within the pull's first microtasks, before the
    // event loop can deliver the worker's answer: the deletion starts while the job is in flight. (31, not 32: the
    // read ahead of the first pull, for a pull of 32, is not taken: this pull's own job reads.)
    const pulling = store.getMessage(topic, 0, first.nextBeginOffset, 31, 4 * 1024 * 1024, filter);
    for (let i = 0; i < 1000 && workerJobs() === jobs; i++) await Promise.resolve();
    assert.equal(workerJobs(), jobs + 1);
    const segs = (store.commitLog as unknown as { segs: { deleteFirst(): Promise<void> } }).segs;
    const deleting = segs.deleteFirst();
    const r = await pulling;
    await deleting;
    // What the job read is delivered intact (a later chunk of the pull, reading after the deletion, stops it).
    assert.equal(r.status, GetStatus.FOUND);
    const bodies = r.records.map((rec) => decodeRecord(rec).msg.body.toString());
    assert.ok(bodies.length >= 1);
    assert.deepEqual(
      bodies,
      matching.slice(32, 32 + bodies.length).map((i) => bodyOf(i)),
    );
    r.release?.();
    // Its bytes gone, the next pulls skip them.
    const after = await store.getMessage(topic, 0, r.nextBeginOffset, 32, 4 * 1024 * 1024, filter);
    assert.notEqual(after.status, GetStatus.FOUND);
    after.release?.();
  } finally {
    await store.shutdown();
  }
});

test('sparse reads sent to the thread pool before or part-way through a pull deliver the same records', async () => {
  const { dir } = await filled();
  const store = await open(dir);
  onMainThread(store);
  try {
    const plain = await pullAll(store);
    assert.deepEqual(plain.offsets, matching);
    const log = store.commitLog as unknown as { readSparseInto: (...a: unknown[]) => string };
    const own = log.readSparseInto.bind(log);
    for (const blockingReads of [0, 1, 5, 17]) {
      // After `blockingReads` blocking reads in each pull's chunk, the rest must wait (as after slow reads).
      let calls = 0;
      log.readSparseInto = (...a: unknown[]) => (calls++ % 20 < blockingReads ? own(...a) : 'later');
      const got = await pullAll(store);
      assert.deepEqual(got.offsets, plain.offsets, `after ${blockingReads} blocking reads`);
      assert.deepEqual(got.bodies, plain.bodies);
    }
    log.readSparseInto = own;
    // Slow blocking reads send them all to the thread pool for a while.
    const reader = (store.commitLog as unknown as { reader: LogReader }).reader;
    (reader as unknown as { sparseAsyncUntilMs: number }).sparseAsyncUntilMs = performance.now() + 60_000;
    assert.deepEqual((await pullAll(store)).offsets, matching);
    assert.equal(store.stats()['storeRecordsSkippedCrc'], 0);
  } finally {
    await store.shutdown();
  }
});

/** True when two buffers share memory (arenas are parts of one shared slab). */
function overlap(a: Buffer, b: Buffer): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}

test("a pull's buffer is reused only once its response was released", async () => {
  const { dir } = await filled();
  const store = await open(dir);
  try {
    const filter = bitsFilter(store);
    const first = await store.getMessage(topic, 0, 0n, 32, 4 * 1024 * 1024, filter);
    const firstBytes = Buffer.concat(first.records);
    const held = first.bodyParts?.[0];
    assert.ok(held !== undefined && first.recordCount === 32);
    // Later pulls while the first is unreleased (its response not written yet) never read into its buffer.
    let offset = first.nextBeginOffset;
    const others = [];
    for (let i = 0; i < 3; i++) {
      const r = await store.getMessage(topic, 0, offset, 4, 4 * 1024 * 1024, filter);
      assert.ok(r.bodyParts?.[0] !== undefined && !overlap(r.bodyParts[0], held), 'reused too early');
      offset = r.nextBeginOffset;
      others.push(r);
    }
    for (const r of others) r.release?.();
    assert.deepEqual(Buffer.concat(first.records), firstBytes);
    first.release?.();
    first.release?.(); // a second release gives nothing back twice
    // Two pulls both unreleased never share a buffer; each answers its own bytes.
    const a = await store.getMessage(topic, 0, 0n, 4, 4 * 1024 * 1024, filter);
    const b = await store.getMessage(topic, 0, 0n, 4, 4 * 1024 * 1024, filter);
    assert.ok(!overlap(a.bodyParts?.[0] as Buffer, b.bodyParts?.[0] as Buffer), 'a and b share a buffer');
    assert.deepEqual(Buffer.concat(a.bodyParts as Buffer[]), firstBytes.subarray(0, a.bufferTotalBytes));
    assert.deepEqual(Buffer.concat(b.bodyParts as Buffer[]), firstBytes.subarray(0, b.bufferTotalBytes));
    a.release?.();
    b.release?.();
  } finally {
    await store.shutdown();
  }
});

test('sixteen pulls unreleased at once each read into an arena of their own in the shared slab', async () => {
  const { dir } = await filled();
  const store = await open(dir);
  const held: Array<{ release?: () => void }> = [];
  try {
    const filter = bitsFilter(store);
    const parts: Buffer[] = [];
    for (let i = 0; i < 16; i++) {
      const r = await store.getMessage(topic, 0, 0n, 4, 4 * 1024 * 1024, filter);
      held.push(r);
      const part = r.bodyParts?.[0] as Buffer | undefined;
      assert.ok(part !== undefined);
      parts.push(part);
    }
    // Every one in the slab the worker sees (none had to fall back to a buffer of its own), no two sharing bytes.
    for (const p of parts) assert.ok(p.buffer instanceof SharedArrayBuffer, 'an arena of the slab');
    for (let i = 0; i < parts.length; i++) {
      for (let j = i + 1; j < parts.length; j++) assert.ok(!overlap(parts[i] as Buffer, parts[j] as Buffer));
    }
  } finally {
    for (const r of held) r.release?.();
    await store.shutdown();
  }
});

test('sparse reads go to the thread pool after three slow groups of reads in a row that fetched bytes from storage, not after one', async () => {
  const { dir, offsets } = await filled();
  const store = await open(dir);
  const reader = (store.commitLog as unknown as { reader: LogReader }).reader;
  // Each look at the process's storage reads sees more fetched (reads that missed the page cache).
  let fetched = 0;
  reader.storageReads = () => (fetched += 4096);
  const buf = Buffer.alloc(4096);
  const phy = Number(offsets[0]);
  const size = 600;
  let clockMs = 1_000_000;
  let stepMs = 0;
  const own = Object.getOwnPropertyDescriptor(performance, 'now');
  // A clock each read of which takes `stepMs` (the reader reads it once at a group's start and once at its end).
  Object.defineProperty(performance, 'now', { configurable: true, value: () => (clockMs += stepMs) });
  try {
    const groups = (n: number, ms: number) => {
      stepMs = ms;
      const got: string[] = [];
      for (let i = 0; i < n * 4; i++) got.push(reader.readSparseInto(phy, size, buf, 0));
      return got;
    };
    // 3 ms per group of four: slow (0.75 ms a read); 1 ms: not (a preempted read among fast ones).
    assert.ok(groups(2, 3).every((g) => g === 'read'));
    assert.ok(groups(1, 1).every((g) => g === 'read'));
    assert.ok(groups(2, 3).every((g) => g === 'read'));
    // A third slow group in a row: the next reads must wait for the thread pool.
    assert.ok(groups(1, 3).every((g) => g === 'read'));
    assert.equal(reader.readSparseInto(phy, size, buf, 0), 'later');
  } finally {
    if (own !== undefined) Object.defineProperty(performance, 'now', own);
    else delete (performance as unknown as { now?: unknown }).now;
    await store.shutdown();
  }
});

test('slow groups of sparse reads that fetched nothing from storage (the process lost its core) keep them blocking', async () => {
  const { dir, offsets } = await filled();
  const store = await open(dir);
  const reader = (store.commitLog as unknown as { reader: LogReader }).reader;
  reader.storageReads = () => 1_000_000;
  const buf = Buffer.alloc(4096);
  let clockMs = 1_000_000;
  const own = Object.getOwnPropertyDescriptor(performance, 'now');
  // Every group of four takes 6 ms (1.5 ms a read): slow, but all from the page cache.
  Object.defineProperty(performance, 'now', { configurable: true, value: () => (clockMs += 6) });
  try {
    for (let i = 0; i < 40; i++) assert.equal(reader.readSparseInto(Number(offsets[0]), 600, buf, 0), 'read');
    assert.equal(reader.sparseReadsAsync(), false);
  } finally {
    if (own !== undefined) Object.defineProperty(performance, 'now', own);
    else delete (performance as unknown as { now?: unknown }).now;
    await store.shutdown();
  }
});

test('a worker that wakes late four jobs in a row is left alone for a second: the main thread reads meanwhile (reads ahead go on)', async () => {
  await withWorkerStore(async (store) => {
    assert.ok(worker !== undefined);
    // A fast wake between slow ones starts the count again.
    for (const ms of [2, 2, 2, 0.01, 2, 2, 2]) assert.equal(worker.noteWake(ms), false);
    assert.equal(worker.noteWake(2), true);
    assert.equal(ReadWorker.shared(), undefined);
    const jobs = worker.jobsRun;
    const { scheduled, taken } = aheadStats;
    const got = await pullAll(store);
    assert.deepEqual(got.offsets, matching);
    // Reads ahead (no pull waits for them) go on during the pause: the only jobs; the pulls waited for none.
    assert.ok(aheadStats.scheduled > scheduled && aheadStats.taken > taken, 'read ahead during the pause');
    assert.equal(worker.jobsRun - jobs, aheadStats.scheduled - scheduled, 'the main thread read the rest');
    // A pause that ended (as if begun 2 s ago): the worker reads again.
    for (let i = 0; i < 4; i++) worker.noteWake(2, performance.now() - 2000);
    assert.equal(ReadWorker.shared(), worker);
    assert.deepEqual((await pullAll(store)).offsets, matching);
    assert.ok(worker.jobsRun > jobs);
  });
});

test('when the read worker fails, sparse reads go back to the main thread and deliver the same records', async () => {
  await withWorkerStore(async (store) => {
    assert.ok(worker !== undefined);
    await (worker as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    // The exit event reaches the main thread in a later turn.
    for (let i = 0; i < 100 && ReadWorker.shared() !== undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(ReadWorker.shared(), undefined);
    const got = await pullAll(store);
    assert.deepEqual(got.offsets, matching);
    assert.deepEqual(
      got.bodies,
      matching.map((i) => bodyOf(i)),
    );
  });
});
