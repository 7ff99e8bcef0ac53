/**
 * The CommitLog: one append-only log split into fixed-size segment files named by their 20-digit start offset.
 * This file is the write pipeline: puts reserve space and encode straight into an in-memory piece; one writer
 * loop writes every piece that arrived since its last turn with one writev per segment, then (SYNC_FLUSH) one
 * fdatasync for the whole group, and only then hands the batch to `onVisible` (dispatch + acks). Reads are
 * `LogReader` (log-reader.ts); segment files, cutting and the recovery scan are `Segments` (segments.ts).
 *
 * A failed write or fdatasync fails the puts waiting for it and every put after it, and refuses new puts while
 * `repair` rolls the log back to the last acknowledged record (a refused put must never be read back, also not
 * after a restart), re-makes durable what an fdatasync error may have dropped, and probes with a write and an
 * fdatasync; once the probe succeeds puts are accepted again (CommitLogRefusal: since when and why).
 */
import { createLogger } from '../common/log.js';

import { blankMagic } from '../common/record.js';
import { allocate } from './allocate.js';
import type { BlockCache, Pinned, PinnedPieces } from './block-cache.js';
import type { VisibleRecords } from './dispatch.js';
import type { StorageIO } from './io.js';
import { canWriteSync, type Piece, PiecePool, writePieces, writePiecesSync } from './log-pieces.js';
import { LogReader, type SparseRead } from './log-reader.js';
import { rollBackSegments } from './log-rollback.js';
import { SegmentPrealloc } from './prealloc.js';
import { Pause, RetryEpisode } from './retry-episode.js';
import { type ScanOptions, type ScanResult, type Segment, Segments, scanSegments } from './segments.js';

const log = createLogger('commitlog');

/** Why the CommitLog refuses puts, and since when (Date.now()). */
export interface CommitLogRefusal {
  reason: string;
  sinceMs: number;
}

/** `[remaining 4][BLANK magic 4]`, the end-of-segment marker. */
export const blankBytesMin = 8;
/**
 * ASYNC_FLUSH batches up to this size are written on the calling thread (a page-cache copy). It covers the largest
 * group the send path makes (sendInFlightBytesMax, 4 MiB by default, plus record headers): a group sent to the
 * thread pool instead waits a pool round trip and the next poll phase for its ack, and every group after it waits
 * too (acks go in order), which left the broker idle with 1,024 messages in flight.
 */
export const syncWriteBytesMax = 8 * 1024 * 1024;

/** How a put's wait for the log ended. */
export type WriteOutcome = { kind: 'ok' } | { kind: 'timeout' } | { kind: 'failed'; reason: string };

interface Batch {
  pieces: Piece[];
  dispatches: VisibleRecords[];
  waiters: Array<(o: WriteOutcome) => void>;
  endOffset: number;
}

export interface CommitLogOptions {
  dir: string;
  segmentBytes: number;
  syncFlush: boolean;
  syncFlushTimeoutMs: number;
  onVisible: (batch: readonly VisibleRecords[], endOffset: number) => void;
  /** A failure starts refusing puts (the store refreshes its disk figures). */
  onRefuse: (reason: string) => void;
  /** The log was rolled back to `end` (the last acknowledged record): queue offsets handed out past it are void. */
  onRolledBack: (end: number) => void;
  /** Sparse reads may go to the read worker (read-worker.ts); off when absent (the store passes sparseReadWorkerEnable). */
  sparseReadWorker?: boolean;
  /** Blocks kept allocated (zeros written) this far past the write position (prealloc.ts); 0 or absent: off. */
  preallocAheadBytes?: number;
  /** Allocate each segment's blocks before its first write (allocate.ts); off when absent. */
  allocateSegments?: boolean;
}

