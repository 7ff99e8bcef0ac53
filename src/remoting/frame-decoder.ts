/** Incremental frame splitter: socket chunks in, complete frame contents (after the length prefix) out. */
import { RemotingProtocolError } from './errors.js';

const frameBytesMaxDefault = 16 * 1024 * 1024;
/** Stands in for a consumed chunk (the array keeps one element type). */
const empty = Buffer.alloc(0);
/** Buffer#subarray called through a constant: `buf.subarray` is a generic property load in optimized code here. */
const bufferSubarray = Buffer.prototype.subarray;

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

  /**
   * Bytes still to come of the last frame held when it is incomplete and its length is known (complete frames not
   * yet taken may lie before it); -1 otherwise (nothing held, the frames held complete, or a prefix incomplete).
   */
  get missingBytes(): number {
    const held = this.buffered;
    let at = 0;
    let frame = this.frameBytes;
    for (;;) {
      if (frame < 0) {
        if (held - at < 4) return -1;
        frame = this.uint32At(at);
        if (frame < 4) return -1;
        frame += 4;
      }
      if (at + frame > held) return at + frame - held;
      at += frame;
      frame = -1;
    }
  }

  /** Bytes held of the last frame when missingBytes is above 0 (with its prefix unless that was read already). */
  get tailBytes(): number {
    const held = this.buffered;
    let at = 0;
    let frame = this.frameBytes;
    for (;;) {
      if (frame < 0) frame = this.uint32At(at) + 4;
      if (at + frame > held) return held - at;
      at += frame;
      frame = -1;
    }
  }

  /** Copies the bytes held into one buffer of their own: the chunks they were views into are let go. */
  compact(): void {
    if (this.buffered === 0) return;
    const out = Buffer.allocUnsafe(this.buffered);
    this.copyHeld(0, out);
    this.chunks = [out];
    this.head = 0;
    this.offset = 0;
  }

  /**
   * Copies the last `n` bytes held (n ≤ pendingBytes: an incomplete frame's start, tailBytes) to the start of
   * `into` and holds that view of them instead, so that a chunk continuing them in `into` merges with them (a slab
   * reader carries an incomplete frame's start into its next slab); the frames before them stay where they are.
   */
  moveTailInto(n: number, into: Buffer): void {
    if (n <= 0) return;
    if (n > this.buffered || into.length < n) {
      throw new RangeError(`moveTailInto: ${n} bytes of ${this.buffered} held, room for ${into.length}`);
    }
    this.copyHeld(this.buffered - n, into);
    let cut = n;
    while (cut > 0) {
      const last = this.chunks.length - 1;
      const chunk = this.chunks[last]!;
      const avail = last === this.head ? chunk.length - this.offset : chunk.length;
      if (avail > cut) {
        this.chunks[last] = chunk.subarray(0, chunk.length - cut);
        break;
      }
      cut -= avail;
      if (last === this.head) {
        this.chunks = [];
        this.head = 0;
        this.offset = 0;
      } else this.chunks.pop();
    }
    this.chunks.push(into.subarray(0, n));
  }

  /** Copies the bytes held from `from` (relative to the first unconsumed byte) to the end into `into`. */
  private copyHeld(from: number, into: Buffer): void {
    let skip = from;
    let filled = 0;
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      const start = (i === this.head ? this.offset : 0) + skip;
      if (start >= chunk.length) {
        skip = start - chunk.length;
        continue;
      }
      skip = 0;
      chunk.copy(into, filled, start);
      filled += chunk.length - start;
    }
  }

  /** The big-endian uint32 at `at` bytes past the first unconsumed byte (at + 4 ≤ pendingBytes). */
  private uint32At(at: number): number {
    let v = 0;
    let need = 4;
    let skip = at;
    for (let i = this.head; i < this.chunks.length && need > 0; i++) {
      const chunk = this.chunks[i]!;
      let j = (i === this.head ? this.offset : 0) + skip;
      if (j >= chunk.length) {
        skip = j - chunk.length;
        continue;
      }
      skip = 0;
      if (need === 4 && j + 4 <= chunk.length) return chunk.readUInt32BE(j);
      for (; j < chunk.length && need > 0; j++, need--) v = v * 256 + chunk[j]!;
    }
    return v;
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
    const at = this.offset;
    if (first.length - at >= 4) {
      // Byte loads, not first.readUInt32BE: a typed array's method is a generic property load in optimized code here.
      const v = (first[at]! * 0x1000000 + ((first[at + 1]! << 16) | (first[at + 2]! << 8) | first[at + 3]!)) >>> 0;
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
      const out = bufferSubarray.call(first, this.offset, this.offset + n);
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
