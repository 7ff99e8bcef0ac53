/**
 * Where the broker's event-loop thread waits in the kernel: a thread started by turns-preload.ts samples the main
 * thread's state every `periodMs` (/proc/self/task/<pid>/stat) and, when it sleeps outside epoll, names the wait from
 * its kernel stack (uninterruptible: ext4 block allocation, a page lock or writeback, the inode lock, the journal) or
 * its syscall (a futex: libuv's thread-pool queue lock, or another lock), with the file the syscall works on.
 * Samples go to shared memory; the preload adds them to the TurnsFile when the process exits.
 */

/** Wait labels, by code (a sample's code is the label's index). */
export const waitLabels = [
  'ext4 block allocation',
  'page lock or writeback',
  'inode lock',
  'journal',
  'other uninterruptible',
  'futex',
  'other syscall',
] as const;

export const waitFiles = ['commitlog', 'consumequeue', 'index', 'checkpoint', 'other'] as const;

/** Samples kept at most (at 2 ms, 20 minutes). */
export const waitSamplesMax = 600_000;

/** The sampler thread's source (run with `new Worker(src, { eval: true, workerData })`). */
export const waitSamplerSource = `
const { readFileSync, readlinkSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const { tid, periodMs, times, codes, count } = workerData;
const t = new Float64Array(times), c = new Uint8Array(codes), n = new Int32Array(count);
const base = '/proc/self/task/' + tid;
const pause = new Int32Array(new SharedArrayBuffer(4));
function fileOf(fd) {
  try {
    const p = readlinkSync('/proc/self/fd/' + fd);
    if (p.includes('/commitlog/')) return 0;
    if (p.includes('/consumequeue/')) return 1;
    if (p.includes('/index/')) return 2;
    if (p.includes('checkpoint') || p.includes('/config/')) return 3;
  } catch {}
  return 4;
}
function syscall() {
  try {
    const f = readFileSync(base + '/syscall', 'latin1').split(' ');
    return [Number(f[0]), parseInt(f[1], 16)];
  } catch { return [-1, -1]; }
}
for (;;) {
  Atomics.wait(pause, 0, 0, periodMs);
  let st;
  try { st = readFileSync(base + '/stat', 'latin1'); } catch { break; }
  const state = st[st.lastIndexOf(')') + 2];
  let label = -1, file = 4;
  if (state === 'D') {
    let stack = '';
    try { stack = readFileSync(base + '/stack', 'latin1'); } catch {}
    if (/ext4_da_get_block_prep|ext4_da_map_blocks|ext4_map_blocks/.test(stack)) label = 0;
    else if (/__filemap_get_folio|folio_wait|wait_on_page|__lock_page/.test(stack)) label = 1;
    // The inode lock's wait shows as the write itself on top (down_write is inlined).
    else if (/rwsem_down_write|down_write/.test(stack) || /^[^\\n]*(ext4_buffered_write_iter|ext4_file_write_iter)/.test(stack)) label = 2;
    else if (/jbd2|start_this_handle/.test(stack)) label = 3;
    else label = 4;
    const [, fd] = syscall();
    if (fd >= 0) file = fileOf(fd);
  } else if (state === 'S') {
    const [nr, fd] = syscall();
    if (nr === 202) label = 5;
    else if (nr !== 232 && nr !== 281 && nr !== 7 && nr >= 0) { label = 6; file = fileOf(fd); }
  }
  if (label < 0) continue;
  const i = n[0];
  if (i >= t.length) break;
  t[i] = Date.now();
  c[i] = label * 8 + file;
  n[0] = i + 1;
}
`;

export interface WaitSamples {
  periodMs: number;
  /** [epoch ms, code] per sample of a kernel wait. */
  samples: [number, number][];
}

/** Sampled waits within [fromMs, toMs), as estimated ms per label (and file where one was named), largest first. */
export function summarizeWaits(w: WaitSamples, fromMs: number, toMs: number): [string, number][] {
  const by = new Map<string, number>();
  for (const [at, code] of w.samples) {
    if (at < fromMs || at >= toMs) continue;
    const label = waitLabels[Math.floor(code / 8)] ?? '?';
    const file = waitFiles[code % 8] ?? 'other';
    const key = file === 'other' ? label : `${label} (${file})`;
    by.set(key, (by.get(key) ?? 0) + w.periodMs);
  }
  return [...by].sort((a, b) => b[1] - a[1]);
}

export function fmtWaits(ws: [string, number][]): string {
  return ws.length === 0 ? 'none sampled' : ws.map(([k, ms]) => `${k} ${ms.toFixed(0)}`).join(', ');
}