export class CommitLog {
  private readonly segs: Segments;
  private pending: Batch = newBatch();
  private piece: Piece | undefined;
  private readonly piecePool = new PiecePool();
  private drainScheduled = false;
  private draining: Promise<void> | undefined;
  private flushChain: Promise<void> = Promise.resolve();
  /** Next offset to hand out. */
  private reserveOffset = 0;
  /** Bytes that reached the files (page cache). */
  writtenOffset = 0;
  /** performance.now() of the last write that moved writtenOffset, or of the first reserve after none waited. */
  private writeProgressAt = 0;
  /** Bytes made durable by fdatasync. */
  flushedOffset = 0;
  /** Readers may see records below this. */
  visibleOffset = 0;
  /** Set from a failed write or fdatasync until the repair's probe succeeds. */
  private refusal: CommitLogRefusal | undefined;
  private repairing: Promise<void> | undefined;
  private closing = false;
  /** The repair's back-off wait, ended early by close. */
  private readonly pause = new Pause();
  /**
   * rollBacks: failed ranges cut from the log; failedPuts: puts answered "failed"; unrolledFailedBytes: bytes of
   * failed writes not yet cut (a crash now lets recovery keep what of them reached the disk: the one case where a
   * refused put could reappear); timedOutPutsCut: puts answered FLUSH_DISK_TIMEOUT ("stored, not yet durable")
   * whose fdatasync then failed, so the roll-back removed them (the answer allowed their loss).
   */
  readonly stats = {
    writeCalls: 0,
    datasyncs: 0,
    batches: 0,
    rollBacks: 0,
    failedPuts: 0,
    unrolledFailedBytes: 0,
    timedOutPutsCut: 0,
    /** Segments whose blocks were allocated before their writes (allocate.ts), and allocations that failed. */
    allocatedSegments: 0,
    allocateFailures: 0,
  };
  /** Segments whose allocation was asked for (once each), and those it succeeded for. */
  private readonly allocating = new WeakSet<Segment>();
  private readonly allocated = new WeakSet<Segment>();
  private readonly reader: LogReader;
  /** Writes zeros ahead of the tail so page-cache copies never wait for block allocation (prealloc.ts). */
  readonly prealloc: SegmentPrealloc;

  constructor(
    io: StorageIO,
    private readonly opts: CommitLogOptions,
  ) {
    this.segs = new Segments(io, opts.dir, opts.segmentBytes);
    this.reader = new LogReader(this.segs, this, opts.sparseReadWorker ?? false);
    this.prealloc = new SegmentPrealloc(
      this.segs,
      opts.preallocAheadBytes ?? 0,
      (err) => log.warn('cannot write zeros ahead of the commitlog; retried later (puts are unaffected)', { err }),
      () => this.reserveOffset,
    );
  }

  /** Shared block reads for cold bytes (undefined when blocks would not divide the segment size). */
  get blocks(): BlockCache | undefined {
    return this.reader.blocks;
  }

  get segmentBytes(): number {
    return this.opts.segmentBytes;
  }

  /** Opens the segment files found on disk (ascending); returns how many there are. */
  load(): Promise<number> {
    return this.segs.load();
  }

  minOffset(): number {
    return this.segs.minOffset();
  }

  /** Validates records from `from`, calling `onRecord` for each (see `scanSegments`). */
  scan(
    from: number,
    opts: ScanOptions,
    onRecord: (buf: Buffer, pos: number, phyOffset: number, size: number) => void | Promise<void>,
  ): Promise<ScanResult> {
    return scanSegments(this.segs, from, opts, onRecord);
  }

  /** Cuts the log at `end`: zeroes the rest of its segment and deletes later segments. */
  async truncateAt(end: number): Promise<void> {
    this.blocks?.clear();
    this.prealloc.cutTo(end);
    await this.segs.cutAt(end);
  }

  /** Positions the writer at `end` (after recovery) and pre-creates segments. */
  async startAt(end: number): Promise<void> {
    await this.segs.extendTo(end);
    this.reserveOffset = this.writtenOffset = this.flushedOffset = this.visibleOffset = end;
    this.allocateAhead(this.segs.of(end) as Segment);
    this.precreateNext();
    this.prealloc.advance();
  }

