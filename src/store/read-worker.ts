/**
 * Sparse record reads off the main thread. A pull the filter bitmap answers reads ~32 records far apart in the log:
 * 32 blocking preads on the main thread (~1.7 µs each) or, here, one job for a worker thread that does them into
 * the pull's arena (shared memory) and answers once (~16 µs of main-thread time), while the main thread serves
 * other pulls. The thread pool is no substitute: one read per record costs ~25 µs of main-thread time each.
 *
 * The arenas (64 KiB, one per pull in flight, reused once its response was written) live in one shared slab that
 * the worker sees; arena k is job slot k. Descriptors are leased (`FileIO.leaseFd`): a segment closed while a job
 * reads it closes after the job, so a reused descriptor number is never read. The caller checks every record read
 * (size, magic, queue offset, BODYCRC) as after a main-thread read. One process-wide worker, started on first use,
 * holding the process open only while jobs are in flight; if it fails, reads go back to the main thread.
 */
import { Worker } from 'node:worker_threads';
import { createLogger } from '../common/log.js';
import {
  Claim,
  type ControlLayout,
  Ctl,
  controlBytes,
  controlViews,
  jobMessage,
  nextCount,
  ringAt,
  type SparseOptions,
  spanFields,
} from './read-worker-layout.js';

const log = createLogger('read-worker');

export const arenaBytes = 64 * 1024;
export const arenasMax = 32;
/** Reads one job does at most (a chunk with more is read on the main thread). */
export const jobSpansMax = 64;
const layout: ControlLayout = { arenaBytes, arenasMax, spansMax: jobSpansMax };
/**
 * A job posted to a sleeping worker that began later than this, `wakeSlowMax` times in a row, says the worker
 * does not get a core soon (a machine busy with other processes): sparse reads stay on the main thread for
 * `pauseMs`, which then serves its pulls back to back instead of waiting for two wake-ups per pull.
 */
const wakeSlowMs = 0.5;
const wakeSlowMax = 4;
const pauseMs = 1000;

/**
 * How the worker reads (native/sparse-read.c): `TSROCKET_NATIVE_SPARSE` = `off` (fs.readSync per read, as without
 * the module), `pread` (one native call per job, preads only), else mapped segments; `TSROCKET_NATIVE_SPARSE_MAP_MB`
 * bounds the bytes the mappings fault in (they count in the broker's RSS as RssFile), 256 MiB by default (a broker
 * whose filtered consumers read records again stays within the RSS it is sized for; 512 MiB keeps more re-reads warm:
 * docs/performance.md, tenth round);
 * `TSROCKET_NATIVE_SPARSE_IDLE_MS`: a worker without jobs for that long drops its mappings (30 s by default).
 */
const defaultMapMb = 256;
export const sparseReadOptions: SparseOptions = sparseOptionsOf(process.env);

export function sparseOptionsOf(env: NodeJS.ProcessEnv): SparseOptions {
  const mode = env.TSROCKET_NATIVE_SPARSE === 'off' ? 'off' : env.TSROCKET_NATIVE_SPARSE === 'pread' ? 'pread' : 'map';
  const mb = Number(env.TSROCKET_NATIVE_SPARSE_MAP_MB ?? defaultMapMb);
  const idleMs = Number(env.TSROCKET_NATIVE_SPARSE_IDLE_MS ?? 30_000);
  return {
    mode,
    mapBytesMax: (Number.isFinite(mb) && mb >= 0 ? mb : defaultMapMb) * 1024 * 1024,
    idleMs: Number.isFinite(idleMs) && idleMs > 0 ? idleMs : 30_000,
  };
}

let slab: SharedArrayBuffer | undefined;
const freeArenas: Buffer[] = [];

/** An arena of the slab, undefined when all are taken (the caller allocates one of its own). */
export function takeArena(): Buffer | undefined {
  sharedSlab();
  return freeArenas.pop();
}

/** The slab, made on first use with all its arenas free. */
function sharedSlab(): SharedArrayBuffer {
  if (slab === undefined) {
    slab = new SharedArrayBuffer(arenaBytes * arenasMax);
    for (let k = arenasMax - 1; k >= 0; k--) freeArenas.push(Buffer.from(slab, k * arenaBytes, arenaBytes));
  }
  return slab;
}

/** Arenas of the slab free now. */
export function freeArenaCount(): number {
  sharedSlab();
  return freeArenas.length;
}

/** Gives back an arena of the slab once nothing reads it any more. */
export function giveArena(arena: Buffer): void {
  freeArenas.push(arena);
}

/** The job slot of an arena of the slab; -1 for any other buffer. */
export function slotOf(buf: Buffer): number {
  return buf.buffer === slab ? buf.byteOffset / arenaBytes : -1;
}

