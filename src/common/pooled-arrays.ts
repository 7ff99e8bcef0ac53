/**
 * Small typed arrays taken from Node's Buffer pool (`Buffer.allocUnsafe` slices of a shared 8 KiB ArrayBuffer,
 * 8-byte aligned). A typed array of its own allocates an ArrayBuffer with its own memory, which the GC tracks and
 * sweeps: `new Int32Array(576)` costs 0.6–1.1 µs on the bench machine, a pooled one 0.4–0.5; a Float64Array and an
 * Int32Array of 64 each 0.8 µs, both from one pooled slice 0.24. The put path makes a few per batch.
 * The contents are not zeroed: callers write every element they read.
 */

/** An Int32Array of `n` elements over pooled memory (unset elements hold garbage). */
export function pooledInt32Array(n: number): Int32Array {
  const b = Buffer.allocUnsafe(n * 4);
  // Node aligns its pool's slices to 8 bytes; were that to change, a view would throw: the array's own memory then.
  if ((b.byteOffset & 7) !== 0) return new Int32Array(n);
  return new Int32Array(b.buffer, b.byteOffset, n);
}

/** A Float64Array and an Int32Array of `n` elements each, over one pooled slice (unset elements hold garbage). */
export function pooledFloat64AndInt32Arrays(n: number): [Float64Array, Int32Array] {
  const b = Buffer.allocUnsafe(n * 12);
  if ((b.byteOffset & 7) !== 0) return [new Float64Array(n), new Int32Array(n)];
  return [new Float64Array(b.buffer, b.byteOffset, n), new Int32Array(b.buffer, b.byteOffset + n * 8, n)];
}
