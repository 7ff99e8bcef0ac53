/*
 * The read worker's sparse reads (src/store/read-worker-thread.ts) in one call per job, on Linux.
 *
 * A job is up to 64 reads (descriptor, file position, length, place in the arena) of records far apart in the
 * CommitLog. `fs.readSync` per read costs ~0.35 µs of JavaScript and libuv around each pread, and each pread a
 * page-cache lookup and a copy whose source misses the CPU caches. Here:
 *  - every read of the job is done in one call (no per-read JavaScript);
 *  - each segment file read is mapped read-only (whole length, MAP_SHARED: the page cache's own pages, coherent
 *    with the store's pwrites). A read whose 64 KiB windows (`WIN_SHIFT`) were read through the mapping before
 *    (their page-table entries exist: the kernel maps a whole 64 KiB window around a fault, "fault-around") is a
 *    memcpy, after prefetches issued for all such reads of the job (their cache misses overlap instead of each
 *    waiting for its own). The first two reads of a window are preads (cheaper than a fault, which maps 16 pages),
 *    the third faults the window in (`PREADS_BEFORE_FAULT`); so records read once or twice cost a pread as before,
 *    and records read again and again (other groups, other passes, rewinds) cost no page-cache lookup at all.
 *
 * Safety:
 *  - A mapped read beyond the file's end (a file cut under the mapping) or an I/O error raises SIGBUS. Copies run
 *    with a per-thread guard armed: the SIGBUS handler (installed once) jumps back out when it is armed on the
 *    faulting thread; otherwise it puts the previous action back and returns, so the signal is delivered as before.
 *    A guarded read that faults drops its mapping and is read again with pread (short or failed as the file is).
 *  - Each descriptor's mapping is checked once per job (fstat: device, inode, size): a descriptor number reused for
 *    another file, or a file whose size changed, is mapped afresh. `dropMappings` unmaps everything (the store
 *    calls it through the worker before it truncates, deletes or closes a segment: a deleted file's blocks are not
 *    freed while a mapping holds it).
 *  - Mapped pages count in the process's RSS (RssFile): the windows faulted in are counted (64 KiB each, an upper
 *    bound) and kept within `mapBytesMax`: at the bound, windows read again are read with pread instead of being
 *    faulted in; when such reads outnumber the reads served from mapped windows 8 to 1, the least recently used
 *    mapping is dropped (what is read has moved on).
 *
 * Exports (N-API):
 *   readSpans(arena: Uint8Array, jobs: Float64Array, jobFirst, spans, fields, arenaAt, results: Int32Array,
 *             resultFirst): void
 *       read s (0 ≤ s < spans) is jobs[(jobFirst + s) * fields + 0..3] = fd, position, length, place (from
 *       arenaAt); results[resultFirst + s] = bytes read (short at the end of the file), -1 on failure or fd < 0.
 *   configure(mapBytesMax: number, map: boolean, checkEachJob: boolean): void   (checkEachJob false: tests only)
 *   dropMappings(): number                              mappings dropped
 *   stats(): { mappings, mappedBytes, preads, faultIns, warm, guarded, dropped, refused }   counters since load
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define WIN_SHIFT 16
#define WIN_BYTES ((size_t)1 << WIN_SHIFT)
#define MAPS_MAX 64
#define SPANS_MAX 256
/* Prefetched bytes of a read at most (the hardware prefetcher follows a longer copy). */
#define PREFETCH_BYTES 2048
/*
 * Reads of a window by pread before one faults it in. A fault costs ~2.5 preads (it maps the 16 pages around it)
 * and makes every later read of the window ~0.1 of one: faulting at the third read loses nothing for records read
 * once or twice (one group, a retry), at most 1.5 preads' worth for one read exactly three times, and wins from the
 * fifth on; windows holding several records read once each count as read several times and are mapped too.
 */
#define PREADS_BEFORE_FAULT 2
/* See the end of `read_spans`. */
#define REFUSED_PER_WARM 8

