/**
 * Reads of cold CommitLog bytes (far behind the write position) in aligned blocks, shared by every reader.
 * A backlog written by many queues at once interleaves them in the log, so the consumers of those queues read
 * small runs spread over the same region: one block read serves all of them, instead of one thread-pool read per
 * run. When a block is read, the next one is read ahead, since consumers move forward. Bounded: at most
 * `blocksMax` blocks are kept, least recently used dropped first.
 */
import type { FileIO } from './io.js';

interface Block {
  value: Promise<Buffer | undefined>;
}

export interface BlockCacheStats {
  reads: number;
  hits: number;
  readAheads: number;
}

export class BlockCache {
  private readonly blocks = new Map<number, Block>();
  readonly stats: BlockCacheStats = { reads: 0, hits: 0, readAheads: 0 };

  constructor(
    readonly blockBytes: number,
    readonly blocksMax: number,
  ) {}

  /**
   * `len` bytes at `phyOffset` of the segment starting at `segStart` in `file`, or undefined when the blocks could
   * not be read (the caller then reads directly, and sees the error itself). `limit` is the end of the bytes that
   * may be read: visible, and inside the segment; the caller checks `covers` first.
   */
  async read(
    file: FileIO,
    segStart: number,
    phyOffset: number,
    len: number,
    limit: number,
  ): Promise<Buffer | undefined> {
    const first = Math.floor(phyOffset / this.blockBytes);
    const last = Math.floor((phyOffset + len - 1) / this.blockBytes);
    const parts: Promise<Buffer | undefined>[] = [];
    for (let b = first; b <= last; b++) parts.push(this.block(file, segStart, b, limit, false));
    if ((last + 2) * this.blockBytes <= limit && !this.blocks.has(last + 1)) {
      this.stats.readAheads++;
      void this.block(file, segStart, last + 1, limit, true);
    }
    const bufs = await Promise.all(parts);
    const start = phyOffset - first * this.blockBytes;
    if (bufs.length === 1) return bufs[0]?.subarray(start, start + len);
    const out = Buffer.allocUnsafe(len);
    let at = 0;
    for (let i = 0; i < bufs.length; i++) {
      const b = bufs[i];
      if (b === undefined) return undefined;
      const from = i === 0 ? start : 0;
      const n = Math.min(b.length - from, len - at);
      b.copy(out, at, from, from + n);
      at += n;
    }
    return at === len ? out : undefined;
  }

  /** Forgets every block (the log was cut: offsets may be written again). */
  clear(): void {
    this.blocks.clear();
  }

  /** Blocks kept now. */
  size(): number {
    return this.blocks.size;
  }

  /** True when every block `phyOffset..+len` touches lies below `limit` (else read directly). */
  covers(phyOffset: number, len: number, limit: number): boolean {
    const last = Math.floor((phyOffset + len - 1) / this.blockBytes);
    return (last + 1) * this.blockBytes <= limit;
  }

  private block(file: FileIO, segStart: number, b: number, limit: number, ahead: boolean): Promise<Buffer | undefined> {
    const cached = this.blocks.get(b);
    if (cached !== undefined) {
      // Most recently used goes last (Map order), so eviction drops the least recently used.
      this.blocks.delete(b);
      this.blocks.set(b, cached);
      if (!ahead) this.stats.hits++;
      return cached.value;
    }
    const at = b * this.blockBytes;
    const buf = Buffer.allocUnsafe(this.blockBytes);
    this.stats.reads++;
    const value = file.read(buf, at - segStart, this.blockBytes).then(
      (n) => (n === this.blockBytes && at + n <= limit ? buf : undefined),
      () => undefined,
    );
    this.blocks.set(b, { value });
    // A failed or short read is not kept: the next reader tries again.
    void value.then((v) => {
      if (v === undefined && this.blocks.get(b)?.value === value) this.blocks.delete(b);
    });
    while (this.blocks.size > this.blocksMax) {
      const oldest = this.blocks.keys().next().value as number;
      this.blocks.delete(oldest);
    }
    return value;
  }
}
