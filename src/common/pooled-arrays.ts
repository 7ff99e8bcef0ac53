/**
 * Small typed arrays carved from a slab of this module's own (an ArrayBuffer of 256 KiB, slices 8-byte aligned).
 * A typed array with an ArrayBuffer of its own allocates memory the GC tracks and sweeps: `new Int32Array(576)`
 * costs 0.6–1.1 µs on the bench machine, a pooled one 0.4–0.5. Node's Buffer pool (8 KiB) held the put path's arrays
 * before: ~3 KiB of them per batch refilled it (a new ArrayBuffer, malloc'd and swept) every third batch, and every
 * slice made a Buffer object besides the typed array. The slab is replaced when full; one that no array uses any
 * more is collected as any ArrayBuffer. The put path makes a few per batch; they live until the batch is dispatched.
 * The contents are not zeroed: callers write every element they read.
 */

const slabBytes = 256 * 1024;
/** Larger requests get an ArrayBuffer of their own (a slab holds at least eight of the largest slices). */
const sliceBytesMax = slabBytes / 8;
let slab = new ArrayBuffer(slabBytes);
let slabUsed = 0;

/** The offset in `slab` of `bytes` more bytes (8-byte aligned); replaces the slab when they do not fit. */
function take(bytes: number): number {
  const size = (bytes + 7) & ~7;
  if (slabUsed + size > slabBytes) {
    slab = new ArrayBuffer(slabBytes);
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += size;
  return at;
}

/** An Int32Array of `n` elements over pooled memory (unset elements hold garbage). */
export function pooledInt32Array(n: number): Int32Array {
  if (n * 4 > sliceBytesMax) return new Int32Array(n);
  const at = take(n * 4);
  return new Int32Array(slab, at, n);
}

/** A Float64Array and an Int32Array of `n` elements each, over one pooled slice (unset elements hold garbage). */
export function pooledFloat64AndInt32Arrays(n: number): [Float64Array, Int32Array] {
  if (n * 12 > sliceBytesMax) return [new Float64Array(n), new Int32Array(n)];
  const at = take(n * 12);
  return [new Float64Array(slab, at, n), new Int32Array(slab, at + n * 8, n)];
}

/**
 * One Int32Array reused by every call of a synchronous step (filled and read before it returns, so no array per
 * call), grown when a call needs more elements. Contents are whatever the last user left.
 */
export class Int32Scratch {
  private a: Int32Array;

  constructor(initial: number) {
    this.a = new Int32Array(initial);
  }

  /** The array, with at least `count` elements. */
  for(count: number): Int32Array {
    if (this.a.length < count) this.a = new Int32Array(count);
    return this.a;
  }
}
