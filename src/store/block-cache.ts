/**
 * Reads of cold CommitLog bytes (far behind the write position) in aligned blocks, shared by every reader.
 * A backlog written by many queues at once interleaves them in the log, so the consumers of those queues read
 * small runs spread over the same region: one block read serves all of them, instead of one thread-pool read per
 * run. When a block is read, the next one is read ahead, since consumers move forward. Bounded: at most
 * `blocksMax` blocks are kept, least recently used dropped first.
 *
 * Block buffers are reused: a read hands out a slice of a block together with a `release`, and a dropped block's
 * buffer is read into again only once every slice of it was released (a slice never released keeps its buffer
 * out of reuse, and the garbage collector frees it as usual). Allocating a fresh 1 MiB buffer per block instead
 * costs the drain of a cold backlog about a fifth of its speed (see docs/performance.md).
 */
import type { FileIO } from './io.js';

interface Block {
  value: Promise<Buffer | undefined>;
  buf: Buffer;
  /** Slices handed out and not yet released. */
  pins: number;
  /** No longer in the map: its buffer may be reused once unpinned. */
  dropped: boolean;
}

/** Bytes read through the cache; valid until `release` is called (once). */
export interface Pinned {
  bytes: Buffer;
  release: () => void;
}

/**
 * Bytes read through the cache as consecutive pieces (slices of the blocks they lie in, split at block ends):
 * no copy however many blocks they cross; valid until `release` is called (once).
 */
export interface PinnedPieces {
  pieces: Buffer[];
  release: () => void;
}

export interface BlockCacheStats {
  reads: number;
  hits: number;
  readAheads: number;
  /** Block reads into a reused buffer. */
  reused: number;
}

/** Dropped block buffers kept for reuse. */
const freeBlocksMax = 8;
/** The `release` of bytes that belong to the reader alone (nothing to give back). */
export const notPinned = (): void => {};

export class BlockCache {
  private readonly blocks = new Map<number, Block>();
  private readonly free: Buffer[] = [];
  readonly stats: BlockCacheStats = { reads: 0, hits: 0, readAheads: 0, reused: 0 };

  constructor(
    readonly blockBytes: number,
    readonly blocksMax: number,
  ) {}

  /**
   * `len` bytes at `phyOffset` of the segment starting at `segStart` in `file`, or undefined when the blocks could
   * not be read (the caller then reads directly, and sees the error itself). `limit` is the end of the bytes that
   * may be read: visible, and inside the segment; the caller checks `covers` first. A read within one block
   * answers a slice of it, kept from reuse until `release`; a read across blocks answers a copy.
   */
  async read(
    file: FileIO,
    segStart: number,
    phyOffset: number,
    len: number,
    limit: number,
  ): Promise<Pinned | undefined> {
    const held = this.pin(file, segStart, phyOffset, len, limit);
    const bufs = await Promise.all(held.map((h) => h.value));
    const start = phyOffset - Math.floor(phyOffset / this.blockBytes) * this.blockBytes;
    if (bufs.length === 1) {
      const only = held[0] as Block;
      const buf = bufs[0];
      if (buf === undefined) {
        this.unpin(only);
        return undefined;
      }
      return { bytes: buf.subarray(start, start + len), release: once(() => this.unpin(only)) };
    }
    const out = Buffer.allocUnsafe(len);
    let at = 0;
    for (let i = 0; i < bufs.length; i++) {
      const b = bufs[i];
      if (b === undefined) break;
      const from = i === 0 ? start : 0;
      const n = Math.min(b.length - from, len - at);
      b.copy(out, at, from, from + n);
      at += n;
    }
    for (const h of held) this.unpin(h);
    return at === len ? { bytes: out, release: notPinned } : undefined;
  }

