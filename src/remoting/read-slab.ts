/**
 * Socket reads into memory this side chooses (net.Socket's `onread`), for the server's accepted sockets.
 *
 * Node's default read mallocs a 64 KiB buffer per read (shrunk to what was read, one ArrayBuffer each), so a frame
 * larger than a read, e.g. a SEND_BATCH of 64 × 1 KiB (66 KB), always spans two reads and the FrameDecoder joins it
 * (a copy of the whole frame). Here a connection that sends bulk reads into a slab of its own, each read right after
 * the last, so that a frame is one view into the slab (the decoder merges contiguous chunks) and a read can take up
 * to the slab's free space at once. A quiet connection reads into one scratch buffer shared by every connection,
 * and each read is copied out of it at once (as small as it is): it holds no memory between requests.
 * A frame that fits in a slab is kept inside one (`placeFrame`): near a slab's end a read ends at the frame's end
 * and the next frame starts in a new slab, and a frame whose rest would not fit has its start carried into the
 * new slab, so a frame is a view, not a join across two slabs.
 *
 * Memory safety: a slab region is handed to the kernel once and never again, and a new slab is allocated when one
 * is used up, so a frame (or a body, a property view) that a handler keeps past later reads (a held pull, an
 * asynchronous put) stays intact; a slab is freed by the GC once no view of it is left. The scratch buffer is only
 * written by a read of the connection whose callback then runs at once (libuv reads one socket at a time, and the
 * callback returns before the next read): nothing outlives the callback in it, since its bytes are copied.
 *
 * The server's sockets come from net.Server, whose accept takes no `onread`; the socket's three `onread` fields
 * (symbols named kBuffer, kBufferCb and kBufferGen, the same since Node 12) are set the way its constructor sets
 * them, and the handle told to read into the first buffer (`useUserBuffer`, what the constructor calls).
 * When any of them is missing, `readIntoSlabs` returns false and the caller reads with 'data' events as before.
 */
import type { Socket } from 'node:net';

/** A bulk connection's slab. */
export const slabBytes = 512 * 1024;
/** A slab with less free space than this is left for a new one (a read takes at most the free space). */
export const regionBytesMin = 16 * 1024;
/** A read of at least this many bytes makes a connection bulk; a shorter one is small. */
export const bulkBytes = 32 * 1024;
/**
 * Small reads in a row after which a bulk connection with nothing held is quiet again. Not one: a frame read by a
 * broker that keeps up ends in a small read (a 66 KB frame comes as 64 KiB + 2 KB), before the next big one.
 */
export const quietReads = 2;
/** Small reads in a row after which a bulk connection holding an incomplete frame leaves its slab (it trickles). */
export const trickleReads = 8;
/** What a quiet connection reads into: as much as one of Node's own reads. */
const scratchBytes = 64 * 1024;

let scratch: Buffer | undefined;

/** The connection's view of its decoder, for choosing where its next read goes. */
export interface ReadTarget {
  /** Takes a chunk read from the socket (a view the target may keep). */
  onChunk(chunk: Buffer): void;
  /** Bytes the decoder holds (incomplete frame, frames waiting for their turn). */
  pendingBytes(): number;
  /** Copies the bytes held into memory of their own (they may lie in a slab the connection leaves). */
  compact(): void;
  /** Bytes still to come of the last frame held when it is incomplete, its length known; else -1. */
  missingBytes(): number;
  /** Bytes held of that incomplete last frame. */
  tailBytes(): number;
  /** Copies the last `n` bytes held (the incomplete frame's start) to the start of `into`; holds them there. */
  moveTailInto(n: number, into: Buffer): void;
}

type OnreadFields = { buffer: symbol; callback: symbol; generator: symbol };

function onreadFields(socket: Socket): OnreadFields | undefined {
  let buffer: symbol | undefined;
  let callback: symbol | undefined;
  let generator: symbol | undefined;
  for (const s of Object.getOwnPropertySymbols(socket)) {
    if (s.description === 'kBuffer') buffer = s;
    else if (s.description === 'kBufferCb') callback = s;
    else if (s.description === 'kBufferGen') generator = s;
  }
  if (buffer === undefined || callback === undefined || generator === undefined) return undefined;
  return { buffer, callback, generator };
}

/** Counters of one connection's reads (tests and benchmarks). */
export interface SlabReadStats {
  reads: number;
  slabs: number;
  /** Reads that went through the scratch buffer (copied out). */
  copiedReads: number;
  /** Times the bytes held were copied out of a slab the connection left. */
  compactions: number;
  /** Times an incomplete frame's start was carried into a new slab (the rest would not have fitted in the old). */
  carries: number;
  /** Reads ended at a frame's end near a slab's end, so that the next frame starts in a new slab. */
  frameEndReads: number;
}

/**
 * Makes `socket` (accepted, nothing read yet) read into slabs / the scratch buffer and hand each chunk to `target`
 * instead of emitting 'data'. Returns undefined (nothing changed) when this Node's socket does not have the fields.
 */