typedef struct {
  int fd; /* -1: free */
  dev_t dev;
  ino_t ino;
  off_t size;
  uint8_t *base; /* NULL: not mapped (mmap failed or mapping off): pread */
  size_t len;
  uint8_t *reads;  /* a count per window (saturating): reads done by pread */
  uint8_t *mapped; /* a bit per window: faulted in through the mapping */
  size_t mapped_bytes;
  uint64_t used_job;
} map_t;

static map_t maps[MAPS_MAX];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t job_count = 0;
static size_t map_bytes_max = (size_t)1 << 30;
static int map_on = 1;
static int check_each_job = 1;
static size_t mapped_total = 0;
static uint64_t n_preads = 0, n_fault_ins = 0, n_warm = 0, n_guarded = 0, n_dropped = 0, n_refused = 0;
static uint64_t epoch_warm = 0, epoch_refused = 0;

static __thread sigjmp_buf guard_jb;
static __thread volatile sig_atomic_t guard_armed = 0;
static struct sigaction prev_bus;
static volatile sig_atomic_t bus_installed = 0;

static void on_bus(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  if (guard_armed) {
    guard_armed = 0;
    siglongjmp(guard_jb, 1);
  }
  /* Not ours: the previous action takes it (a fault is raised again when the instruction runs again); mapped reads
   * stop (they are no longer guarded). */
  bus_installed = 0;
  sigaction(SIGBUS, &prev_bus, NULL);
  if (si == NULL || si->si_code <= 0) raise(sig);
}

static int install_bus(void) {
  if (bus_installed) return 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_bus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGBUS, &sa, &prev_bus) != 0) return 0;
  bus_installed = 1;
  return 1;
}

static void drop(map_t *m) {
  if (m->fd < 0) return;
  if (m->base != NULL) {
    munmap(m->base, m->len);
    n_dropped++;
  }
  mapped_total -= m->mapped_bytes;
  free(m->reads);
  free(m->mapped);
  memset(m, 0, sizeof *m);
  m->fd = -1;
}

static void drop_all(void) {
  for (int i = 0; i < MAPS_MAX; i++) drop(&maps[i]);
}

/* A read-only shared mapping of `len` bytes of `fd` at a 64 KiB aligned address (so that the kernel's fault-around
 * windows are this module's windows); NULL when it cannot be made. */
static uint8_t *map_aligned(int fd, size_t len) {
  size_t span = len + WIN_BYTES;
  uint8_t *area = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (area == MAP_FAILED) return NULL;
  uintptr_t at = ((uintptr_t)area + WIN_BYTES - 1) & ~(uintptr_t)(WIN_BYTES - 1);
  uint8_t *base = mmap((void *)at, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  if (base == MAP_FAILED) {
    munmap(area, span);
    return NULL;
  }
  if ((uint8_t *)at > area) munmap(area, (uint8_t *)at - area);
  uint8_t *end = base + ((len + 4095) & ~(size_t)4095);
  if (end < area + span) munmap(end, area + span - end);
  return base;
}

/* The mapping entry of `fd` for this job (checked once a job), or NULL when the descriptor cannot be looked at. */
static map_t *map_of(int fd) {
  map_t *m = NULL, *free_slot = NULL;
  for (int i = 0; i < MAPS_MAX; i++) {
    if (maps[i].fd == fd) {
      m = &maps[i];
      break;
    }
    if (maps[i].fd < 0 && free_slot == NULL) free_slot = &maps[i];
  }
  if (m != NULL && (m->used_job == job_count || !check_each_job)) {
    m->used_job = job_count;
    return m;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    if (m != NULL) drop(m);
    return NULL;
  }
  if (m != NULL) {
    if (m->dev == st.st_dev && m->ino == st.st_ino && m->size == st.st_size) {
      m->used_job = job_count;
      return m;
    }
    drop(m);
    free_slot = m;
  }
  if (free_slot == NULL) {
    /* All taken: the least recently used one goes. */
    free_slot = &maps[0];
    for (int i = 1; i < MAPS_MAX; i++)
      if (maps[i].used_job < free_slot->used_job) free_slot = &maps[i];
    drop(free_slot);
  }
  m = free_slot;
  m->fd = fd;
  m->dev = st.st_dev;
  m->ino = st.st_ino;
  m->size = st.st_size;
  m->used_job = job_count;
  if (map_on && S_ISREG(st.st_mode) && st.st_size > 0) {
    size_t wins = ((size_t)st.st_size + WIN_BYTES - 1) >> WIN_SHIFT;
    m->reads = calloc(wins, 1);
    m->mapped = calloc((wins + 7) / 8, 1);
    if (m->reads != NULL && m->mapped != NULL) {
      m->base = map_aligned(fd, (size_t)st.st_size);
      if (m->base != NULL) m->len = (size_t)st.st_size;
    }
    if (m->base == NULL) {
      free(m->reads);
      free(m->mapped);
      m->reads = NULL;
      m->mapped = NULL;
    }
  }
  return m;
}

static int64_t pread_fully(int fd, uint8_t *dst, size_t len, off_t pos) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, dst + done, len - done, pos + (off_t)done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += (size_t)n;
  }
  return (int64_t)done;
}

