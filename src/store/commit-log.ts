/**
 * The CommitLog: one append-only log split into fixed-size segment files named by their 20-digit start offset.
 * This file is the write pipeline: puts reserve space and encode straight into an in-memory piece; one writer
 * loop writes every piece that arrived since its last turn with one writev per segment, then (SYNC_FLUSH) one
 * fdatasync for the whole group, and only then hands the batch to `onVisible` (dispatch + acks). Reads are
 * `LogReader` (log-reader.ts); segment files, cutting and the recovery scan are `Segments` (segments.ts).
 */

import { blankMagic } from '../common/record.js';
import type { BlockCache, Pinned } from './block-cache.js';
import type { DispatchRequest } from './dispatch.js';
import type { StorageIO } from './io.js';
import { canWriteSync, type Piece, PiecePool, writePieces, writePiecesSync } from './log-pieces.js';
import { LogReader } from './log-reader.js';
import { type ScanOptions, type ScanResult, type Segment, Segments, scanSegments } from './segments.js';

/** `[remaining 4][BLANK magic 4]`, the end-of-segment marker. */
export const blankBytesMin = 8;
/** ASYNC_FLUSH batches up to this size are written on the calling thread (a page-cache copy of ≤ 1 MiB). */
const syncWriteBytesMax = 1024 * 1024;

/** How a put's wait for the log ended. */
export type WriteOutcome = { kind: 'ok' } | { kind: 'timeout' } | { kind: 'failed'; reason: string };

interface Batch {
  pieces: Piece[];
  dispatches: DispatchRequest[];
  waiters: Array<(o: WriteOutcome) => void>;
  endOffset: number;
}

export interface CommitLogOptions {
  dir: string;
  segmentBytes: number;
  syncFlush: boolean;
  syncFlushTimeoutMs: number;
  onVisible: (batch: readonly DispatchRequest[], endOffset: number) => void;
  onFatal: (reason: string) => void;
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
  private failedReason: string | undefined;
  readonly stats = { writeCalls: 0, datasyncs: 0, batches: 0 };
  private readonly reader: LogReader;

  constructor(
    io: StorageIO,
    private readonly opts: CommitLogOptions,
  ) {
    this.segs = new Segments(io, opts.dir, opts.segmentBytes);
    this.reader = new LogReader(this.segs, this);
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
    await this.segs.cutAt(end);
  }

  /** Positions the writer at `end` (after recovery) and pre-creates segments. */
  async startAt(end: number): Promise<void> {
    await this.segs.extendTo(end);
    this.reserveOffset = this.writtenOffset = this.flushedOffset = this.visibleOffset = end;
    this.precreateNext();
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
  }

  /** Queues the records reserved since the last commit; `done` runs once they are visible (or failed). */
  commit(dispatches: readonly DispatchRequest[], done: (o: WriteOutcome) => void): void {
    if (this.failedReason !== undefined) {
      done({ kind: 'failed', reason: this.failedReason });
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
      if (this.failedReason !== undefined || this.opts.syncFlush) {
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
    if (this.failedReason !== undefined) {
      settle(batch, { kind: 'failed', reason: this.failedReason });
      return;
    }
    this.stats.batches++;
    this.wrote(batch.endOffset);
    this.visibleOffset = batch.endOffset;
    this.opts.onVisible(batch.dispatches, batch.endOffset);
    settle(batch, { kind: 'ok' });
  }

  private async writeBatchInline(batch: Batch): Promise<void> {
    if (this.failedReason !== undefined) {
      settle(batch, { kind: 'failed', reason: this.failedReason });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      this.stats.batches++;
      await writePieces(this.segs, batch.pieces, this.stats);
      this.piecePool.release(batch.pieces);
      this.wrote(batch.endOffset);
      if (this.opts.syncFlush) {
        timer = setTimeout(() => settle(batch, { kind: 'timeout' }), this.opts.syncFlushTimeoutMs);
        await this.flush();
      }
    } catch (err) {
      clearTimeout(timer);
      const reason = `CommitLog ${this.opts.syncFlush ? 'write/fdatasync' : 'write'} failed: ${(err as Error).message}`;
      this.fail(reason);
      settle(batch, { kind: 'failed', reason });
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
        await seg.file.datasync();
      }
      this.flushedOffset = Math.max(this.flushedOffset, target);
    });
    this.flushChain = run.catch(() => undefined);
    return run;
  }

  /** Marks the log failed: pending and future puts are refused with `reason`. */
  fail(reason: string): void {
    if (this.failedReason !== undefined) return;
    this.failedReason = reason;
    this.opts.onFatal(reason);
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

  /** See `LogReader.readPinned`: cold bytes may be a slice of a shared block, given back by `release`. */
  readPinned(phyOffset: number, len: number): Promise<Pinned | undefined> {
    return this.reader.readPinned(phyOffset, len, this.isHot(phyOffset));
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
    await this.drained();
    await this.segs.closeAll();
  }

  /** Makes sure the segment after the active one exists on disk, so rolling over never waits on open. */
  private precreateNext(): void {
    const active = this.segs.of(this.reserveOffset) as Segment;
    if (this.segs.list[this.segs.list.length - 1] === active) this.segs.add();
    const next = this.segs.list[this.segs.list.length - 1] as Segment;
    this.segs.fileOf(next).catch((err: Error) => this.fail(`cannot create commitlog segment: ${err.message}`));
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