/** A job as `ReadWorker.poll` finds it: settled before, settled by this look (done, its message not yet handled), not done. */
export const Settled = { before: 0, now: 1, not: 2 } as const;
export type Settled = (typeof Settled)[keyof typeof Settled];

/** The jobs of one slot: fill `setRead` for reads 0..n-1, then `run(slot, n)`. */
export class ReadWorker {
  private readonly jobs: Float64Array;
  private readonly results: Int32Array;
  private readonly intact: Int32Array;
  private readonly tookMs: Float64Array;
  private readonly startedMs: Float64Array;
  private readonly ctl: Int32Array;
  private readonly claims: Int32Array;
  /** When each slot's job was posted to a sleeping worker (absolute ms as `startedMs`), else -1. */
  private readonly postedMs = new Float64Array(arenasMax);
  private slowWakes = 0;
  /** Sparse reads stay on the main thread until then (performance.now() ms): the worker woke late. */
  private pausedUntilMs = 0;
  /** Jobs posted, and jobs done seen (the rings' counts on this side). */
  private posted = 0;
  private drained = 0;
  private readonly waiting: Array<((done: boolean) => void) | undefined> = new Array(arenasMax);
  private inFlight = 0;
  private failed = false;
  /** Jobs run since the start (tests and the benchmark see that the worker read). */
  jobsRun = 0;
  /** Pauses begun after slow wake-ups (`noteWake`). */
  pauses = 0;