static int bit(const uint8_t *bits, size_t w) { return (bits[w >> 3] >> (w & 7)) & 1; }
static void set_bit(uint8_t *bits, size_t w) { bits[w >> 3] |= (uint8_t)(1u << (w & 7)); }

enum { K_PREAD = 0, K_WARM = 1, K_FAULT = 2, K_NONE = 3, K_REDO = 4 };

typedef struct {
  int fd;
  off_t pos;
  size_t len;
  uint8_t *dst;
  map_t *m;
  int kind;
} span_t;

static void read_spans(span_t *sp, int spans, int32_t *results) {
  job_count++;
  for (int s = 0; s < spans; s++) {
    span_t *x = &sp[s];
    x->kind = K_PREAD;
    x->m = NULL;
    if (x->fd < 0) {
      x->kind = K_NONE;
      continue;
    }
    if (!map_on || !bus_installed) continue;
    map_t *m = map_of(x->fd);
    if (m == NULL || m->base == NULL || x->len == 0 || (size_t)x->pos + x->len > m->len) continue;
    x->m = m;
    size_t w0 = (size_t)x->pos >> WIN_SHIFT, w1 = ((size_t)x->pos + x->len - 1) >> WIN_SHIFT;
    int all_mapped = 1, all_read = 1;
    for (size_t w = w0; w <= w1; w++) {
      if (!bit(m->mapped, w)) all_mapped = 0;
      if (m->reads[w] < PREADS_BEFORE_FAULT && !bit(m->mapped, w)) all_read = 0;
    }
    if (all_mapped) {
      x->kind = K_WARM;
      const uint8_t *src = m->base + x->pos;
      size_t n = x->len < PREFETCH_BYTES ? x->len : PREFETCH_BYTES;
      for (size_t k = 0; k < n; k += 64) __builtin_prefetch(src + k);
      __builtin_prefetch(src + n - 1);
    } else if (all_read) {
      if (mapped_total + (w1 - w0 + 1) * WIN_BYTES <= map_bytes_max) {
        x->kind = K_FAULT;
        mapped_total += (w1 - w0 + 1) * WIN_BYTES; /* an upper bound, settled after the copy */
        m->mapped_bytes += (w1 - w0 + 1) * WIN_BYTES;
      } else {
        n_refused++;
        epoch_refused++;
      }
    } else {
      for (size_t w = w0; w <= w1; w++)
        if (m->reads[w] < 255) m->reads[w]++;
    }
  }
  /* Preads first: the prefetches of the mapped reads meanwhile arrive. */
  for (int s = 0; s < spans; s++) {
    span_t *x = &sp[s];
    if (x->kind == K_NONE) results[s] = -1;
    else if (x->kind == K_PREAD) {
      results[s] = (int32_t)pread_fully(x->fd, x->dst, x->len, x->pos);
      n_preads++;
    }
  }
  volatile int from = 0;
  volatile int at = -1;
  if (sigsetjmp(guard_jb, 0) != 0) {
    /* SIGBUS in read `at`: its mapping goes, and every read of it left is read with pread. */
    int s = at;
    n_guarded++;
    map_t *m = sp[s].m;
    for (int t = s; t < spans; t++)
      if (sp[t].m == m && (sp[t].kind == K_WARM || sp[t].kind == K_FAULT)) sp[t].kind = K_REDO;
    drop(m);
    results[s] = (int32_t)pread_fully(sp[s].fd, sp[s].dst, sp[s].len, sp[s].pos);
    n_preads++;
    for (int t = s + 1; t < spans; t++)
      if (sp[t].kind == K_REDO) {
        results[t] = (int32_t)pread_fully(sp[t].fd, sp[t].dst, sp[t].len, sp[t].pos);
        n_preads++;
        sp[t].m = NULL;
      }
    from = s + 1;
  }
  guard_armed = 1;
  for (int s = from; s < spans; s++) {
    span_t *x = &sp[s];
    if (x->kind != K_WARM && x->kind != K_FAULT) continue;
    at = s;
    memcpy(x->dst, x->m->base + x->pos, x->len);
    results[s] = (int32_t)x->len;
    if (x->kind == K_WARM) {
      n_warm++;
      epoch_warm++;
      continue;
    }
    n_fault_ins++;
    map_t *m = x->m;
    size_t w0 = (size_t)x->pos >> WIN_SHIFT, w1 = ((size_t)x->pos + x->len - 1) >> WIN_SHIFT;
    for (size_t w = w0; w <= w1; w++) {
      if (!bit(m->mapped, w)) {
        set_bit(m->mapped, w);
        continue;
      }
      /* Counted when classified, but in already (before, or by another read of this job). */
      m->mapped_bytes -= WIN_BYTES;
      mapped_total -= WIN_BYTES;
    }
  }
  guard_armed = 0;
  /* At the bound, windows read again are read with pread (`refused`). When those outnumber the reads served warm
   * `REFUSED_PER_WARM` times (both halved now and then: recent ones weigh most), what is mapped is no longer what is
   * read: the least recently used mapping goes, and the windows read now can be faulted in. A working set larger
   * than the bound keeps the part it has mapped (dropping it would fault it in again and again, each fault dearer
   * than the pread it replaces). */
  if (epoch_refused > 1024 && epoch_refused > REFUSED_PER_WARM * epoch_warm) {
    map_t *oldest = NULL;
    for (int i = 0; i < MAPS_MAX; i++)
      if (maps[i].fd >= 0 && maps[i].mapped_bytes > 0 && (oldest == NULL || maps[i].used_job < oldest->used_job))
        oldest = &maps[i];
    if (oldest != NULL) drop(oldest);
    epoch_refused = epoch_warm = 0;
  }
  if (epoch_warm + epoch_refused > 65536) {
    epoch_warm /= 2;
    epoch_refused /= 2;
  }
}

