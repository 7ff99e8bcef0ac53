/**
 * The CommitLog's read side: visible bytes by offset, a blocking pread for bytes near the write position (page
 * cache), shared blocks for cold bytes (block-cache.ts), whole records for view-by-offset and queries.
 */
import { readFileSync } from 'node:fs';
import { messageMagicV1 } from '../common/record.js';
import { BlockCache, notPinned, type Pinned, type PinnedPieces } from './block-cache.js';
import type { FileIO } from './io.js';
import type { Segments } from './segments.js';

/** Reads this close to the write position are served with a blocking pread (see `readPinned`). */
const hotReadBytes = 256 * 1024 * 1024;
/** Cold reads go through shared blocks of this size, at most this many kept (32 MiB). */
const coldBlockBytes = 1024 * 1024;
const coldBlocksMax = 32;
/**
 * Blocking preads of sparse records slower than this on average over a group of `sparseReadsPerSample` (timed per
 * group: two clock reads per group, not per record), `sparseSlowReadsMax` groups in a row, missed the page cache
 * (when the process fetched bytes from storage meanwhile: slow groups without are a process that lost its core):
 * sparse reads then go through the thread pool for `sparseAsyncMs`, so a log on disk stalls the event loop for a
 * few reads, not for every pull.
 */
const sparseSlowReadMs = 0.5;
const sparseReadsPerSample = 4;
const sparseSlowReadsMax = 3;
const sparseAsyncMs = 10_000;

/** What a sparse read done now gave: the bytes are in place, not readable (out of range, cut), or must wait. */
export const SparseRead = { read: 'read', unreadable: 'unreadable', later: 'later' } as const;
export type SparseRead = (typeof SparseRead)[keyof typeof SparseRead];

/** How far the log is written and visible (the write pipeline moves these). */
export interface LogBounds {
  readonly writtenOffset: number;
  readonly visibleOffset: number;
}

export class LogReader {
  /** Shared block reads for cold bytes (undefined when blocks would not divide the segment size). */
  readonly blocks: BlockCache | undefined;
  /** Sparse reads go through the thread pool until then (performance.now() ms): blocking ones were slow. */
  private sparseAsyncUntilMs = 0;
  /** Times sparse reads went to the thread pool (store stats: `sparseReadsToThreadPool`). */
  sparseAsyncSwitches = 0;
  private sparseSlowReads = 0;
  /** `storageReads()` when the run of slow groups began. */
  private slowFromBytes: number | undefined;
  /** Bytes the process has fetched from storage so far (tests replace it). */
  storageReads: () => number | undefined = storageReadBytes;
  /** Blocking sparse reads in the group being timed, and when it began (performance.now() ms). */
  private sparseReads = 0;
  private sparseSampleFromMs = 0;

  constructor(
    private readonly segs: Segments,
    private readonly bounds: LogBounds,
    /** Sparse reads may go to the read worker (`leaseSparse`); off: on the main thread as `readSparseInto`. */
    private readonly sparseReadWorker = false,
  ) {
    const blockBytes = Math.min(coldBlockBytes, segs.segmentBytes);
    if (segs.segmentBytes % blockBytes === 0) this.blocks = new BlockCache(blockBytes, coldBlocksMax);
  }