  private constructor(
    private readonly worker: Worker,
    control: SharedArrayBuffer,
  ) {
    ({
      jobs: this.jobs,
      results: this.results,
      intact: this.intact,
      tookMs: this.tookMs,
      startedMs: this.startedMs,
      ctl: this.ctl,
      claims: this.claims,
    } = controlViews(control, layout));
    worker.on('message', () => this.drain());
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`read worker exited (${code})`)));
    worker.unref();
  }

  /**
   * The process's worker (started on first call); undefined when it cannot run, failed, or is paused. `unwaited`:
   * for a job no pull waits for (a read ahead), which a pause does not stop: a pull that finds it not begun takes
   * it back, so a late wake-up costs it nothing (a pause stopping them cost half a loaded round's reads ahead).
   */
  static shared(unwaited = false): ReadWorker | undefined {
    if (shared === undefined && !startFailed) {
      try {
        const control = new SharedArrayBuffer(controlBytes(layout));
        const worker = new Worker(new URL('./read-worker-thread.js', import.meta.url), {
          workerData: { slab: sharedSlab(), control, layout, sparse: sparseReadOptions },
        });
        shared = new ReadWorker(worker, control);
      } catch (err) {
        startFailed = true;
        log.warn('read worker not started: sparse reads stay on the main thread', { err });
      }
    }
    if (shared === undefined || shared.failed) return undefined;
    if (unwaited) return shared;
    return shared.pausedUntilMs !== 0 && performance.now() < shared.pausedUntilMs ? undefined : shared;
  }

  /**
   * A job posted to the sleeping worker began `latencyMs` later: after `wakeSlowMax` slow ones in a row, sparse
   * reads stay on the main thread for `pauseMs`. Returns true when that pause began.
   */
  noteWake(latencyMs: number, nowMs = performance.now()): boolean {
    this.slowWakes = latencyMs > wakeSlowMs ? this.slowWakes + 1 : 0;
    if (this.slowWakes < wakeSlowMax) return false;
    this.slowWakes = 0;
    this.pausedUntilMs = nowMs + pauseMs;
    this.pauses++;
    return true;
  }

  /**
   * Read `s` of the job in `slot`: `length` bytes at `position` of descriptor `fd` (< 0: none) to `at` in the
   * arena; `checkCrc`: the worker checks the BODYCRC of the records read (see `intactRead`).
   */
  setRead(slot: number, s: number, fd: number, position: number, length: number, at: number, checkCrc: boolean): void {
    const j = (slot * jobSpansMax + s) * spanFields;
    const jobs = this.jobs;
    jobs[j] = fd;
    jobs[j + 1] = position;
    jobs[j + 2] = length;
    jobs[j + 3] = at;
    jobs[j + 4] = checkCrc ? 1 : 0;
  }

  /** True when every record of read `s` of `slot`'s last job passed its BODYCRC in the worker. */
  intactRead(slot: number, s: number): boolean {
    return this.intact[slot * jobSpansMax + s] === 1;
  }

  /**
   * Runs the `spans` reads set in `slot`; false when the worker failed first (nothing read: read them here).
   * `timed`: a pull waits for it, so a late start counts towards the pause (`noteWake`), and a sleeping worker is
   * woken now. A read ahead no pull waits for yet does not count, and wakes the worker once at the end of this turn
   * of the event loop for all posted in it: waking a thread costs the main thread its core for a while on a busy
   * machine (a fifth of its time with one wake per pull), after the answers of the turn are written it costs less.
   */
  run(slot: number, spans: number, timed = true): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.waiting[slot] = resolve;
      this.jobsRun++;
      if (this.inFlight++ === 0) this.worker.ref();
      const ctl = this.ctl;
      Atomics.store(this.claims, slot, Claim.open);
      ctl[Ctl.posts + ringAt(this.posted)] = jobMessage(slot, spans);
      const postedMs = performance.timeOrigin + performance.now();
      // Count first, then look whether it sleeps: a worker that goes to sleep in between sees the new count.
      this.posted = nextCount(this.posted);
      Atomics.store(ctl, Ctl.posted, this.posted);
      const asleep = Atomics.load(ctl, Ctl.asleep) === 1;
      this.postedMs[slot] = asleep && timed ? postedMs : -1;
      if (!asleep) return;
      if (timed) Atomics.notify(ctl, Ctl.posted);
      else if (!this.wakeLater) {
        this.wakeLater = true;
        setImmediate(this.wakeNow);
      }
    });
  }

  /**
   * Takes `slot`'s posted job back when the worker has not begun it: true, and the caller reads those records
   * itself (the worker skips the job; it still settles, so its arena and leases are given back as usual).
   */
  takeBack(slot: number): boolean {
    return Atomics.compareExchange(this.claims, slot, Claim.open, Claim.main) === Claim.open;
  }

  /** A wake deferred to the end of the turn (`run` of a read ahead). */
  private wakeLater = false;
  private readonly wakeNow = () => {
    this.wakeLater = false;
    if (Atomics.load(this.ctl, Ctl.asleep) === 1) Atomics.notify(this.ctl, Ctl.posted);
  };

  /**
   * Settles every job the worker has done so far without waiting for its message (which still comes and settles
   * any done later): whether `slot`'s job was settled before, is now, or is still being read.
   */
  poll(slot: number): Settled {
    if (this.waiting[slot] === undefined) return Settled.before;
    const done = Atomics.load(this.ctl, Ctl.done);
    while (this.drained !== done) {
      this.settle(this.ctl[Ctl.dones + ringAt(this.drained)] as number, true);
      this.drained = nextCount(this.drained);
    }
    return this.waiting[slot] === undefined ? Settled.now : Settled.not;
  }

  /** True while the worker has a posted job not done. */
  busy(): boolean {
    return Atomics.load(this.ctl, Ctl.done) !== this.posted;
  }

  /** Settles every job the worker has done (woken by its message; clears `woken` first so none is missed). */
  private drain(): void {
    const ctl = this.ctl;
    Atomics.store(ctl, Ctl.woken, 0);
    const done = Atomics.load(ctl, Ctl.done);
    while (this.drained !== done) {
      this.settle(ctl[Ctl.dones + ringAt(this.drained)] as number, true);
      this.drained = nextCount(this.drained);
    }
  }

  /** See `segmentFilesChanging` (module level). */
  segmentFilesChanging(): void {
    Atomics.add(this.ctl, Ctl.segments, 1);
    if (Atomics.load(this.ctl, Ctl.asleep) === 1) Atomics.notify(this.ctl, Ctl.posted);
  }

  /** Bytes read `s` of `slot`'s last job read (-1: failed or not leased). */
  bytesRead(slot: number, s: number): number {
    return this.results[slot * jobSpansMax + s] as number;
  }

  /** How long `slot`'s last job took in the worker (ms). */
  took(slot: number): number {
    return this.tookMs[slot] as number;
  }

  private settle(slot: number, done: boolean): void {
    const resolve = this.waiting[slot];
    if (resolve === undefined) return;
    this.waiting[slot] = undefined;
    if (--this.inFlight === 0) this.worker.unref();
    const posted = this.postedMs[slot] as number;
    if (done && posted >= 0) this.noteWake((this.startedMs[slot] as number) - posted);
    resolve(done);
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    log.error('read worker failed: sparse reads go back to the main thread', { err });
    for (let slot = 0; slot < arenasMax; slot++) this.settle(slot, false);
  }
}

let shared: ReadWorker | undefined;
let startFailed = false;

/**
 * Called by the store before it truncates, deletes or closes a CommitLog segment: the worker drops every mapping it
 * reads through (at its next job, or now when it sleeps), so a deleted file's blocks are freed and a cut file is not
 * read through a stale mapping. Nothing to do before the worker started.
 */
export function segmentFilesChanging(): void {
  shared?.segmentFilesChanging();
}

/** The process's worker's counters (zeros before it started), and whether it was started. */
export function readWorkerStats(): { started: boolean; jobs: number; pauses: number } {
  return { started: shared !== undefined, jobs: shared?.jobsRun ?? 0, pauses: shared?.pauses ?? 0 };
}