/* The memory and element count of a typed array argument of type `want`; 0 with a TypeError thrown otherwise. */
static int array_of(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  bool is;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL) != napi_ok || type != want) {
    napi_throw_type_error(env, NULL, "readSpans: an argument is not the typed array expected");
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

static napi_value js_read_spans(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 8) {
    napi_throw_type_error(env, NULL, "readSpans(arena, jobs, jobFirst, spans, fields, arenaAt, results, resultFirst)");
    return NULL;
  }
  void *arena_mem, *jobs_mem, *res_mem;
  size_t arena_n, jobs_n, res_n;
  int64_t job_first, spans, fields, arena_at, res_first;
  if (!array_of(env, argv[0], napi_uint8_array, &arena_mem, &arena_n) ||
      !array_of(env, argv[1], napi_float64_array, &jobs_mem, &jobs_n) || !int_of(env, argv[2], &job_first) ||
      !int_of(env, argv[3], &spans) || !int_of(env, argv[4], &fields) || !int_of(env, argv[5], &arena_at) ||
      !array_of(env, argv[6], napi_int32_array, &res_mem, &res_n) || !int_of(env, argv[7], &res_first))
    return NULL;
  if (spans < 0 || spans > SPANS_MAX || fields < 4 || job_first < 0 || res_first < 0 || arena_at < 0 ||
      (uint64_t)(job_first + spans) * (uint64_t)fields > jobs_n || (uint64_t)(res_first + spans) > res_n) {
    napi_throw_range_error(env, NULL, "readSpans: the job does not fit its arrays");
    return NULL;
  }
  const double *jobs = jobs_mem;
  span_t sp[SPANS_MAX];
  for (int64_t s = 0; s < spans; s++) {
    const double *j = jobs + (job_first + s) * fields;
    double fd = j[0], pos = j[1], len = j[2], at = j[3];
    if (!(pos >= 0 && len >= 0 && at >= 0) || (uint64_t)arena_at + (uint64_t)at + (uint64_t)len > arena_n) {
      napi_throw_range_error(env, NULL, "readSpans: a read is outside the arena");
      return NULL;
    }
    sp[s].fd = fd >= 0 && fd <= INT32_MAX ? (int)fd : -1;
    sp[s].pos = (off_t)pos;
    sp[s].len = (size_t)len;
    sp[s].dst = (uint8_t *)arena_mem + arena_at + (int64_t)at;
  }
  pthread_mutex_lock(&lock);
  read_spans(sp, (int)spans, (int32_t *)res_mem + res_first);
  pthread_mutex_unlock(&lock);
  return NULL;
}