  /** Reserves `bytes` contiguous bytes (rolling to the next segment with a BLANK marker when needed). */
  reserve(bytes: number): { buf: Buffer; pos: number; phyOffset: number } {
    if (this.reserveOffset === this.writtenOffset) this.writeProgressAt = performance.now();
    const segBytes = this.opts.segmentBytes;
    const segEnd = this.reserveOffset - (this.reserveOffset % segBytes) + segBytes;
    if (this.reserveOffset + bytes + blankBytesMin > segEnd) {
      const remaining = segEnd - this.reserveOffset;
      const blank = this.space(blankBytesMin);
      blank.buf.writeInt32BE(remaining, blank.pos);
      blank.buf.writeUInt32BE(blankMagic, blank.pos + 4);
      this.reserveOffset = segEnd;
      this.piece = undefined;
      this.segs.add();
      this.precreateNext();
    }
    const phyOffset = this.reserveOffset;
    const { buf, pos } = this.space(bytes);
    return { buf, pos, phyOffset };
  }

  /**
   * Why a new put must wait (RocketMQ's OS_PAGE_CACHE_BUSY), or undefined: the oldest unwritten put has seen no
   * write progress for `stallMs`, or `bytes` more would leave over `unwrittenMax` bytes waiting for the disk.
   * A lone put is never refused for its size, so any put that fits a segment can get through.
   */
  busyReason(bytes: number, stallMs: number, unwrittenMax: number): string | undefined {
    const unwritten = this.reserveOffset - this.writtenOffset;
    if (unwritten === 0) return undefined;
    const stalled = performance.now() - this.writeProgressAt;
    if (stalled > stallMs) {
      return `no CommitLog write progress for ${Math.round(stalled)} ms with ${unwritten} bytes waiting`;
    }
    if (unwritten + bytes > unwrittenMax) {
      return `${unwritten} bytes of puts are waiting for the disk (limit ${unwrittenMax})`;
    }
    return undefined;
  }

  private wrote(end: number): void {
    this.writtenOffset = end;
    this.writeProgressAt = performance.now();
    this.prealloc.advance();
  }

  /** Why puts are refused now (with since when), or undefined. */
  refusalReason(): string | undefined {
    const r = this.refusal;
    if (r === undefined) return undefined;
    return `${r.reason}; puts refused since ${new Date(r.sinceMs).toISOString()}, resumed by itself once a probe write and fdatasync succeed`;
  }

