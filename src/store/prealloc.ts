/**
 * Keeps the CommitLog's disk blocks allocated ahead of its write position (RocketMQ's warmMapedFileEnable idea, as a
 * window): zeros are written and fdatasync'd by a worker thread (zero-worker.ts) a few MiB past the tail, so the put
 * path's page-cache copies overwrite allocated blocks. Without it each copy into the sparse segment reserves blocks
 * (ext4 delayed allocation), which waits in the kernel while the periodic fdatasync's writeback of the same file holds
 * its locks.
 *
 * The segments are sparse files of their full size, so the zeros change no byte anyone can read: recovery still ends
 * at the first zero header. The one rule is that no record is written into a range whose zeros are being written
 * (`clearFor`), and zeros are only started past the reserve offset.
 */
import type { FileIO } from './io.js';
import type { Segment, Segments } from './segments.js';
import { ZeroWorker } from './zero-worker.js';

/** Zeros per job of the zero worker (written in small pieces, then one fdatasync); a quarter segment at most. */
export const preallocChunkBytes = 4 * 1024 * 1024;
/** After a failure (ENOSPC, EIO) no zeros are written for this long. */
const failurePauseMs = 5000;

export interface PreallocStats {
  /** Zero bytes written ahead of the log so far. */
  bytesZeroed: number;
  jobs: number;
  failures: number;
  /** Batches that waited for a zero write to leave their range. */
  writesWaited: number;
}

interface Job {
  from: number;
  to: number;
  /** Resolves once the zeros are written or the job failed: the range may take records (its fdatasync runs on). */
  written: Promise<void>;
}

export class SegmentPrealloc {
  /** Zeros written up to here (a log offset); nothing past it is allocated by this class. */
  private readyOffset = 0;
  private job: Job | undefined;
  private running: Promise<void> | undefined;
  private pausedUntilMs = 0;
  private stopped = false;
  /** Bumped by `cutTo`, so a job that ran across a cut does not claim blocks the cut freed. */
  private generation = 0;
  readonly stats: PreallocStats = { bytesZeroed: 0, jobs: 0, failures: 0, writesWaited: 0 };

  constructor(
    private readonly segs: Segments,
    /** How far past the write position blocks are kept allocated; 0 turns it off. */
    private readonly aheadBytes: number,
    private readonly onError: (err: Error) => void,
    /**
     * The log's reserve offset now: every batch being written lies below it, so a job started past it never
     * overlaps a write in flight (a value cached at the last call would miss batches reserved since).
     */
    private readonly reserveOffset: () => number,
  ) {}

  /** Bytes allocated past `writeOffset` that hold no record yet (disk use that is not data). */
  aheadOf(writeOffset: number): number {
    return Math.max(0, this.readyOffset - writeOffset);
  }

  /**
   * Called after a batch was written: starts the next zero job when the window has room.
   * A job starts at least one chunk past `reserveOffset`, so the writes that follow seldom reach it.
   */
  advance(): void {
    if (this.aheadBytes === 0 || this.running !== undefined || this.stopped) return;
    const reserveOffset = this.reserveOffset();
    if (this.readyOffset >= reserveOffset + this.aheadBytes) return;
    if (this.pausedUntilMs !== 0 && Date.now() < this.pausedUntilMs) return;
    const segBytes = this.segs.segmentBytes;
    const chunk = Math.min(preallocChunkBytes, Math.max(4096, Math.floor(segBytes / 4)));
    const from = Math.max(this.readyOffset, roundUp(reserveOffset + chunk, chunk));
    // Within the segments that exist (the active one and the one pre-created after it).
    const seg = this.segs.of(from);
    if (seg === undefined) return;
    const to = Math.min(from + chunk, seg.start + segBytes);
    this.start(seg, from, to);
  }

  /** Undefined when a record batch ending at `end` may be written now; else a promise for when it may. */
  clearFor(end: number): Promise<void> | undefined {
    const job = this.job;
    if (job === undefined || end <= job.from) return undefined;
    this.stats.writesWaited++;
    return job.written;
  }

  /** The log was cut back to `end` (roll-back, recovery): blocks past it may be gone. */
  cutTo(end: number): void {
    this.readyOffset = Math.min(this.readyOffset, end);
    this.generation++;
  }

  /** Stops starting jobs and waits for the one running (before the segment files close). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private start(seg: Segment, from: number, to: number): void {
    let wroteZeros!: () => void;
    const written = new Promise<void>((resolve) => (wroteZeros = resolve));
    this.job = { from, to, written };
    this.stats.jobs++;
    const generation = this.generation;
    this.running = (async () => {
      let file: FileIO | undefined;
      let fd: number | undefined;
      try {
        file = await this.segs.fileOf(seg);
        // Only files whose descriptor another thread may use (not the fault-injecting ones of tests).
        fd = file.leaseFd?.();
        const worker = fd === undefined ? undefined : ZeroWorker.shared();
        if (fd === undefined || worker === undefined) {
          this.stopped = true;
          return;
        }
        const fill = worker.zero(fd, from - seg.start, to - from);
        await fill.written;
        this.job = undefined;
        wroteZeros();
        this.stats.bytesZeroed += to - from;
        await fill.synced;
        if (this.generation === generation && this.readyOffset < to) this.readyOffset = to;
      } catch (err) {
        this.stats.failures++;
        this.pausedUntilMs = Date.now() + failurePauseMs;
        this.onError(err as Error);
      } finally {
        if (fd !== undefined) file?.endLease?.();
        this.job = undefined;
        wroteZeros();
        this.running = undefined;
      }
      // Fill the rest of the window while the log is idle.
      this.advance();
    })();
  }
}

function roundUp(n: number, step: number): number {
  return Math.ceil(n / step) * step;
}