static napi_value js_configure(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int64_t max;
  bool on = true, check = true;
  if (argc < 1 || !int_of(env, argv[0], &max)) return NULL;
  if (argc > 1) napi_get_value_bool(env, argv[1], &on);
  if (argc > 2) napi_get_value_bool(env, argv[2], &check);
  pthread_mutex_lock(&lock);
  map_bytes_max = max < 0 ? 0 : (size_t)max;
  map_on = on;
  check_each_job = check;
  drop_all();
  epoch_warm = epoch_refused = 0;
  pthread_mutex_unlock(&lock);
  return NULL;
}

static napi_value js_drop_mappings(napi_env env, napi_callback_info info) {
  (void)info;
  pthread_mutex_lock(&lock);
  int n = 0;
  for (int i = 0; i < MAPS_MAX; i++)
    if (maps[i].fd >= 0) {
      n += maps[i].base != NULL;
      drop(&maps[i]);
    }
  pthread_mutex_unlock(&lock);
  napi_value r;
  napi_create_int32(env, n, &r);
  return r;
}

static void set_num(napi_env env, napi_value o, const char *name, double v) {
  napi_value x;
  napi_create_double(env, v, &x);
  napi_set_named_property(env, o, name, x);
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value o;
  napi_create_object(env, &o);
  pthread_mutex_lock(&lock);
  int mappings = 0;
  for (int i = 0; i < MAPS_MAX; i++) mappings += maps[i].fd >= 0 && maps[i].base != NULL;
  set_num(env, o, "mappings", mappings);
  set_num(env, o, "mappedBytes", (double)mapped_total);
  set_num(env, o, "preads", (double)n_preads);
  set_num(env, o, "faultIns", (double)n_fault_ins);
  set_num(env, o, "warm", (double)n_warm);
  set_num(env, o, "guarded", (double)n_guarded);
  set_num(env, o, "dropped", (double)n_dropped);
  set_num(env, o, "refused", (double)n_refused);
  pthread_mutex_unlock(&lock);
  return o;
}

static void init_once(void) {
  for (int i = 0; i < MAPS_MAX; i++) maps[i].fd = -1;
  install_bus();
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, init_once);
  napi_value f, b;
  napi_create_function(env, "readSpans", NAPI_AUTO_LENGTH, js_read_spans, NULL, &f);
  napi_set_named_property(env, exports, "readSpans", f);
  napi_create_function(env, "configure", NAPI_AUTO_LENGTH, js_configure, NULL, &f);
  napi_set_named_property(env, exports, "configure", f);
  napi_create_function(env, "dropMappings", NAPI_AUTO_LENGTH, js_drop_mappings, NULL, &f);
  napi_set_named_property(env, exports, "dropMappings", f);
  napi_create_function(env, "stats", NAPI_AUTO_LENGTH, js_stats, NULL, &f);
  napi_set_named_property(env, exports, "stats", f);
  napi_get_boolean(env, bus_installed != 0, &b);
  napi_set_named_property(env, exports, "mapping", b);
  return exports;
}
