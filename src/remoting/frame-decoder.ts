/** Incremental frame splitter: socket chunks in, complete frame contents (after the length prefix) out. */
import { RemotingProtocolError } from './errors.js';

const frameBytesMaxDefault = 16 * 1024 * 1024;
/** Stands in for a consumed chunk (the array keeps one element type). */
const empty = Buffer.alloc(0);

export class FrameDecoder {
  private readonly bytesMax: number;
  /** Unconsumed chunks; the first starts at `offset`. Chunks are only copied when a frame spans several. */
  private chunks: Buffer[] = [];
  /** Index of the first unconsumed chunk (an index, not shift(), keeps tiny-chunk feeding linear). */
  private head = 0;
  private offset = 0;
  private buffered = 0;
  /** Length of the frame being collected, or -1 when its prefix has not been read yet. */
  private frameBytes = -1;

  constructor(frameBytesMax: number = frameBytesMaxDefault) {
    this.bytesMax = frameBytesMax;
  }

  /** Bytes held that do not yet form a complete frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Declared length of the frame being collected, or -1 while its length prefix is incomplete. */
  get expectedBytes(): number {
    return this.frameBytes;
  }

  /** Drops everything held (the connection is gone); the decoder starts afresh. */
  reset(): void {
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.buffered = 0;
    this.frameBytes = -1;
  }

  /**
   * Adds a chunk; returns the frames it completed (each without the 4-byte length prefix).
   * Throws RemotingProtocolError on a length below 4 or above the limit; the decoder is unusable afterwards.
   */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    this.append(chunk);
    for (let f = this.next(); f !== undefined; f = this.next()) frames.push(f);
    return frames;
  }

  /**
   * Adds a chunk without decoding: `next` takes the frames out one at a time (a caller bounding its work).
   * A chunk that continues the last one held in memory (the same ArrayBuffer, right after it: consecutive reads
   * into one slab, see read-slab.ts) extends it instead, so a frame across both is a view, not a copy.
   */
  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buffered += chunk.length;
    const last = this.chunks.length - 1;
    if (last >= this.head) {
      const prev = this.chunks[last]!;
      if (prev.buffer === chunk.buffer && prev.byteOffset + prev.length === chunk.byteOffset) {
        this.chunks[last] = Buffer.from(prev.buffer, prev.byteOffset, prev.length + chunk.length);
        return;
      }
    }
    this.chunks.push(chunk);
  }

  /** Copies the bytes held into one buffer of their own: the chunks they were views into are let go. */
  compact(): void {
    if (this.buffered === 0) return;
    const out = Buffer.allocUnsafe(this.buffered);
    let filled = 0;
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      const from = i === this.head ? this.offset : 0;
      chunk.copy(out, filled, from);
      filled += chunk.length - from;
    }
    this.chunks = [out];
    this.head = 0;
    this.offset = 0;
  }

  /**
   * The next complete frame (without its length prefix), or undefined when the bytes held do not make one.
   * Throws RemotingProtocolError on a length below 4 or above the limit; the decoder is unusable afterwards.
   */
  next(): Buffer | undefined {
    if (this.frameBytes < 0) {
      if (this.buffered < 4) return undefined;
      const length = this.readPrefix();
      if (length < 4 || length > this.bytesMax) {
        this.reset();
        throw new RemotingProtocolError(
          length < 4
            ? `frame length ${length} is shorter than 4`
            : `frame length ${length} exceeds frameBytesMax ${this.bytesMax}`,
        );
      }
      this.frameBytes = length;
    }
    if (this.buffered < this.frameBytes) return undefined;
    const frame = this.take(this.frameBytes);
    this.frameBytes = -1;
    return frame;
  }

  private readPrefix(): number {
    const first = this.chunks[this.head]!;
    if (first.length - this.offset >= 4) {
      const v = first.readUInt32BE(this.offset);
      this.skip(4);
      return v;
    }
    return this.take(4).readUInt32BE(0);
  }

  private skip(n: number): void {
    this.offset += n;
    this.buffered -= n;
    if (this.offset === this.chunks[this.head]!.length) {
      // A consumed chunk must not stay referenced from the array: while a frame is always incomplete (a steady
      // stream) the array is not emptied, and each socket read (up to 64 KiB) would live until 1024 piled up.
      this.chunks[this.head] = empty;
      this.head++;
      this.offset = 0;
      if (this.head === this.chunks.length) {
        this.chunks = [];
        this.head = 0;
      } else if (this.head >= 1024) {
        this.chunks = this.chunks.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** Removes `n` buffered bytes (n ≤ buffered): a view when they lie in one chunk, else one copy. */
  private take(n: number): Buffer {
    const first = this.chunks[this.head]!;
    if (first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.skip(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head]!;
      const count = Math.min(n - filled, chunk.length - this.offset);
      chunk.copy(out, filled, this.offset, this.offset + count);
      filled += count;
      this.skip(count);
    }
    return out;
  }
}
