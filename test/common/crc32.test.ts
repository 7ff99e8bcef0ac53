import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { crc32, crc32At, crc32Rows, crcImplementation, tableCrc32, tableCrcBytesMax } from '../../src/common/crc32.js';

test('the table CRC-32 equals zlib.crc32 for every length around the 8-byte steps and the crossover', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 2 * tableCrcBytesMax + 9 }), fc.nat(7), (bytes, skip) => {
      // A view at an odd offset of a larger buffer, as a batch item's body is.
      const b = Buffer.from(bytes).subarray(Math.min(skip, bytes.length));
      const want = zlibCrc32(b);
      assert.equal(tableCrc32(b), want);
      assert.equal(crc32(b), want);
    }),
    { numRuns: 500 },
  );
});

test('known CRC-32 values', () => {
  assert.equal(tableCrc32(Buffer.alloc(0)), 0);
  assert.equal(tableCrc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(1024, 0x78)), zlibCrc32(Buffer.alloc(1024, 0x78)));
  assert.equal(crc32At(Buffer.from('xx123456789'), 2, 9), 0xcbf43926);
});

/** True when a C compiler answers here: then `npm run build` must have built the native module. */
function compilerPresent(): boolean {
  return spawnSync(process.env.CC || 'cc', ['--version'], { stdio: 'ignore' }).status === 0;
}

test('with a C compiler the build made the native CRC-32 and bodies over the crossover use it', () => {
  // Not a skip: without a compiler the zlib fallback is what runs, and the fallback test below covers it.
  if (!compilerPresent()) {
    assert.equal(crcImplementation.native, false);
    assert.match(crcImplementation.description, /zlib/);
    return;
  }
  assert.equal(crcImplementation.native, true, `native CRC-32 not loaded: ${crcImplementation.description}`);
  if (process.arch === 'x64') assert.match(crcImplementation.description, /carry-less multiply/);
});

test('every length and alignment gives zlib.crc32: around the 16- and 64-byte folds, and long runs', () => {
  const big = randomBytes(300_000);
  for (let len = 0; len <= 1100; len++) {
    for (const at of [0, 1, 3, 8, 15, 17, 63]) {
      assert.equal(crc32At(big, at, len), zlibCrc32(big.subarray(at, at + len)), `at ${at} len ${len}`);
    }
  }
  for (let r = 0; r < 300; r++) {
    const at = Math.floor(Math.random() * 100_000);
    const len = Math.floor(Math.random() * 200_000);
    assert.equal(crc32At(big, at, len), zlibCrc32(big.subarray(at, at + len)), `at ${at} len ${len}`);
    assert.equal(crc32(big.subarray(at, at + len)), zlibCrc32(big.subarray(at, at + len)));
  }
  // Bytes that make every fold's products carry across the 64-bit halves.
  for (const fill of [0x00, 0xff, 0x80, 0x01]) {
    const b = Buffer.alloc(4096 + 37, fill);
    assert.equal(crc32(b), zlibCrc32(b));
  }
});

test('crc32Rows gives each row its range CRC-32, or says it did nothing without the native module', () => {
  const src = randomBytes(70_000);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(69_000), fc.nat(2_000)), { minLength: 0, maxLength: 70 }),
      fc.integer({ min: 2, max: 11 }),
      (ranges, stride) => {
        const rows = new Int32Array(Math.max(1, ranges.length * stride)).fill(-7);
        const fitted = ranges.map(([at, len]) => [at, Math.min(len, src.length - at)] as const);
        fitted.forEach(([at, len], i) => {
          rows[i * stride] = at;
          rows[i * stride + 1] = len;
        });
        const out = new Int32Array(ranges.length + 3).fill(42);
        const done = crc32Rows(src, rows, stride, ranges.length, out);
        assert.equal(done, crcImplementation.native);
        if (!done) return;
        for (const [i, [at, len]] of fitted.entries()) {
          assert.equal(out[i] as number, zlibCrc32(src.subarray(at, at + len)) | 0);
        }
        // Past count nothing is written.
        assert.deepEqual([...out.subarray(ranges.length)], [42, 42, 42]);
      },
    ),
    { numRuns: 150 },
  );
});

test('the native calls refuse ranges outside the buffer and arguments of the wrong kind', () => {
  if (!crcImplementation.native) return;
  const src = Buffer.alloc(100);
  const rows = Int32Array.of(90, 20);
  assert.throws(() => crc32Rows(src, rows, 2, 1, new Int32Array(1)), /RangeError|outside the buffer/);
  assert.throws(() => crc32Rows(src, Int32Array.of(0, 10), 2, 2, new Int32Array(2)), /do not fit the rows/);
  assert.throws(() => crc32Rows(src, Int32Array.of(0, 10), 2, 1, new Int32Array(0)), /do not fit the rows/);
  assert.throws(() => crc32Rows(src, Int32Array.of(-1, 10), 2, 1, new Int32Array(1)), /outside the buffer/);
  assert.throws(
    () => crc32Rows(src, new Float64Array(2) as unknown as Int32Array, 2, 1, new Int32Array(1)),
    /Int32Array/,
  );
  assert.throws(() => crc32At(src, 50, 200), /outside the buffer/);
  assert.throws(() => crc32At([1, 2, 3] as unknown as Uint8Array, 0, 200), /Uint8Array/);
});

test('the 128-bit folding (CPUs without VPCLMULQDQ) gives zlib.crc32 too', () => {
  if (!crcImplementation.native) return;
  const mod = pathToFileURL(new URL('../../src/common/crc32.js', import.meta.url).pathname).href;
  const script = `
    import { randomBytes } from 'node:crypto';
    import { crc32 } from 'node:zlib';
    import { crc32At, crcImplementation } from ${JSON.stringify(mod)};
    const big = randomBytes(40_000);
    let bad = 0;
    for (let len = 0; len <= 700; len++) for (const at of [0, 1, 17]) if (crc32At(big, at, len) !== crc32(big.subarray(at, at + len))) bad++;
    for (let len = 20_000; len < 40_000; len += 997) if (crc32At(big, 3, len - 3) !== crc32(big.subarray(3, len))) bad++;
    console.log(JSON.stringify({ description: crcImplementation.description, bad }));`;
  const got = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, TSROCKET_NATIVE_CRC_SIMD: '1' },
      encoding: 'utf8',
    }),
  );
  if (process.arch === 'x64') assert.match(got.description, /128-bit/);
  assert.equal(got.bad, 0);
});

test('TSROCKET_NATIVE_CRC=off runs zlib, says so, and computes the same values', () => {
  const mod = pathToFileURL(new URL('../../src/common/crc32.js', import.meta.url).pathname).href;
  const script = `
    import { crc32, crc32Rows, crcImplementation } from ${JSON.stringify(mod)};
    const b = Buffer.alloc(5000, 7);
    const out = new Int32Array(1);
    console.log(JSON.stringify({ ...crcImplementation, crc: crc32(b), rows: crc32Rows(b, Int32Array.of(0, 10), 2, 1, out) }));`;
  const got = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, TSROCKET_NATIVE_CRC: 'off' },
      encoding: 'utf8',
    }),
  );
  assert.equal(got.native, false);
  assert.match(got.description, /turned off: TSROCKET_NATIVE_CRC=off/);
  assert.equal(got.crc, zlibCrc32(Buffer.alloc(5000, 7)));
  assert.equal(got.rows, false);
});
