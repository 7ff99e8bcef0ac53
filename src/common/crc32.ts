/**
 * CRC-32 (zlib's polynomial, same values as `zlib.crc32`). Three implementations, each where it is cheapest:
 * below `tableCrcBytesMax` a slicing-by-8 table loop in JS (no native call, whose fixed cost dominates a 128 B
 * body); above it the native module `dist/native/crc32.node` (native/crc32.c: carry-less multiply folding on
 * x86-64, ~6× zlib's speed for 1 KiB; `crc32Rows` takes a whole batch's bodies in one call), built by `npm run
 * build` when the machine has a C compiler; without it, zlib's CRC-32. `crcImplementation` says which one runs
 * (the broker logs it at start); `TSROCKET_NATIVE_CRC=off` turns the native module off (an A/B, or a suspect),
 * `TSROCKET_NATIVE_CRC_SIMD=1` holds it to 128-bit folding.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { crc32 as zlibCrc32 } from 'node:zlib';

interface NativeCrc {
  crc32(buf: Uint8Array, at: number, len: number): number;
  crc32Rows(buf: Uint8Array, rows: Int32Array, stride: number, count: number, out: Int32Array): void;
  simd: boolean;
  /** 256 with VPCLMULQDQ and AVX2, 128 with PCLMULQDQ, 0 without (TSROCKET_NATIVE_CRC_SIMD=1 holds it to 128). */
  simdBits: number;
}

/** The native module, or why it is not used. */
function loadNative(): { native: NativeCrc | undefined; description: string } {
  if (process.env.TSROCKET_NATIVE_CRC === 'off')
    return { native: undefined, description: "zlib's (native CRC-32 turned off: TSROCKET_NATIVE_CRC=off)" };
  const file = new URL('../../native/crc32.node', import.meta.url);
  try {
    const native = createRequire(import.meta.url)(fileURLToPath(file)) as NativeCrc;
    const kind = native.simd ? `carry-less multiply, ${native.simdBits}-bit` : 'byte table (no PCLMULQDQ)';
    return { native, description: `native, ${kind}` };
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' ? 'not built' : (e as Error).message;
    return {
      native: undefined,
      description: `zlib's (native CRC-32 ${why}: ${fileURLToPath(file)}; see native/build.js)`,
    };
  }
}

const loaded = loadNative();
const native = loaded.native;

/** Which CRC-32 bodies over `tableCrcBytesMax` get, for the broker's start-up log line. */
export const crcImplementation: { native: boolean; description: string } = {
  native: native !== undefined,
  description: loaded.description,
};

/** Measured crossover on the bench machine (JS ≈ zlib near 200 B). */
export const tableCrcBytesMax = 160;

const table = new Int32Array(256 * 8);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  table[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = table[n] as number;
  for (let k = 1; k < 8; k++) {
    c = (table[c & 0xff] as number) ^ (c >>> 8);
    table[k * 256 + n] = c;
  }
}

/** CRC-32 of `b` as an unsigned 32-bit number (what `zlib.crc32(b)` returns). */
export function crc32(b: Uint8Array): number {
  if (b.length <= tableCrcBytesMax) return tableCrc32(b);
  return native !== undefined ? native.crc32(b, 0, b.length) : zlibCrc32(b);
}

/** CRC-32 of `len` bytes of `buf` from `at` (no view made when the native module runs). */
export function crc32At(buf: Uint8Array, at: number, len: number): number {
  if (native !== undefined && len > tableCrcBytesMax) return native.crc32(buf, at, len);
  return crc32(buf.subarray(at, at + len));
}

/**
 * The CRC-32s of many ranges of one buffer in one native call: row `i` of `rows` (`stride` int32s from `i *
 * stride`) gives a start and a length, `out[i]` gets that range's CRC-32 (as an int32). False, with nothing
 * written, when the native module does not run: the caller computes each one itself then.
 */
export function crc32Rows(buf: Uint8Array, rows: Int32Array, stride: number, count: number, out: Int32Array): boolean {
  if (native === undefined) return false;
  native.crc32Rows(buf, rows, stride, count, out);
  return true;
}

/** The table loop (exported for the equivalence test). */
export function tableCrc32(b: Uint8Array): number {
  const t = table;
  const end = b.length;
  let c = -1;
  let i = 0;
  for (; i + 8 <= end; i += 8) {
    c ^= (b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24);
    const h =
      (b[i + 4] as number) | ((b[i + 5] as number) << 8) | ((b[i + 6] as number) << 16) | ((b[i + 7] as number) << 24);
    c =
      (t[1792 + (c & 0xff)] as number) ^
      (t[1536 + ((c >>> 8) & 0xff)] as number) ^
      (t[1280 + ((c >>> 16) & 0xff)] as number) ^
      (t[1024 + (c >>> 24)] as number) ^
      (t[768 + (h & 0xff)] as number) ^
      (t[512 + ((h >>> 8) & 0xff)] as number) ^
      (t[256 + ((h >>> 16) & 0xff)] as number) ^
      (t[h >>> 24] as number);
  }
  for (; i < end; i++) c = (t[(c ^ (b[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
