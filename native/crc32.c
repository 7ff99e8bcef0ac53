/*
 * CRC-32 (zlib's polynomial, reflected, the values of `zlib.crc32`) for the store's record bodies.
 *
 * Node 20's zlib computes it byte-table-wise (~0.27 ns a byte on the bench machine): for a batch of 1 KiB
 * messages that is the largest single cost of a put. On x86-64 with PCLMULQDQ this folds 64 bytes a step with
 * carry-less multiplies (the folding method of Intel's "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ Instruction"): the buffer is kept as four 128-bit lanes, each lane multiplied forward by x^(512±32)
 * and added to the next 64 bytes; the lanes are then folded into one and that one over any further 16-byte
 * blocks. What is left, one 128-bit remainder congruent to everything folded so far, and the last < 16 bytes,
 * goes through the byte table. With VPCLMULQDQ the same runs on 256-bit registers, 128 bytes a step. Elsewhere
 * (or without PCLMULQDQ) everything goes through the table.
 *
 * Exports (N-API, so one build serves every Node of the same ABI):
 *   crc32(buf: Uint8Array, at: number, len: number): number        unsigned CRC-32 of buf[at, at + len)
 *   crc32Rows(buf, rows: Int32Array, stride, count, out: Int32Array) out[i] = CRC-32 of the range row i names:
 *                                                                  rows[i * stride] = start, [+ 1] = length
 *   simd: boolean, simdBits: 0 | 128 | 256                         whether carry-less multiplies run, how wide
 */
#include <node_api.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TSR_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static uint32_t table[8][256];
/* 0: the byte table only; 1: 128-bit carry-less multiplies; 2: 256-bit ones too (bodies of 128 bytes and more). */
static int simd = 0;

static void make_tables(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++)
    for (int k = 1; k < 8; k++) table[k][n] = table[0][table[k - 1][n] & 0xff] ^ (table[k - 1][n] >> 8);
}

/* The register after `len` more bytes (no pre- or post-inversion: `reg` is the running register). */
static uint32_t table_update(uint32_t reg, const uint8_t *p, size_t len) {
  while (len >= 8) {
    uint32_t lo, hi;
    memcpy(&lo, p, 4);
    memcpy(&hi, p + 4, 4);
    lo ^= reg;
    reg = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
          table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
    p += 8;
    len -= 8;
  }
  while (len-- > 0) reg = table[0][(reg ^ *p++) & 0xff] ^ (reg >> 8);
  return reg;
}

#ifdef TSR_X86
/* One lane moved forward over the distance `k` encodes (lo: x^(d+32), hi: x^(d-32), reflected and shifted). */
__attribute__((target("pclmul,sse4.1"))) static inline __m128i fold(__m128i lane, __m128i k) {
  return _mm_xor_si128(_mm_clmulepi64_si128(lane, k, 0x00), _mm_clmulepi64_si128(lane, k, 0x11));
}

/*
 * The end of a folding: `x0` (the lane every byte before `p` was folded into) over the further 16-byte blocks, then
 * the byte table. x0 stands for every byte folded so far: its 16 bytes, from a zero register, give the same register.
 */
__attribute__((target("pclmul,sse4.1"))) static uint32_t fold_rest(__m128i x0, const uint8_t *p, size_t len) {
  const __m128i k128 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0); /* x^(128-32),   x^(128+32)   */
  while (len >= 16) {
    x0 = _mm_xor_si128(fold(x0, k128), _mm_loadu_si128((const __m128i *)p));
    p += 16;
    len -= 16;
  }
  uint8_t rest[16];
  _mm_storeu_si128((__m128i *)rest, x0);
  return table_update(table_update(0, rest, 16), p, len);
}

