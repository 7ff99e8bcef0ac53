/**
 * The next pull of a filtered stream, read ahead by the read worker (read-worker.ts). A pull the filter bitmap
 * filled ends where its consumer's next pull begins: the candidates from there are picked at once and the worker
 * reads them (and checks their BODYCRC) into an arena of their own while the answer travels and the consumer asks
 * again. That pull then finds its records read, instead of ~32 preads on the main thread or a wait for the worker
 * (two thread wake-ups). It still checks every record (size, magic, queue offset) and judges it on its properties;
 * it takes the read ahead only for the same queue, offset, maxMsgNums and filter bits, with the log's start still
 * below the first record, else drops it and reads as before. Bounded: one per queue and filter, `aheadsMax` in
 * all, dropped when `aheadTtlMs` old untaken.
 */
import type { ConsumeQueue } from './consume-queue.js';
import { postSparseJob, sparseBytes } from './read-filtered.js';
import type { Picked, ReadSource } from './read-path.js';
import { spansOf } from './read-path.js';
import { arenaBytes, arenasMax, freeArenaCount, giveArena, jobSpansMax, ReadWorker, takeArena } from './read-worker.js';
import type { BitmapProbe } from './types.js';

/** Reads ahead in flight or waiting; one starts only while half the slab's arenas are free (answers come first). */
export const aheadsMax = 8;
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
  readonly bits: string;
  readonly offset: number;
  readonly want: number;
  readonly atMs: number;
}

const held: Held[] = [];
/** Reads ahead started, taken by their pull (of which taken back before the worker began them), dropped. */
export const aheadStats = { scheduled: 0, taken: 0, takenBack: 0, dropped: 0 };

function bitsOf(p: BitmapProbe): string {
  return `${p.maskHi}:${p.maskLo}:${p.bornPhyOffset}:${p.deadPhyOffset}`;
}

/**
 * The read ahead for a pull of `want` from `offset` of `q` with `probe`, taken (undefined: none fits; one for
 * another offset of the same stream is dropped).
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
  for (let i = 0; i < held.length; i++) {
    const a = held[i] as Held;
    if (a.q !== q || a.probe !== probe) continue;
    held.splice(i, 1);
    const fits =
      a.offset === offset &&
      a.want === want &&
      a.bits === bitsOf(probe) &&
      (a.picked.phys[0] as number) >= minPhy &&
      now - a.atMs <= aheadTtlMs;
    if (fits) {
      aheadStats.taken++;
      return a;
    }
    drop(a);
    return undefined;
  }
  return undefined;
}

/**
 * Starts the read ahead of the pull of `want` from `offset`: `pickFrom` gives its candidates (as that pull's first
 * chunk would pick them; undefined when they cannot be picked now). Nothing when the worker is off, paused or
 * failed, sparse reads are in the thread pool, the candidates are not sparse or too many, or no arena is free.
 */
export function readAhead(
  store: ReadSource,
  q: ConsumeQueue,
  probe: BitmapProbe,
  offset: number,
  want: number,
  pickFrom: (offset: number) => Picked | undefined,
): void {
  const sparse = store.commitLog.sparse;
  if (!sparse.workerReads() || sparse.sparseReadsAsync()) return;
  const worker = ReadWorker.shared();
  if (worker === undefined) return;
  const now = performance.now();
  for (let i = held.length - 1; i >= 0; i--) {
    const a = held[i] as Held;
    if ((a.q === q && a.probe === probe) || now - a.atMs > aheadTtlMs) {
      held.splice(i, 1);
      drop(a);
    }
  }
  if (held.length >= aheadsMax) return;
  const picked = pickFrom(offset);
  if (picked === undefined || picked.phys.length === 0) return;
  const spanFirst = spansOf(picked.phys, picked.sizes, store.commitLog.segmentBytes);
  if (spanFirst.length - 1 > jobSpansMax || sparseBytes(picked, spanFirst) > arenaBytes) return;
  const arena = freeArenaCount() >= freeArenasMin ? takeArena() : undefined;
  if (arena === undefined) return;
  const job = postSparseJob(worker, store, picked, spanFirst, arena, 0, false);
  if (job === undefined) {
    giveArena(arena);
    return;
  }
  aheadStats.scheduled++;
  held.push({ store, q, probe, bits: bitsOf(probe), offset, want, atMs: now, picked, spanFirst, arena, job, worker });
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
