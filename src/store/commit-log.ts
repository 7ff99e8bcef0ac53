/**
 * The CommitLog: one append-only log split into fixed-size segment files named by their 20-digit start offset.
 * Puts reserve space and encode straight into an in-memory piece; one writer loop writes every piece that
 * arrived since its last turn with one writev per segment, then (SYNC_FLUSH) one fdatasync for the whole
 * group, and only then hands the batch to `onVisible` (dispatch + acks).
 */

import { blankMagic, messageMagicV1 } from '../common/record.js';
import { BlockCache, notPinned, type Pinned } from './block-cache.js';
import type { StorageIO } from './io.js';
import { canWriteSync, type Piece, PiecePool, writePieces, writePiecesSync } from './log-pieces.js';
import { type ScanResult, type Segment, Segments, scanSegments } from './segments.js';

/** `[remaining 4][BLANK magic 4]`, the end-of-segment marker. */
export const blankBytesMin = 8;
/** Reads this close to the write position are served with a blocking pread (see `read`). */
const hotReadBytes = 256 * 1024 * 1024;
/** ASYNC_FLUSH batches up to this size are written on the calling thread (a page-cache copy of ≤ 1 MiB). */
const syncWriteBytesMax = 1024 * 1024;
/** Cold reads go through shared blocks of this size, at most this many kept (32 MiB). */
const coldBlockBytes = 1024 * 1024;
const coldBlocksMax = 32;

/** What the dispatcher needs to know about one stored message. */
export interface DispatchRequest {
  topic: string;
  queueId: number;
  queueOffset: number;
  phyOffset: number;
  size: number;
  tagsCode: bigint;
  storeTimestamp: number;
  sysFlag: number;
  keys: readonly string[] | undefined;
  uniqKey: string | undefined;
}

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
  /** Shared block reads for cold bytes (undefined when blocks would not divide the segment size). */
  readonly blocks: BlockCache | undefined;

  constructor(
    io: StorageIO,
    private readonly opts: CommitLogOptions,
  ) {
    this.segs = new Segments(io, opts.dir, opts.segmentBytes);
    const blockBytes = Math.min(coldBlockBytes, opts.segmentBytes);
    if (opts.segmentBytes % blockBytes === 0) this.blocks = new BlockCache(blockBytes, coldBlocksMax);
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

  /** Sequentially validates records from `from`, calling `onRecord` for each, until the end or a bad record. */
  scan(
    from: number,
    checkCrc: boolean,
    onRecord: (buf: Buffer, pos: number, phyOffset: number, size: number) => void | Promise<void>,
  ): Promise<ScanResult> {
    return scanSegments(this.segs, from, checkCrc, onRecord);
  }

  /** Cuts the log at `end`: zeroes the rest of its segment and deletes later segments. */
  async truncateAt(end: number): Promise<void> {
    this.blocks?.clear();
    const segBytes = this.opts.segmentBytes;
    for (;;) {
      const last = this.segs.last();
      if (last === undefined || last.start <= end || last.start === this.segs.minOffset()) break;
      await this.segs.deleteLast();
    }
    const seg = this.segs.of(end);
    if (seg?.file !== undefined && end > seg.start) {
      await seg.file.truncate(end - seg.start);
      await seg.file.truncate(segBytes);
      await seg.file.datasync();
    }
  }

  /** Positions the writer at `end` (after recovery) and pre-creates segments. */
  async startAt(end: number): Promise<void> {
    const segBytes = this.opts.segmentBytes;
    if (this.segs.list.length === 0) {
      const start = end - (end % segBytes);
      this.segs.list.push({ start, file: undefined, opening: undefined, dirty: false });
    }
    while ((this.segs.list[this.segs.list.length - 1] as Segment).start + segBytes <= end) this.segs.add();
    this.reserveOffset = this.writtenOffset = this.flushedOffset = this.visibleOffset = end;
    await this.segs.fileOf(this.segs.of(end) as Segment);
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

  /** True when `phyOffset` is near enough to the write position to be in the page cache (read blocking). */
  isHot(phyOffset: number): boolean {
    return phyOffset >= this.writtenOffset - hotReadBytes;
  }

  /** Reads `len` visible bytes at `phyOffset` (must lie in one segment); undefined when out of range. */
  async read(phyOffset: number, len: number): Promise<Buffer | undefined> {
    const got = await this.readPinned(phyOffset, len);
    if (got === undefined || got.release === notPinned) return got?.bytes;
    const own = Buffer.from(got.bytes);
    got.release();
    return own;
  }

  /**
   * Like `read`, but cold bytes may come as a slice of a shared block: the caller must call `release` once it no
   * longer uses them (a PULL response does so when its bytes reached the socket).
   */
  async readPinned(phyOffset: number, len: number): Promise<Pinned | undefined> {
    if (phyOffset < this.minOffset() || phyOffset + len > this.visibleOffset) return undefined;
    const seg = this.segs.of(phyOffset);
    if (seg === undefined || phyOffset + len > seg.start + this.opts.segmentBytes) return undefined;
    // Recently written bytes are in the page cache: a blocking pread costs a few µs there, while an async one
    // costs ~25 µs of main-thread time plus a thread-pool round trip on the way to a waiting consumer.
    const file = seg.file;
    if (file?.readSync !== undefined && this.isHot(phyOffset)) {
      const buf = Buffer.allocUnsafe(len);
      return file.readSync(buf, phyOffset - seg.start, len) === len ? { bytes: buf, release: notPinned } : undefined;
    }
    const f = await this.segs.fileOf(seg);
    const limit = Math.min(this.visibleOffset, seg.start + this.opts.segmentBytes);
    const blocks = this.blocks;
    if (blocks?.covers(phyOffset, len, limit)) {
      const got = await blocks.read(f, seg.start, phyOffset, len, limit);
      if (got !== undefined) return got;
    }
    const buf = Buffer.allocUnsafe(len);
    const n = await f.read(buf, phyOffset - seg.start, len);
    return n === len ? { bytes: buf, release: notPinned } : undefined;
  }

  /** Reads one whole record at `phyOffset` (two preads: size, then record). */
  async readRecord(phyOffset: number): Promise<Buffer | undefined> {
    const head = await this.read(phyOffset, 8);
    if (head === undefined || head.readUInt32BE(4) !== messageMagicV1) return undefined;
    return this.read(phyOffset, head.readInt32BE(0));
  }

  segmentStarts(): number[] {
    return this.segs.starts();
  }

  /** Deletes the oldest segment (never the one being written); returns false when not allowed. */
  async deleteFirstSegment(): Promise<boolean> {
    const first = this.segs.list[0];
    const activeStart = this.reserveOffset - (this.reserveOffset % this.opts.segmentBytes);
    if (first === undefined || this.segs.list.length < 2 || first.start >= activeStart) return false;
    await this.segs.deleteFirst();
    return true;
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
