/**
 * The next pull of a filtered stream, read ahead by the read worker (read-worker.ts). A pull the filter bitmap
 * filled ends where its consumer's next pull begins: the candidates from there are picked at once and the worker
 * reads them (and checks their BODYCRC) into an arena of their own while the answer travels and the consumer asks
 * again. That pull then finds its records read, instead of ~32 preads on the main thread or a wait for the worker
 * (two thread wake-ups). It still checks every record (size, magic, queue offset) and judges it on its properties;
 * it takes the read ahead only for the same queue, offset, maxMsgNums and filter bits, with the log's start still
 * below the first record, else drops it and reads as before. A stream that keeps pulling has its next pulls read
 * ahead a batch at a time (`readAhead`). Bounded: `aheadBatch + 1` per queue and filter, `aheadsMax` in all,
 * dropped when `aheadTtlMs` old untaken.
 */
import type { ConsumeQueue } from './consume-queue.js';
import { postSparseJob, sparseBytes } from './read-filtered.js';
import type { Picked, ReadSource } from './read-path.js';
import { spansOf } from './read-path.js';
import { arenaBytes, arenasMax, freeArenaCount, giveArena, jobSpansMax, ReadWorker, takeArena } from './read-worker.js';
import type { BitmapProbe } from './types.js';

/** Reads ahead in flight or waiting; one starts only while half the slab's arenas are free (answers come first). */
export const aheadsMax = 16;
/** Pulls of a stream read ahead at a time (see `readAhead`). */
export const aheadBatch = 2;
const freeArenasMin = arenasMax / 2;
const aheadTtlMs = 1000;

export interface Ahead {
  readonly picked: Picked;
  readonly spanFirst: number[];
  /** An arena of the shared slab, the spans back to back from 0; the taker owns it (`Collected.adoptArena`). */
  readonly arena: Buffer;
  /** True once read (false: the worker failed first). */
  readonly job: Promise<boolean>;
  readonly worker: ReadWorker;
}

interface Held extends Ahead {
  readonly store: ReadSource;
  readonly q: ConsumeQueue;
  readonly probe: BitmapProbe;
  /** The probe's fields when the candidates were picked (a replaced or dropped filter changes them). */
  readonly bits: BitmapProbe;
  readonly offset: number;
  readonly want: number;
  readonly atMs: number;
}

const held: Held[] = [];
/**
 * Reads ahead started, taken by their pull (of which taken back before the worker began them), dropped; of those
 * the worker read, found settled by their pull (`ready`), done but settled by its look at the worker's done ring
 * (`polled`: its message not handled yet), or waited for (`waited`, for `waitedMs` in all).
 */
export const aheadStats = {
  scheduled: 0,
  taken: 0,
  takenBack: 0,
  dropped: 0,
  ready: 0,
  polled: 0,
  waited: 0,
  waitedMs: 0,
};

function bitsOf(p: BitmapProbe): BitmapProbe {
  return { maskHi: p.maskHi, maskLo: p.maskLo, bornPhyOffset: p.bornPhyOffset, deadPhyOffset: p.deadPhyOffset };
}

/** Whether `p`'s fields are still those of `bits` (compared field by field: no string per pull). */
function sameBits(bits: BitmapProbe, p: BitmapProbe): boolean {
  return (
    bits.maskHi === p.maskHi &&
    bits.maskLo === p.maskLo &&
    bits.bornPhyOffset === p.bornPhyOffset &&
    bits.deadPhyOffset === p.deadPhyOffset
  );
}

/**
 * The read ahead for a pull of `want` from `offset` of `q` with `probe`, taken (undefined: none fits; then the
 * stream's reads ahead, read for other offsets, are dropped).
 */
export function takeAhead(
  q: ConsumeQueue,
  probe: BitmapProbe,
  offset: number,
  want: number,
  minPhy: number,
): Ahead | undefined {
  if (held.length === 0) return undefined;
  const now = performance.now();
  // The stream's first (lowest offset) is the one its next pull takes.
  const i = held.findIndex((a) => a.q === q && a.probe === probe);
  if (i < 0) return undefined;
  const a = held[i] as Held;
  const fits =
    a.offset === offset &&
    a.want === want &&
    sameBits(a.bits, probe) &&
    (a.picked.phys[0] as number) >= minPhy &&
    now - a.atMs <= aheadTtlMs;
  if (fits) {
    held.splice(i, 1);
    aheadStats.taken++;
    return a;
  }
  dropStream(q, probe);
  return undefined;
}

