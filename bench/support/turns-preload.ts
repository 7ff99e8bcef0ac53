/**
 * Loaded into the broker by bench:fairness (`node --import <this file>?out=<file>&probeMs=<n>`): finds the event
 * loop's long turns with a timer probe (a timer due every `probeMs` that fires late by L ms waited behind a turn of
 * about L ms) and names what was going on: the store's periodic flushes that were running during the turn, and the
 * GC pauses inside it. Written to `out` as a TurnsFile when the process exits; the bench splits it by phase.
 */
import { openSync, readSync, writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { CommitLog } from '../../src/store/commit-log.js';
import { ConsumeQueue } from '../../src/store/consume-queue.js';
import { FileMessageStore } from '../../src/store/file-store.js';
import { IndexFile } from '../../src/store/index-file.js';
import { QueueTable } from '../../src/store/queue-table.js';
import { type LongTurn, type TurnsFile, turnLateMsMin } from './turns.js';
import { waitSamplerSource, waitSamplesMax } from './turns-waits.js';

const params = new URL(import.meta.url).searchParams;
const out = params.get('out');
const probeMs = Number(params.get('probeMs') ?? '2');
const waitMs = Number(params.get('waitMs') ?? '0');

/** The kernel-wait sampler (turns-waits.ts): shared sample arrays, filled by its thread. */
const waitShared =
  waitMs > 0
    ? {
        times: new SharedArrayBuffer(waitSamplesMax * 8),
        codes: new SharedArrayBuffer(waitSamplesMax),
        count: new SharedArrayBuffer(4),
      }
    : undefined;
if (waitShared !== undefined) {
  new Worker(waitSamplerSource, {
    eval: true,
    workerData: { tid: process.pid, periodMs: waitMs, ...waitShared },
  }).unref();
}

/** What runs in the background, by label: running now (count), and when it last ended (epoch ms). */
const activity = new Map<string, { running: number; endedAtMs: number }>();

/** Wraps an async method so that its runs are known by `label`. */
function watch(proto: object, method: string, label: string): void {
  const p = proto as Record<string, (...args: unknown[]) => unknown>;
  const orig = p[method];
  if (typeof orig !== 'function') return;
  const a = { running: 0, endedAtMs: 0 };
  activity.set(label, a);
  p[method] = function (this: unknown, ...args: unknown[]) {
    a.running++;
    const done = () => {
      a.running--;
      a.endedAtMs = Date.now();
    };
    try {
      const r = orig.apply(this, args);
      if (r instanceof Promise) r.then(done, done);
      else done();
      return r;
    } catch (err) {
      done();
      throw err;
    }
  };
}

watch(CommitLog.prototype, 'flush', 'commitlog-flush');
watch(FileMessageStore.prototype, 'checkpoint', 'checkpoint');
watch(QueueTable.prototype, 'flushDirty', 'cq-flush');
watch(ConsumeQueue.prototype, 'flush', 'cq-file-flush');
watch(IndexFile.prototype, 'flush', 'index-flush');

const gc: [number, number, number][] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as { detail?: { kind?: number } }).detail?.kind ?? 0;
    gc.push([performance.timeOrigin + e.startTime, e.duration, kind]);
  }
}).observe({ entryTypes: ['gc'] });

/**
 * The event loop thread's CPU and run-queue wait so far, ns (/proc/thread-self/schedstat, one pread): a late probe
 * on a busy machine may have waited for a core rather than behind a turn.
 */
const schedFd = (() => {
  try {
    return openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return undefined;
  }
})();
const schedBuf = Buffer.alloc(128);
function sched(): [number, number] {
  if (schedFd === undefined) return [0, 0];
  const n = readSync(schedFd, schedBuf, 0, schedBuf.length, 0);
  const [run, wait] = schedBuf.toString('latin1', 0, n).split(' ');
  return [Number(run), Number(wait)];
}

const turns: LongTurn[] = [];
let probes = 0;
let dueMs = performance.now() + probeMs;
let last = sched();
const probe = setInterval(() => {
  probes++;
  const now = performance.now();
  const lateMs = now - dueMs;
  dueMs = now + probeMs;
  const prev = last;
  last = sched();
  if (lateMs < turnLateMsMin) return;
  const endMs = performance.timeOrigin + now;
  const startMs = endMs - lateMs;
  const during: string[] = [];
  for (const [label, a] of activity) if (a.running > 0 || a.endedAtMs >= startMs) during.push(label);
  turns.push({
    atMs: startMs,
    lateMs,
    cpuMs: (last[0] - prev[0]) / 1e6,
    waitMs: (last[1] - prev[1]) / 1e6,
    during,
    gcMs: 0,
  });
}, probeMs);
probe.unref();

if (out !== null) {
  process.on('exit', () => {
    // GC pauses inside each long turn, matched once at the end (the observer reports them asynchronously).
    for (const t of turns) {
      for (const [at, d] of gc) if (at >= t.atMs && at < t.atMs + t.lateMs) t.gcMs += d;
    }
    const file: TurnsFile = { probeMs, probes, turns, gc };
    if (waitShared !== undefined) {
      const t = new Float64Array(waitShared.times);
      const c = new Uint8Array(waitShared.codes);
      const n = Atomics.load(new Int32Array(waitShared.count), 0);
      const samples: [number, number][] = [];
      for (let i = 0; i < n; i++) samples.push([t[i] as number, c[i] as number]);
      file.waits = { periodMs: waitMs, samples };
    }
    writeFileSync(out, JSON.stringify(file));
  });
}
