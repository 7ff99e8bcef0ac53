/**
 * The CommitLog's page-cache writes against its flush, sparse segment vs blocks allocated ahead (allocate.ts):
 * `node dist/bench/alloc-writes.js [--rounds 3] [--seconds 8] [--mib-per-s 90] [--modes sparse,allocated]`. The main thread appends 64 KiB
 * blocking writes to a 1 GiB segment at a fixed rate while an fdatasync runs every 500 ms on the thread pool (the
 * ASYNC_FLUSH flush), as the broker does under a send flood. Rounds alternate the two files. Per round: the time
 * the event-loop thread spent inside the writes, split by its schedstat into CPU, waiting for a core, and blocked
 * (neither: a lock or I/O in the kernel — what the allocation removes), the longest write, and writes ≥ 5 ms.
 */
import { openSync, readSync, writeSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { allocate } from '../src/store/allocate.js';
import { NodeStorageIO } from '../src/store/io.js';

const { values: a } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    'mib-per-s': { type: 'string', default: '90' },
    /** Which files, comma-separated, in this order each round. */
    modes: { type: 'string', default: 'sparse,allocated' },
    dir: { type: 'string' },
  },
});
const segBytes = 1024 * 1024 * 1024;
const chunk = Buffer.alloc(64 * 1024, 0x61);
const schedFd = openSync('/proc/thread-self/schedstat', 'r');
const schedBuf = Buffer.alloc(128);
function sched(): [number, number] {
  const n = readSync(schedFd, schedBuf, 0, schedBuf.length, 0);
  const [run, wait] = schedBuf.toString('latin1', 0, n).split(' ');
  return [Number(run) / 1e6, Number(wait) / 1e6];
}

interface Round {
  mode: string;
  writes: number;
  inWritesMs: number;
  cpuMs: number;
  waitMs: number;
  blockedMs: number;
  maxMs: number;
  over5: number;
  datasyncs: number;
}

async function round(dir: string, mode: 'sparse' | 'allocated'): Promise<Round> {
  const io = new NodeStorageIO();
  const file = await io.open(path.join(dir, `seg-${mode}`));
  await file.truncate(segBytes);
  if (mode === 'allocated') await allocate(file, 0, segBytes);
  const fd = file.leaseFd?.() as number;
  const r: Round = {
    mode,
    writes: 0,
    inWritesMs: 0,
    cpuMs: 0,
    waitMs: 0,
    blockedMs: 0,
    maxMs: 0,
    over5: 0,
    datasyncs: 0,
  };
  const bytesPerMs = (Number(a['mib-per-s']) * 1024 * 1024) / 1000;
  const start = performance.now();
  const until = start + Number(a.seconds) * 1000;
  let pos = 0;
  let flushing = false;
  const flusher = setInterval(() => {
    if (flushing) return;
    flushing = true;
    r.datasyncs++;
    void file.datasync().finally(() => (flushing = false));
  }, 500);
  while (performance.now() < until && pos + chunk.length <= segBytes) {
    // Keep to the rate: write what the clock allows, then let the loop turn.
    while (pos < (performance.now() - start) * bytesPerMs && pos + chunk.length <= segBytes) {
      const [c0, w0] = sched();
      const t0 = performance.now();
      writeSync(fd, chunk, 0, chunk.length, pos);
      const ms = performance.now() - t0;
      const [c1, w1] = sched();
      pos += chunk.length;
      r.writes++;
      r.inWritesMs += ms;
      r.cpuMs += c1 - c0;
      r.waitMs += w1 - w0;
      r.blockedMs += Math.max(0, ms - (c1 - c0) - (w1 - w0));
      r.maxMs = Math.max(r.maxMs, ms);
      if (ms >= 5) r.over5++;
    }
    await turn();
  }
  clearInterval(flusher);
  while (flushing) await turn();
  file.endLease?.();
  await file.close();
  await fs.rm(path.join(dir, `seg-${mode}`));
  return r;
}

const dir = await fs.mkdtemp(path.join(path.resolve(a.dir ?? os.tmpdir()), 'tsrocket-alloc-writes-'));
try {
  for (let i = 0; i < Number(a.rounds); i++) {
    for (const mode of (a.modes ?? '').split(',') as ('sparse' | 'allocated')[]) {
      const load = os.loadavg()[0] as number;
      const from = Date.now();
      const r = await round(dir, mode);
      console.log(
        `${mode.padEnd(9)} round ${i + 1} (load ${load.toFixed(1)}): ${r.writes} writes of 64 KiB, ${r.inWritesMs.toFixed(0)} ms in them ` +
          `(CPU ${r.cpuMs.toFixed(0)}, waiting for a core ${r.waitMs.toFixed(0)}, blocked ${r.blockedMs.toFixed(0)}), ` +
          `longest ${r.maxMs.toFixed(1)} ms, ${r.over5} ≥ 5 ms; ${r.datasyncs} fdatasyncs; epoch ms ${from}–${Date.now()}`,
      );
    }
  }
} finally {
  await fs.rm(dir, { recursive: true, force: true });
}