  /** Queues the records reserved since the last commit; `done` runs once they are visible (or failed). */
  commit(dispatches: readonly VisibleRecords[], done: (o: WriteOutcome) => void): void {
    if (this.refusal !== undefined) {
      this.stats.failedPuts++;
      done({ kind: 'failed', reason: this.refusal.reason });
      return;
    }
    const b = this.pending;
    for (const d of dispatches) b.dispatches.push(d);
    b.waiters.push(done);
    b.endOffset = this.reserveOffset;
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(() => {
        this.drainScheduled = false;
        if (this.draining === undefined) this.draining = this.drain().finally(() => (this.draining = undefined));
      });
    }
  }

  private space(bytes: number): { buf: Buffer; pos: number } {
    const segStart = this.reserveOffset - (this.reserveOffset % this.opts.segmentBytes);
    let p = this.piece;
    if (p === undefined || p.segStart !== segStart || p.len + bytes > p.buf.length) {
      p = this.piecePool.take(segStart, this.reserveOffset - segStart, bytes);
      this.pending.pieces.push(p);
      this.piece = p;
    }
    const pos = p.len;
    p.len += bytes;
    this.reserveOffset += bytes;
    return { buf: p.buf, pos };
  }

  private async drain(): Promise<void> {
    // ASYNC: the next batch's pwrite starts while the previous one is in flight (two at most), so the log is
    // not limited to one write latency per batch; batches still become visible and are acked in order.
    let inFlight: Promise<void> | undefined;
    for (;;) {
      if (this.pending.pieces.length === 0 && this.pending.waiters.length === 0) {
        if (inFlight === undefined) return;
        // Commits that arrive while the last write is in flight are picked up by this same drain.
        await inFlight;
        inFlight = undefined;
        continue;
      }
      const batch = this.pending;
      this.pending = newBatch();
      this.piece = undefined;
      // Zeros being written ahead of the tail must land before records overwrite them.
      const zeroing = this.prealloc.clearFor(batch.endOffset);
      if (zeroing !== undefined) await zeroing;
      if (this.refusal !== undefined || this.opts.syncFlush) {
        await inFlight;
        inFlight = undefined;
        await this.writeBatchInline(batch);
        continue;
      }
      // A batch that fits syncWriteBytesMax is copied into the page cache right here, as RocketMQ's put thread
      // copies into its mmap: cheaper than a thread-pool round trip, and the ack follows the copy as before.
      const written = canWriteSync(this.segs, batch.pieces, syncWriteBytesMax)
        ? Promise.resolve(writePiecesSync(this.segs, batch.pieces, this.stats))
        : writePieces(this.segs, batch.pieces, this.stats).then(
            () => undefined,
            (err: Error) => err,
          );
      const previous = inFlight;
      inFlight = this.completeInOrder(batch, written, previous);
      await previous;
    }
  }

  private async completeInOrder(batch: Batch, written: Promise<Error | undefined>, previous?: Promise<void>) {
    const err = await written;
    if (err === undefined) this.piecePool.release(batch.pieces);
    await previous;
    if (err !== undefined) this.fail(`CommitLog write failed: ${err.message}`);
    if (this.refusal !== undefined) {
      this.failBatch(batch, this.refusal.reason);
      return;
    }
    this.stats.batches++;
    this.wrote(batch.endOffset);
    this.visibleOffset = batch.endOffset;
    this.opts.onVisible(batch.dispatches, batch.endOffset);
    settle(batch, { kind: 'ok' });
  }

  private async writeBatchInline(batch: Batch): Promise<void> {
    if (this.refusal !== undefined) {
      this.failBatch(batch, this.refusal.reason);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    let timedOut = 0;
    try {
      this.stats.batches++;
      await writePieces(this.segs, batch.pieces, this.stats);
      this.piecePool.release(batch.pieces);
      this.wrote(batch.endOffset);
      if (this.opts.syncFlush) {
        timer = setTimeout(() => {
          timedOut = batch.waiters.length;
          settle(batch, { kind: 'timeout' });
        }, this.opts.syncFlushTimeoutMs);
        await this.flush();
      }
    } catch (err) {
      clearTimeout(timer);
      this.stats.timedOutPutsCut += timedOut;
      const reason = `CommitLog ${this.opts.syncFlush ? 'write/fdatasync' : 'write'} failed: ${(err as Error).message}`;
      this.fail(reason);
      this.failBatch(batch, reason);
      return;
    }
    clearTimeout(timer);
    this.visibleOffset = batch.endOffset;
    this.opts.onVisible(batch.dispatches, batch.endOffset);
    settle(batch, { kind: 'ok' });
  }

  /** fdatasync of every segment written since the last flush; one at a time (serialised). */
  flush(): Promise<void> {
    const run = this.flushChain.then(async () => {
      const target = this.writtenOffset;
      if (target <= this.flushedOffset) return;
      for (const seg of this.segs.list) {
        if (!seg.dirty || seg.file === undefined) continue;
        seg.dirty = false;
        this.stats.datasyncs++;
        try {
          await seg.file.datasync();
        } catch (err) {
          seg.dirty = true;
          throw err;
        }
      }
      this.flushedOffset = Math.max(this.flushedOffset, target);
    });
    this.flushChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Fails pending puts and refuses new ones with `reason` until `repair` has rolled the log back to the last
   * acknowledged record and a probe write and fdatasync succeed.
   */
  fail(reason: string): void {
    if (this.refusal !== undefined) return;
    this.refusal = { reason, sinceMs: Date.now() };
    log.error('CommitLog refuses puts', { reason });
    this.opts.onRefuse(reason);
    this.repairing ??= this.repair().finally(() => (this.repairing = undefined));
  }

  private failBatch(batch: Batch, reason: string): void {
    this.stats.failedPuts += batch.waiters.length;
    this.stats.unrolledFailedBytes = this.reserveOffset - this.visibleOffset;
    settle(batch, { kind: 'failed', reason });
  }

  private async repair(): Promise<void> {
    const episode = new RetryEpisode('CommitLog repair (roll back to the last acknowledged record, probe)', log);
    for (;;) {
      await this.drained();
      if (this.closing) return;
      try {
        await this.rollBack();
        break;
      } catch (err) {
        episode.failed(err);
        // close may have run during the attempt: its wake found no sleeper, and an unref'd wait would hang it.
        if (this.closing) return;
        await this.pause.sleep(episode.nextDelayMs);
      }
    }
    const r = this.refusal as CommitLogRefusal;
    log.info('CommitLog accepts puts again', { after: r.reason, refusedForMs: Date.now() - r.sinceMs });
    this.refusal = undefined;
  }

  /** Rolls the log back to the last acknowledged record and probes it (log-rollback.ts); throws while faulty. */
  private async rollBack(): Promise<void> {
    const keep = this.visibleOffset;
    this.blocks?.clear();
    this.stats.datasyncs += await rollBackSegments(this.segs, keep, this.flushedOffset, () => {
      this.stats.unrolledFailedBytes = 0;
    });
    this.piece = undefined;
    this.prealloc.cutTo(keep);
    this.reserveOffset = this.writtenOffset = this.flushedOffset = keep;
    this.stats.rollBacks++;
    this.opts.onRolledBack(keep);
  }

  /** Waits until everything queued so far is written (and flushed when SYNC). */
  async drained(): Promise<void> {
    while (this.draining !== undefined || this.drainScheduled) {
      await (this.draining ?? new Promise((r) => setImmediate(r)));
    }
  }

  isHot(phyOffset: number): boolean {
    return this.reader.isHot(phyOffset);
  }

  read(phyOffset: number, len: number): Promise<Buffer | undefined> {
    return this.reader.read(phyOffset, len);
  }

  /**
   * See `LogReader.readPinned`: cold bytes may be a slice of a shared block, given back by `release`. `sparse`
   * (a few records far apart, as a filter bitmap picks them) reads just these bytes, not the blocks around them.
   */
  readPinned(phyOffset: number, len: number, sparse = false): Promise<Pinned | undefined> {
    const hot = this.isHot(phyOffset);
    return sparse && !hot ? this.reader.readSparse(phyOffset, len) : this.reader.readPinned(phyOffset, len, hot);
  }

  /** See `LogReader.readPieces`: `readPinned` without joining cold bytes that cross blocks. */
  readPieces(phyOffset: number, len: number): Promise<PinnedPieces | undefined> {
    return this.reader.readPieces(phyOffset, len, this.isHot(phyOffset));
  }

  /**
   * A sparse read into `buf` at `at`, done now with a blocking pread when that is cheap (hot bytes, or cold ones
   * while sparse reads find the page cache), else `later` (`readPinned`); end a run of them with
   * `sparseReadsDone` before yielding (see `LogReader.readSparseInto`).
   */
  readSparseInto(phyOffset: number, len: number, buf: Buffer, at: number): SparseRead {
    return this.reader.readSparseInto(phyOffset, len, buf, at, this.isHot(phyOffset));
  }

  sparseReadsDone(): void {
    this.reader.sparseReadsDone();
  }

  /**
   * The read worker's side of sparse reads: see `LogReader.leaseSparse`, `sparseReadsAsync`, `sparseReadsTook`,
   * `workerReads`.
   */
  get sparse(): Pick<
    LogReader,
    'leaseSparse' | 'sparseReadsAsync' | 'sparseReadsTook' | 'workerReads' | 'sparseAsyncSwitches'
  > {
    return this.reader;
  }

  /** See `LogReader.readNow`. */
  readNow(phyOffset: number, len: number): Buffer | undefined {
    return this.reader.readNow(phyOffset, len);
  }

  readRecord(phyOffset: number): Promise<Buffer | undefined> {
    return this.reader.readRecord(phyOffset);
  }

  /** Recovery: `len` bytes at `phyOffset` whether visible or not (one segment); undefined when not there. */
  readDuringRecovery(phyOffset: number, len: number): Promise<Buffer | undefined> {
    return this.segs.readAt(phyOffset, len);
  }

  segmentStarts(): number[] {
    return this.segs.starts();
  }

  /** Deletes the oldest segment (never the one being written); returns false when not allowed. */
  deleteFirstSegment(): Promise<boolean> {
    return this.segs.deleteFirstBefore(this.reserveOffset - (this.reserveOffset % this.opts.segmentBytes));
  }

  segmentPath(start: number): string {
    return this.segs.path(start);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.pause.wake();
    await this.drained();
    await this.repairing;
    await this.prealloc.stop();
    await this.segs.closeAll();
  }

  /** Makes sure the segment after the active one exists on disk, so rolling over never waits on open. */
  private precreateNext(): void {
    const active = this.segs.of(this.reserveOffset) as Segment;
    if (this.segs.list[this.segs.list.length - 1] === active) this.segs.add();
    const next = this.segs.list[this.segs.list.length - 1] as Segment;
    // Nothing is lost when this fails: the first write into the segment opens it again (or fails its puts).
    this.segs.fileOf(next).catch((err: Error) => log.warn('cannot create the next commitlog segment yet', { err }));
    this.allocateAhead(next);
  }

  /**
   * Disk space allocated ahead of the write position (allocate.ts) that holds no data yet: the disk watermark does
   * not count it as used, since puts fill it without taking more of the disk.
   */
  allocatedAheadBytes(): number {
    let bytes = 0;
    const list = this.segs.list;
    for (let i = list.length - 1; i >= 0; i--) {
      const seg = list[i] as Segment;
      const end = seg.start + this.opts.segmentBytes;
      if (end <= this.writtenOffset) break;
      if (this.allocated.has(seg)) bytes += end - Math.max(seg.start, this.writtenOffset);
    }
    return bytes;
  }

  /**
   * Allocates the blocks of a segment not written yet (the next one, or the active one at start), so the put path's
   * page-cache copies do not wait for the file system's block map behind the flush's writeback (allocate.ts).
   * Best effort: a failure leaves the segment sparse, as it was before.
   */
  private allocateAhead(seg: Segment): void {
    if (this.opts.allocateSegments !== true || this.allocating.has(seg)) return;
    this.allocating.add(seg);
    void this.segs
      .fileOf(seg)
      .then((file) => allocate(file, 0, this.opts.segmentBytes))
      .then(
        () => {
          this.allocated.add(seg);
          this.stats.allocatedSegments++;
        },
        (err: Error) => {
          if (this.stats.allocateFailures++ === 0) {
            log.warn('cannot allocate commitlog segment blocks ahead of writes; segments stay sparse', { err });
          }
        },
      );
  }
}

function newBatch(): Batch {
  return { pieces: [], dispatches: [], waiters: [], endOffset: 0 };
}

function settle(batch: Batch, outcome: WriteOutcome): void {
  const waiters = batch.waiters;
  batch.waiters = [];
  for (const w of waiters) w(outcome);
}