  /** True when `phyOffset` is near enough to the write position to be in the page cache (read blocking). */
  isHot(phyOffset: number): boolean {
    return phyOffset >= this.bounds.writtenOffset - hotReadBytes;
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
   * Up to `len` visible bytes at `phyOffset` (cut at the visible end and the segment's end), read now with one
   * blocking pread when they are hot (the page cache); undefined when they are not, or out of range: the caller
   * takes the async path then. Several records written together come back with one syscall.
   */
  readNow(phyOffset: number, len: number): Buffer | undefined {
    if (phyOffset < this.segs.minOffset() || !this.isHot(phyOffset)) return undefined;
    const seg = this.segs.of(phyOffset);
    const file = seg?.file;
    if (seg === undefined || file?.readSync === undefined) return undefined;
    const n = Math.min(len, this.bounds.visibleOffset - phyOffset, seg.start + this.segs.segmentBytes - phyOffset);
    if (n <= 0) return undefined;
    const buf = Buffer.allocUnsafe(n);
    return file.readSync(buf, phyOffset - seg.start, n) === n ? buf : undefined;
  }

  /**
   * Like `read`, but cold bytes may come as a slice of a shared block: the caller must call `release` once it no
   * longer uses them (a PULL response does so when its bytes reached the socket). `hot` picks the blocking pread.
   */
  async readPinned(phyOffset: number, len: number, hot = this.isHot(phyOffset)): Promise<Pinned | undefined> {
    const visible = this.bounds.visibleOffset;
    const segBytes = this.segs.segmentBytes;
    if (phyOffset < this.segs.minOffset() || phyOffset + len > visible) return undefined;
    const seg = this.segs.of(phyOffset);
    if (seg === undefined || phyOffset + len > seg.start + segBytes) return undefined;
    // Recently written bytes are in the page cache: a blocking pread costs a few µs there, while an async one
    // costs ~25 µs of main-thread time plus a thread-pool round trip on the way to a waiting consumer.
    const file = seg.file;
    if (file?.readSync !== undefined && hot) {
      const buf = Buffer.allocUnsafe(len);
      return file.readSync(buf, phyOffset - seg.start, len) === len ? { bytes: buf, release: notPinned } : undefined;
    }
    const f = await this.segs.fileOf(seg);
    const limit = Math.min(this.bounds.visibleOffset, seg.start + segBytes);
    const blocks = this.blocks;
    if (blocks?.covers(phyOffset, len, limit)) {
      const got = await blocks.read(f, seg.start, phyOffset, len, limit);
      if (got !== undefined) return got;
    }
    const buf = Buffer.allocUnsafe(len);
    const n = await f.read(buf, phyOffset - seg.start, len);
    return n === len ? { bytes: buf, release: notPinned } : undefined;
  }

  /**
   * Like `readPinned`, but cold bytes across blocks come as one slice per block, not copied into one buffer
   * (a pull's response writes them as parts as they are; only a record across two blocks needs joining).
   */
  async readPieces(phyOffset: number, len: number, hot = this.isHot(phyOffset)): Promise<PinnedPieces | undefined> {
    const blocks = this.blocks;
    const seg = hot || blocks === undefined ? undefined : this.segs.of(phyOffset);
    if (seg !== undefined && blocks !== undefined && phyOffset >= this.segs.minOffset()) {
      const limit = Math.min(this.bounds.visibleOffset, seg.start + this.segs.segmentBytes);
      if (phyOffset + len <= limit && blocks.covers(phyOffset, len, limit)) {
        const got = await blocks.readPieces(await this.segs.fileOf(seg), seg.start, phyOffset, len, limit);
        if (got !== undefined) return got;
      }
    }
    const one = await this.readPinned(phyOffset, len, hot);
    return one === undefined ? undefined : { pieces: [one.bytes], release: one.release };
  }

  /**
   * A few hundred bytes far from other reads (a record a filter bitmap picked): a blocking pread while such
   * reads find the page cache (~5 µs, against ~25 µs of main-thread time for a thread-pool read and no 1 MiB block
   * copied for them), a pread in the thread pool for a while after they did not.
   */
  async readSparse(phyOffset: number, len: number): Promise<Pinned | undefined> {
    const buf = Buffer.allocUnsafe(len);
    const now = this.readSparseInto(phyOffset, len, buf, 0);
    this.sparseReadsDone();
    if (now !== SparseRead.later) return now === SparseRead.read ? { bytes: buf, release: notPinned } : undefined;
    const seg = this.segs.of(phyOffset);
    if (seg === undefined) return undefined;
    const n = await (await this.segs.fileOf(seg)).read(buf, phyOffset - seg.start, len);
    return n === len ? { bytes: buf, release: notPinned } : undefined;
  }

  /**
   * `readSparse` into `buf` at `at`, without waiting: `later` when it must go through the thread pool. `hot`
   * bytes (near the write position) are always read blocking, as `readPinned` reads them. Reads are timed in
   * groups of `sparseReadsPerSample`: the caller ends its run of reads with `sparseReadsDone` before it yields.
   */
  readSparseInto(phyOffset: number, len: number, buf: Buffer, at: number, hot = false): SparseRead {
    if (phyOffset < this.segs.minOffset() || phyOffset + len > this.bounds.visibleOffset) return SparseRead.unreadable;
    const seg = this.segs.of(phyOffset);
    if (seg === undefined || phyOffset + len > seg.start + this.segs.segmentBytes) return SparseRead.unreadable;
    const file = seg.file;
    if (file?.readSync === undefined) return SparseRead.later;
    if (!hot) {
      if (this.sparseReads === 0) {
        this.sparseSampleFromMs = performance.now();
        if (this.sparseSampleFromMs < this.sparseAsyncUntilMs) return SparseRead.later;
      }
      this.sparseReads++;
    }
    const n = file.readSync(buf, phyOffset - seg.start, len, at);
    if (this.sparseReads >= sparseReadsPerSample) this.sparseReadsDone();
    return n === len ? SparseRead.read : SparseRead.unreadable;
  }

  /**
   * Ends a group of timed sparse reads: slower than `sparseSlowReadMs` each on average, `sparseSlowReadsMax`
   * groups in a row, they missed the page cache (one slow group alone may be the process losing its core).
   */
  sparseReadsDone(): void {
    const reads = this.sparseReads;
    if (reads === 0) return;
    this.sparseReads = 0;
    const now = performance.now();
    this.sparseReadsTook(reads, now - this.sparseSampleFromMs, now);
  }

  /** A group of `reads` sparse reads done elsewhere (the read worker) took `tookMs`: as `sparseReadsDone`. */
  sparseReadsTook(reads: number, tookMs: number, now = performance.now()): void {
    if (tookMs <= sparseSlowReadMs * reads) {
      this.sparseSlowReads = 0;
      return;
    }
    if (this.sparseSlowReads++ === 0) this.slowFromBytes = this.storageReads();
    if (this.sparseSlowReads < sparseSlowReadsMax) return;
    this.sparseSlowReads = 0;
    // Nothing fetched from storage meanwhile: the reads found the page cache and the time went elsewhere (other
    // processes had the cores, a first compile): the thread pool would only cost more.
    const from = this.slowFromBytes;
    const to = from === undefined ? undefined : this.storageReads();
    if (to !== undefined && to === from) return;
    this.sparseAsyncUntilMs = now + sparseAsyncMs;
    this.sparseAsyncSwitches++;
  }

  /** True while cold sparse reads go through the thread pool (blocking ones were slow). */
  sparseReadsAsync(): boolean {
    return this.sparseAsyncUntilMs !== 0 && performance.now() < this.sparseAsyncUntilMs;
  }

  /** True when sparse reads may go to the read worker (`sparseReadWorkerEnable`). */
  workerReads(): boolean {
    return this.sparseReadWorker;
  }

  /**
   * For a sparse read in the read worker: the descriptor of the segment holding `len` bytes at `phyOffset`,
   * leased (the file is pushed to `leased`; the caller ends each lease once the read is done), `unreadable` as
   * `readSparseInto` says it, or `later` when the file has no descriptor to lease or the worker is off (read it
   * as before).
   */
  leaseSparse(
    phyOffset: number,
    len: number,
    leased: FileIO[],
  ): number | typeof SparseRead.unreadable | typeof SparseRead.later {
    if (phyOffset < this.segs.minOffset() || phyOffset + len > this.bounds.visibleOffset) return SparseRead.unreadable;
    const seg = this.segs.of(phyOffset);
    if (seg === undefined || phyOffset + len > seg.start + this.segs.segmentBytes) return SparseRead.unreadable;
    const file = seg.file;
    const fd = this.sparseReadWorker ? file?.leaseFd?.() : undefined;
    if (file === undefined || fd === undefined) return SparseRead.later;
    leased.push(file);
    return fd;
  }

  /** Reads one whole record at `phyOffset` (two preads: size, then record). */
  async readRecord(phyOffset: number): Promise<Buffer | undefined> {
    const head = await this.read(phyOffset, 8);
    if (head === undefined || head.readUInt32BE(4) !== messageMagicV1) return undefined;
    return this.read(phyOffset, head.readInt32BE(0));
  }
}

/**
 * Bytes this process has had read from storage (Linux `/proc/self/io` `read_bytes`); undefined where that is not
 * known (another OS, a kernel without task I/O accounting).
 */
export function storageReadBytes(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/io', 'latin1');
  } catch {
    return undefined;
  }
  const at = text.indexOf('\nread_bytes: ');
  const n = at < 0 ? Number.NaN : Number.parseInt(text.slice(at + 13), 10);
  return Number.isNaN(n) ? undefined : n;
}