/* `len` >= 16. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t simd_update(uint32_t reg, const uint8_t *p, size_t len) {
  const __m128i k512 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4); /* x^(4*128-32), x^(4*128+32) */
  const __m128i k128 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0); /* x^(128-32),   x^(128+32)   */
  __m128i x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)reg));
  if (len >= 64) {
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    p += 64;
    len -= 64;
    while (len >= 64) {
      x0 = _mm_xor_si128(fold(x0, k512), _mm_loadu_si128((const __m128i *)p));
      x1 = _mm_xor_si128(fold(x1, k512), _mm_loadu_si128((const __m128i *)(p + 16)));
      x2 = _mm_xor_si128(fold(x2, k512), _mm_loadu_si128((const __m128i *)(p + 32)));
      x3 = _mm_xor_si128(fold(x3, k512), _mm_loadu_si128((const __m128i *)(p + 48)));
      p += 64;
      len -= 64;
    }
    x0 = _mm_xor_si128(fold(x0, k128), x1);
    x0 = _mm_xor_si128(fold(x0, k128), x2);
    x0 = _mm_xor_si128(fold(x0, k128), x3);
  } else {
    p += 16;
    len -= 16;
  }
  return fold_rest(x0, p, len);
}

/*
 * The same folding on 256-bit registers (VPCLMULQDQ: two 128-bit lanes per instruction), 128 bytes a step, for
 * `len` >= 128. The four registers are then folded into one (256 bits apart), its two halves into one 128-bit lane,
 * and that goes on as in simd_update.
 */
__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.1"))) static inline __m256i fold256(__m256i lane, __m256i k) {
  return _mm256_xor_si256(_mm256_clmulepi64_epi128(lane, k, 0x00), _mm256_clmulepi64_epi128(lane, k, 0x11));
}

__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.1"))) static uint32_t wide_update(uint32_t reg, const uint8_t *p,
                                                                                       size_t len) {
  const __m256i k1024 = _mm256_set_epi64x(0x14a7fe880, 0x1e88ef372, 0x14a7fe880, 0x1e88ef372);
  const __m256i k256 = _mm256_set_epi64x(0x15a546366, 0x0f1da05aa, 0x15a546366, 0x0f1da05aa);
  const __m128i k128 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
  const __m256i first = _mm256_zextsi128_si256(_mm_cvtsi32_si128((int)reg));
  __m256i y0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)p), first);
  __m256i y1 = _mm256_loadu_si256((const __m256i *)(p + 32));
  __m256i y2 = _mm256_loadu_si256((const __m256i *)(p + 64));
  __m256i y3 = _mm256_loadu_si256((const __m256i *)(p + 96));
  p += 128;
  len -= 128;
  while (len >= 128) {
    y0 = _mm256_xor_si256(fold256(y0, k1024), _mm256_loadu_si256((const __m256i *)p));
    y1 = _mm256_xor_si256(fold256(y1, k1024), _mm256_loadu_si256((const __m256i *)(p + 32)));
    y2 = _mm256_xor_si256(fold256(y2, k1024), _mm256_loadu_si256((const __m256i *)(p + 64)));
    y3 = _mm256_xor_si256(fold256(y3, k1024), _mm256_loadu_si256((const __m256i *)(p + 96)));
    p += 128;
    len -= 128;
  }
  y0 = _mm256_xor_si256(fold256(y0, k256), y1);
  y0 = _mm256_xor_si256(fold256(y0, k256), y2);
  y0 = _mm256_xor_si256(fold256(y0, k256), y3);
  __m128i x0 = _mm_xor_si128(fold(_mm256_castsi256_si128(y0), k128), _mm256_extracti128_si256(y0, 1));
  /* Clean upper halves before any legacy-SSE code runs (the compiler adds no VZEROUPPER to a target function;
     without it every SSE instruction after this call pays a transition: 1 KiB took 220 ns instead of 30). */
  _mm256_zeroupper();
  return fold_rest(x0, p, len);
}

static int cpu_has_pclmul(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  return (c & bit_PCLMUL) != 0 && (c & bit_SSE4_1) != 0;
}

/* VPCLMULQDQ and AVX2, and the OS saving the YMM registers. */
static int cpu_has_vpclmul(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || (c & bit_OSXSAVE) == 0) return 0;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & 6) != 6) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return (b & bit_AVX2) != 0 && (c & bit_VPCLMULQDQ) != 0;
}
#endif

