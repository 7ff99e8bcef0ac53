/** pooled-arrays.ts: arrays carved from shared slabs never share memory, across slab replacements and odd sizes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Int32Scratch, pooledFloat64AndInt32Arrays, pooledInt32Array } from '../../src/common/pooled-arrays.js';

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

test('Int32Scratch hands out one array, grown only when a call needs more', () => {
  const s = new Int32Scratch(4);
  const a = s.for(3);
  assert.equal(s.for(4), a);
  const b = s.for(9);
  assert.notEqual(b, a);
  assert.ok(b.length >= 9);
  assert.equal(s.for(2), b);
});
