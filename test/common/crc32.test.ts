import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { crc32, tableCrc32, tableCrcBytesMax } from '../../src/common/crc32.js';

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
});