static uint32_t crc32_of(const uint8_t *p, size_t len) {
  uint32_t reg = 0xffffffffu;
#ifdef TSR_X86
  if (simd == 2 && len >= 128) return ~wide_update(reg, p, len);
  if (simd && len >= 64) return ~simd_update(reg, p, len);
#endif
  return ~table_update(reg, p, len);
}

/*
 * The memory and element count of a typed array argument of type `want` (a Buffer is a Uint8Array); 0 with a
 * TypeError thrown when it is not one. An empty array's memory may be NULL: the status, not the pointer, tells.
 */
static int array_of(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  bool is;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL) != napi_ok || type != want) {
    napi_throw_type_error(env, NULL, want == napi_uint8_array ? "expected a Uint8Array" : "expected an Int32Array");
    return 0;
  }
  return 1;
}

static int int_of(napi_env env, napi_value v, int64_t *out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a number");
    return 0;
  }
  return 1;
}

static napi_value js_crc32(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "crc32(buf, at, len)");
    return NULL;
  }
  void *p;
  size_t n;
  int64_t at, len;
  if (!array_of(env, argv[0], napi_uint8_array, &p, &n) || !int_of(env, argv[1], &at) || !int_of(env, argv[2], &len))
    return NULL;
  if (at < 0 || len < 0 || (uint64_t)at + (uint64_t)len > n) {
    napi_throw_range_error(env, NULL, "crc32: range outside the buffer");
    return NULL;
  }
  napi_value r;
  napi_create_uint32(env, crc32_of((const uint8_t *)p + at, (size_t)len), &r);
  return r;
}

static napi_value js_crc32_rows(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "crc32Rows(buf, rows, stride, count, out)");
    return NULL;
  }
  void *buf, *rows_mem, *out_mem;
  size_t n, nrows, nout;
  int64_t stride, count;
  if (!array_of(env, argv[0], napi_uint8_array, &buf, &n) ||
      !array_of(env, argv[1], napi_int32_array, &rows_mem, &nrows) || !int_of(env, argv[2], &stride) || !int_of(env, argv[3], &count) ||
      !array_of(env, argv[4], napi_int32_array, &out_mem, &nout))
    return NULL;
  const uint8_t *p = buf;
  const int32_t *rows = rows_mem;
  int32_t *out = out_mem;
  if (stride < 2 || count < 0 || (uint64_t)count > nout ||
      (count > 0 && (uint64_t)(count - 1) * (uint64_t)stride + 2 > nrows)) {
    napi_throw_range_error(env, NULL, "crc32Rows: stride, count or out do not fit the rows");
    return NULL;
  }
  for (int64_t i = 0; i < count; i++) {
    const int32_t at = rows[i * stride], len = rows[i * stride + 1];
    if (at < 0 || len < 0 || (uint64_t)at + (uint64_t)len > n) {
      napi_throw_range_error(env, NULL, "crc32Rows: a row's range is outside the buffer");
      return NULL;
    }
    out[i] = (int32_t)crc32_of(p + at, (size_t)len);
  }
  return NULL;
}

/* Tables and CPU checks, once per process (worker threads load the module again; its globals are shared). */
static void init_once(void) {
  make_tables();
#ifdef TSR_X86
  simd = cpu_has_pclmul() ? (cpu_has_vpclmul() ? 2 : 1) : 0;
  const char *limit = getenv("TSROCKET_NATIVE_CRC_SIMD"); /* "1": 128-bit folding only (tests, A/B) */
  if (limit != NULL && limit[0] == '1' && simd > 1) simd = 1;
#endif
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, init_once);
  napi_value f, b;
  napi_create_function(env, "crc32", NAPI_AUTO_LENGTH, js_crc32, NULL, &f);
  napi_set_named_property(env, exports, "crc32", f);
  napi_create_function(env, "crc32Rows", NAPI_AUTO_LENGTH, js_crc32_rows, NULL, &f);
  napi_set_named_property(env, exports, "crc32Rows", f);
  napi_get_boolean(env, simd != 0, &b);
  napi_set_named_property(env, exports, "simd", b);
  napi_create_int32(env, simd == 2 ? 256 : simd == 1 ? 128 : 0, &b);
  napi_set_named_property(env, exports, "simdBits", b);
  return exports;
}