export function readIntoSlabs(socket: Socket, target: ReadTarget): SlabReadStats | undefined {
  const fields = onreadFields(socket);
  const bag = socket as unknown as Record<symbol, unknown>;
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: unknown } })._handle;
  if (fields === undefined || handle === undefined || handle === null || typeof handle.useUserBuffer !== 'function') {
    return undefined;
  }
  if (bag[fields.buffer] !== null || bag[fields.callback] !== null || bag[fields.generator] !== null) return undefined;
  if (socket.readableLength !== 0 || socket.bytesRead !== 0) return undefined;
  const reader = new SlabReader(target);
  bag[fields.generator] = () => reader.next();
  bag[fields.callback] = (nread: number, buf: Buffer) => {
    reader.read(nread, buf);
  };
  const first = reader.next();
  bag[fields.buffer] = first;
  (handle.useUserBuffer as (b: Uint8Array) => void).call(handle, first);
  return reader.stats;
}

class SlabReader {
  readonly stats: SlabReadStats = { reads: 0, slabs: 0, copiedReads: 0, compactions: 0, carries: 0, frameEndReads: 0 };
  private readonly target: ReadTarget;
  /** The bulk connection's slab, undefined while the connection is quiet (reads go to the scratch buffer). */
  private slab: Buffer | undefined;
  /** Where the next read goes in the slab. */
  private pos = 0;
  /** Small reads in a row into the slab. */
  private smallReads = 0;
  /** Length of the read just offered when it ends at a frame's end (0: a read of all the free space). */
  private frameEnd = 0;
  /** The last read filled a read that ended at a frame's end: the next frame starts in a new slab. */
  private atFrameEnd = false;

  constructor(target: ReadTarget) {
    this.target = target;
  }

  /** The buffer the next read goes into. */
  next(): Buffer {
    const slab = this.slab;
    if (slab !== undefined) {
      // Small reads only: the connection went quiet, or trickles. It leaves its slab, which is freed with its
      // last view; the bytes it holds are copied out first, so that a trickled frame does not keep a slab for its
      // few bytes (the server's budget of partial frames counts bytes held, not slabs).
      const pending = this.smallReads >= quietReads ? this.target.pendingBytes() : 0;
      if (this.smallReads >= quietReads && (pending === 0 || this.smallReads >= trickleReads)) {
        this.slab = undefined;
        if (pending > 0) {
          this.stats.compactions++;
          this.target.compact();
        }
      } else {
        const placed = this.placeFrame(slab);
        if (placed !== undefined) return placed;
        if (slab.length - this.pos >= regionBytesMin) return slab.subarray(this.pos);
        this.newSlab();
      }
      if (this.slab !== undefined) return this.slab.subarray(this.pos);
    }
    scratch ??= Buffer.allocUnsafeSlow(scratchBytes);
    return scratch;
  }

  /**
   * Keeps a frame that fits in a slab inside one, so that it is a view, never a join of two slabs (a copy of the
   * whole frame): when the frame being collected cannot end in this slab, its start is carried into a new one
   * (a copy of what arrived, not of the frame); when it can but the next frame (taken to be as large) could not,
   * the read ends at its end and the next frame starts in a new slab (the rest of this one is left unused).
   * Returns the buffer for the next read, or undefined to read into the free space as usual.
   */
  private placeFrame(slab: Buffer): Buffer | undefined {
    const room = slab.length - this.pos;
    const missing = this.target.missingBytes();
    if (missing > 0) {
      this.atFrameEnd = false;
      const tail = this.target.tailBytes();
      const frame = tail + missing;
      if (frame > slabBytes) return undefined;
      if (missing > room) {
        this.stats.carries++;
        this.newSlab();
        const fresh = this.slab!;
        this.target.moveTailInto(tail, fresh);
        this.pos = tail;
        return fresh.subarray(tail);
      }
      if (room - missing < frame) {
        this.stats.frameEndReads++;
        this.frameEnd = missing;
        return slab.subarray(this.pos, this.pos + missing);
      }
      return undefined;
    }
    if (this.atFrameEnd) {
      // The bytes held, if any, are complete frames: they stay views into this slab.
      this.atFrameEnd = false;
      this.newSlab();
      return this.slab!.subarray(0);
    }
    return undefined;
  }

  read(nread: number, buf: Buffer): void {
    this.stats.reads++;
    let chunk: Buffer;
    const frameEnd = this.frameEnd;
    this.frameEnd = 0;
    if (this.slab !== undefined && buf.buffer === this.slab.buffer) {
      chunk = buf.subarray(0, nread);
      this.pos += nread;
      // A read that filled the frame's end is not a sign of a quiet connection, however short.
      this.atFrameEnd = frameEnd > 0 && nread === frameEnd;
      this.smallReads = nread < bulkBytes && !this.atFrameEnd ? this.smallReads + 1 : 0;
    } else {
      // The scratch buffer: copied out before any other socket reads into it.
      this.stats.copiedReads++;
      this.atFrameEnd = false;
      this.smallReads = 0;
      if (nread >= bulkBytes) {
        this.newSlab();
        chunk = this.slab!.subarray(0, nread);
        buf.copy(chunk, 0, 0, nread);
        this.pos = nread;
      } else {
        chunk = Buffer.allocUnsafe(nread);
        buf.copy(chunk, 0, 0, nread);
      }
    }
    this.target.onChunk(chunk);
  }

  private newSlab(): void {
    this.stats.slabs++;
    this.slab = Buffer.allocUnsafeSlow(slabBytes);
    this.pos = 0;
  }
}