/**
 * Reads ahead the pulls of `want` that follow one ending at `offset` (which filled up): `pickFrom` gives a pull's
 * candidates (as that pull's first chunk would pick them; undefined when they cannot be picked now), told how many
 * entries the stream's last full pick spanned (`spanned`, from the one before it or the caller's: undefined when
 * not known), so that it reads about as many of the side queue rather than a whole chunk. A stream keeps
 * up to `aheadBatch + 1` pulls read ahead and tops them up `aheadBatch` at a time once one is left, so that each
 * was posted at least a pull before it is asked for and one wake-up of the worker (and one message back) serves
 * `aheadBatch` pulls. Also while the worker is paused after late wake-ups (no pull waits for these). Nothing when
 * the worker is off or failed, sparse reads are in the thread pool, the
 * candidates are not sparse or too many, or no arena is free.
 */
export function readAhead(
  store: ReadSource,
  q: ConsumeQueue,
  probe: BitmapProbe,
  offset: number,
  want: number,
  pickFrom: (offset: number, spanned: number | undefined) => Picked | undefined,
  spanned?: number,
): void {
  const sparse = store.commitLog.sparse;
  if (!sparse.workerReads() || sparse.sparseReadsAsync()) return;
  const worker = ReadWorker.shared(true);
  if (worker === undefined) return;
  const now = performance.now();
  let mine = 0;
  let tail: Held | undefined;
  for (let i = held.length - 1; i >= 0; i--) {
    const a = held[i] as Held;
    if (now - a.atMs > aheadTtlMs) {
      held.splice(i, 1);
      drop(a);
    } else if (a.q === q && a.probe === probe) {
      mine++;
      tail ??= a;
    }
  }
  // Those held must continue at `offset` (a pull of another size or start, or a changed filter: read anew).
  const first = held.find((a) => a.q === q && a.probe === probe);
  if (first !== undefined && (first.offset !== offset || first.want !== want || !sameBits(first.bits, probe))) {
    dropStream(q, probe);
    mine = 0;
    tail = undefined;
  }
  if (mine > 1) return;
  let from: number | undefined = offset;
  if (tail !== undefined) {
    from = afterFull(tail.picked, want);
    if (from !== undefined) spanned = from - tail.offset;
  }
  if (from === undefined) return;
  for (let n = 0; n < aheadBatch && held.length < aheadsMax; n++) {
    // Before the pick (its side-queue read): none starts without a free arena.
    if (freeArenaCount() < freeArenasMin) return;
    const picked = pickFrom(from, spanned);
    if (picked === undefined || picked.phys.length === 0) return;
    const spanFirst = spansOf(picked.phys, picked.sizes, store.commitLog.segmentBytes);
    if (spanFirst.length - 1 > jobSpansMax || sparseBytes(picked, spanFirst) > arenaBytes) return;
    const arena = takeArena();
    if (arena === undefined) return;
    const job = postSparseJob(worker, store, picked, spanFirst, arena, 0, false);
    if (job === undefined) {
      giveArena(arena);
      return;
    }
    aheadStats.scheduled++;
    const bits = bitsOf(probe);
    held.push({ store, q, probe, bits, offset: from, want, atMs: now, picked, spanFirst, arena, job, worker });
    const after = afterFull(picked, want);
    if (after === undefined) return;
    spanned = after - from;
    from = after;
  }
}

/**
 * Where the pull after one reading `picked` begins: after its last record when every pick matches and fills it
 * (as that pull answers); undefined when they do not fill it (it scans on past them: not known yet).
 */
export function afterFull(picked: Picked, want: number): number | undefined {
  const n = picked.queueOffsets.length;
  return n < want ? undefined : (picked.queueOffsets[n - 1] as number) + 1;
}

/** Drops the stream's reads ahead (`q` with `probe`). */
function dropStream(q: ConsumeQueue, probe: BitmapProbe): void {
  for (let i = held.length - 1; i >= 0; i--) {
    const a = held[i] as Held;
    if (a.q !== q || a.probe !== probe) continue;
    held.splice(i, 1);
    drop(a);
  }
}

/** Drops the reads ahead of `store` (it stops); resolves once the worker is done with them. */
export async function dropAheadsOf(store: ReadSource): Promise<void> {
  const jobs: Array<Promise<boolean>> = [];
  for (let i = held.length - 1; i >= 0; i--) {
    const a = held[i] as Held;
    if (a.store !== store) continue;
    held.splice(i, 1);
    drop(a);
    jobs.push(a.job);
  }
  await Promise.all(jobs);
}

/** Gives a read ahead's arena back once the worker is done with it. */
export function drop(a: Ahead): void {
  aheadStats.dropped++;
  a.job.then(
    () => giveArena(a.arena),
    () => giveArena(a.arena),
  );
}