  /**
   * Like `read`, but bytes across blocks come as one slice per block instead of a copy (a pull answers them as
   * parts of its response as they are): undefined when a block could not be read.
   */
  async readPieces(
    file: FileIO,
    segStart: number,
    phyOffset: number,
    len: number,
    limit: number,
  ): Promise<PinnedPieces | undefined> {
    const held = this.pin(file, segStart, phyOffset, len, limit);
    const bufs = held.length === 1 ? [await (held[0] as Block).value] : await Promise.all(held.map((h) => h.value));
    const release = once(() => {
      for (const h of held) this.unpin(h);
    });
    const pieces: Buffer[] = [];
    let at = phyOffset - Math.floor(phyOffset / this.blockBytes) * this.blockBytes;
    let left = len;
    for (const b of bufs) {
      if (b === undefined) {
        release();
        return undefined;
      }
      const n = Math.min(b.length - at, left);
      pieces.push(at === 0 && n === b.length ? b : b.subarray(at, at + n));
      left -= n;
      at = 0;
    }
    return { pieces, release };
  }

  /** Pins the blocks `phyOffset..+len` touches (reading those not cached) and reads the next one ahead. */
  private pin(file: FileIO, segStart: number, phyOffset: number, len: number, limit: number): Block[] {
    const first = Math.floor(phyOffset / this.blockBytes);
    const last = Math.floor((phyOffset + len - 1) / this.blockBytes);
    const held: Block[] = [];
    for (let b = first; b <= last; b++) {
      const block = this.block(file, segStart, b, limit, false);
      block.pins++;
      held.push(block);
    }
    if ((last + 2) * this.blockBytes <= limit && !this.blocks.has(last + 1)) {
      this.stats.readAheads++;
      this.block(file, segStart, last + 1, limit, true);
    }
    return held;
  }

  /** Forgets every block (the log was cut: offsets may be written again). */
  clear(): void {
    for (const block of this.blocks.values()) this.drop(block);
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

  private block(file: FileIO, segStart: number, b: number, limit: number, ahead: boolean): Block {
    const cached = this.blocks.get(b);
    if (cached !== undefined) {
      // Most recently used goes last (Map order), so eviction drops the least recently used.
      this.blocks.delete(b);
      this.blocks.set(b, cached);
      if (!ahead) this.stats.hits++;
      return cached;
    }
    const at = b * this.blockBytes;
    const reused = this.free.pop();
    if (reused !== undefined) this.stats.reused++;
    const buf = reused ?? Buffer.allocUnsafe(this.blockBytes);
    this.stats.reads++;
    const value = file.read(buf, at - segStart, this.blockBytes).then(
      (n) => (n === this.blockBytes && at + n <= limit ? buf : undefined),
      () => undefined,
    );
    const block: Block = { value, buf, pins: 0, dropped: false };
    this.blocks.set(b, block);
    // A failed or short read is not kept: the next reader tries again.
    void value.then((v) => {
      if (v === undefined && this.blocks.get(b) === block) {
        this.blocks.delete(b);
        block.dropped = true;
      }
    });
    while (this.blocks.size > this.blocksMax) {
      const oldest = this.blocks.keys().next().value as number;
      this.drop(this.blocks.get(oldest) as Block);
      this.blocks.delete(oldest);
    }
    return block;
  }

  private drop(block: Block): void {
    block.dropped = true;
    this.recycle(block);
  }

  private unpin(block: Block): void {
    block.pins--;
    this.recycle(block);
  }

  /** Puts a dropped, unpinned block's buffer on the free list once its read has finished (and succeeded). */
  private recycle(block: Block): void {
    if (!block.dropped || block.pins > 0) return;
    void block.value.then((v) => {
      if (v === undefined || !block.dropped || block.pins > 0 || this.free.length >= freeBlocksMax) return;
      // Each block is queued here at most once; the check keeps one buffer from ever serving two blocks.
      if (this.free.includes(block.buf)) return;
      this.free.push(block.buf);
    });
  }
}

/** `fn` behind a guard: the first call runs it, later calls do nothing (a pin is released once). */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
