/** pooled-arrays.ts: arrays carved from shared slabs never share memory, across slab replacements and odd sizes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pooledFloat64AndInt32Arrays, pooledInt32Array } from '../../src/common/pooled-arrays.js';

test('pooled arrays hold what was written to each while many others are taken', () => {
  const ints: Int32Array[] = [];
  const pairs: [Float64Array, Int32Array][] = [];
  // ~1.3 MB in all: several slabs, sizes that are not multiples of 8 bytes, and some past a slab's largest slice.
  for (let k = 0; k < 600; k++) {
    const n = 1 + ((k * 37) % 700) + (k % 50 === 0 ? 9000 : 0);
    const a = pooledInt32Array(n);
    assert.equal(a.length, n);
    assert.equal(a.byteOffset % 8, 0);
    for (let i = 0; i < n; i++) a[i] = k * 100_000 + i;
    ints.push(a);
    const [f, s] = pooledFloat64AndInt32Arrays(n);
    assert.equal(f.length, n);
    assert.equal(s.length, n);
    assert.equal(f.byteOffset % 8, 0);
    for (let i = 0; i < n; i++) {
      f[i] = k * 2 ** 40 + i;
      s[i] = -(k * 100_000 + i) - 1;
    }
    pairs.push([f, s]);
  }
  for (const [k, a] of ints.entries()) for (let i = 0; i < a.length; i++) assert.equal(a[i], k * 100_000 + i);
  for (const [k, [f, s]] of pairs.entries()) {
    for (let i = 0; i < f.length; i++) {
      assert.equal(f[i], k * 2 ** 40 + i);
      assert.equal(s[i], -(k * 100_000 + i) - 1);
    }
  }
});
