/**
 * Reused buffers for batch bodies. A fresh buffer of tens or hundreds of KiB per batch costs more than its
 * encoding: new pages from the kernel (a fault per 4 KiB on first touch) and an ArrayBuffer for the GC to free.
 * A body goes back only when the producer knows no socket will read it again: the broker answered the batch and
 * it was written exactly once (an attempt that timed out may still sit in its socket's queue: that body is dropped).
 */

/** Size classes are multiples of this (batches of one producer mostly fall into one or two classes). */
const classBytes = 64 * 1024;
/** Larger bodies are not kept. */
export const pooledBytesMax = 1024 * 1024;
/** Free bytes kept over all classes. */
const freeBytesMax = 4 * 1024 * 1024;

const freeByClass = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;
/** ArrayBuffers handed out and not yet given back: a body is given back at most once, and only one of ours. */
const issued = new WeakSet<ArrayBuffer>();

function classOf(bytes: number): number {
  return Math.ceil(bytes / classBytes) * classBytes;
}

/** A buffer of exactly `bytes` for a batch body: a kept one when its class has one free. */
export function takeBatchBuffer(bytes: number): Buffer {
  if (bytes > pooledBytesMax || bytes < 4096) return Buffer.allocUnsafe(bytes);
  const size = classOf(bytes);
  const free = freeByClass.get(size);
  let ab = free?.pop();
  if (ab === undefined) ab = Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
  else freeBytes -= size;
  issued.add(ab);
  return Buffer.from(ab, 0, bytes);
}

/**
 * Gives a body from takeBatchBuffer back for reuse. Only when no socket can still read it: the request carrying it
 * was written once and answered. Anything else (not ours, given back twice, no room) is left to the GC.
 */
export function giveBackBatchBuffer(body: Buffer): void {
  const ab = body.buffer as ArrayBuffer;
  if (!issued.delete(ab)) return;
  const size = ab.byteLength;
  if (freeBytes + size > freeBytesMax) return;
  let free = freeByClass.get(size);
  if (free === undefined) {
    free = [];
    freeByClass.set(size, free);
  }
  free.push(ab);
  freeBytes += size;
}

/** Free bytes held (tests). */
export function batchBuffersFreeBytes(): number {
  return freeBytes;
}
