/**
 * What the main thread and the read worker share (read-worker.ts, read-worker-thread.ts): the arenas sparse records
 * are read into (one slab, `arenasMax` arenas, arena k is job slot k), and the control buffer: the jobs' reads,
 * their results, and two rings of job messages (posted by the main thread, done by the worker) with their counters
 * (`Ctl`), so that neither side pays a `postMessage` per job: the main thread wakes the worker (a futex) only when
 * it sleeps, the worker wakes the main thread (one message) only when it is not already woken.
 */

export interface ControlLayout {
  arenaBytes: number;
  arenasMax: number;
  /** Reads one job does at most. */
  spansMax: number;
}

/**
 * How the worker reads (read-worker-thread.ts): `map` the native module with mapped segments, `pread` the native
 * module with preads only, `off` `fs.readSync`; `mapBytesMax` bounds the bytes mapped in (the RSS they add);
 * after `idleMs` without a job the mappings are dropped (the broker's RSS back to what it was).
 */
export interface SparseOptions {
  mode: 'map' | 'pread' | 'off';
  mapBytesMax: number;
  idleMs: number;
}

/** Per read of a job: descriptor, file position, length, place in the arena, check BODYCRC (1) or not (0). */
export const spanFields = 5;

/**
 * Counters in `ctl`: jobs posted, the worker asleep (1), jobs done, the main thread woken and not yet drained (1),
 * the rings, and how often the store changed its segment files (`segments`: bumped before a segment is truncated,
 * deleted or closed; the worker then drops the mappings it reads through, see read-worker.ts).
 */
export const Ctl = { posted: 0, asleep: 1, done: 2, woken: 3, posts: 4, dones: 4 + 256, segments: 4 + 512 } as const;
/**
 * Who reads a posted job (`claims`, one per slot): open until the worker begins it or the main thread takes it
 * back (a read ahead the worker has not begun when its pull arrives is read by the pull itself).
 */
export const Claim = { open: 0, worker: 1, main: 2 } as const;
/** Ring sizes (more than the slots that can be in flight; a power of two). */
export const ringSize = 256;

/**
 * The counters are int32s that wrap (a broker runs more than 2^31 jobs): both sides step them with `nextCount`
 * and compare them with `!==` only; `ringAt` is the place of a count in a ring.
 */
export function nextCount(n: number): number {
  return (n + 1) | 0;
}

export function ringAt(n: number): number {
  return n & (ringSize - 1);
}

/** Int32s of `ctl`. */
const ctlInts = 5 + 2 * ringSize;

export function controlBytes(l: ControlLayout): number {
  return l.arenasMax * (l.spansMax * (spanFields * 8 + 8) + 16) + ctlInts * 4 + l.arenasMax * 4;
}

/**
 * The job table (doubles), the byte counts read (ints; -1 failed), whether every record of a read passed its
 * BODYCRC in the worker (1), each slot's time taken (ms) and when the worker began it (`performance.timeOrigin +
 * performance.now()`, comparable across threads), the counters and rings, each slot's `Claim`.
 */
export function controlViews(control: SharedArrayBuffer, l: ControlLayout) {
  const jobDoubles = l.arenasMax * l.spansMax * spanFields;
  const jobs = new Float64Array(control, 0, jobDoubles);
  const tookMs = new Float64Array(control, jobDoubles * 8, l.arenasMax);
  const startedMs = new Float64Array(control, (jobDoubles + l.arenasMax) * 8, l.arenasMax);
  const resultsAt = (jobDoubles + 2 * l.arenasMax) * 8;
  const results = new Int32Array(control, resultsAt, l.arenasMax * l.spansMax);
  const intact = new Int32Array(control, resultsAt + l.arenasMax * l.spansMax * 4, l.arenasMax * l.spansMax);
  const ctlAt = resultsAt + l.arenasMax * l.spansMax * 8;
  const ctl = new Int32Array(control, ctlAt, ctlInts);
  const claims = new Int32Array(control, ctlAt + ctlInts * 4, l.arenasMax);
  return { jobs, results, intact, tookMs, startedMs, ctl, claims };
}

/** A job's message: its slot and how many reads it holds, as one number. */
export function jobMessage(slot: number, spans: number): number {
  return slot + spans * 256;
}

export function jobSlotOf(message: number): { slot: number; spans: number } {
  return { slot: message % 256, spans: Math.floor(message / 256) };
}

/** The counters of native/sparse-read.c since it was loaded (`stats()`). */
export interface SparseStats {
  mappings: number;
  mappedBytes: number;
  preads: number;
  faultIns: number;
  warm: number;
  guarded: number;
  dropped: number;
  refused: number;
}

/** native/sparse-read.c as the read worker (and its tests) call it: see the exports in its header comment. */
export interface SparseNative {
  readSpans(
    arena: Uint8Array,
    jobs: Float64Array,
    jobFirst: number,
    spans: number,
    fields: number,
    arenaAt: number,
    results: Int32Array,
    resultFirst: number,
  ): void;
  configure(mapBytesMax: number, map: boolean, checkEachJob?: boolean): void;
  dropMappings(): number;
  stats(): SparseStats;
  /** The SIGBUS guard is installed (mapped reads possible). */
  mapping: boolean;
}
