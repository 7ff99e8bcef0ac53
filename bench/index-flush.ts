/**
 * IndexFile flush cost on the event loop (`npm run bench:index-flush`, or `node dist/bench/index-flush.js [<distA>
 * <distB>]` to compare two builds, rounds alternated in one process): a 5M-slot file (RocketMQ's default, a 20 MB
 * slot table) takes `--keys` random keys (a second of a flood) before each flush; reported per flush: the event-loop
 * thread's CPU (/proc/thread-self/schedstat, so the machine's load does not count) and the most CPU it spent
 * between two 1 ms probe timers (about the longest turn). Writes bench/results/index-flush.json.
 */

import { openSync, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { IndexFile } from '../src/store/index-file.js';
import { check, writeResults } from './support/report.js';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    keys: { type: 'string', default: '25000' },
    rounds: { type: 'string', default: '8' },
    slots: { type: 'string', default: '5000000' },
  },
});
const keysPerFlush = Number(a.keys);
const rounds = Number(a.rounds);
const slotNum = Number(a.slots);
/** A flush should leave the event loop turning: no stretch of its work longer than this. */
const turnCpuMsTarget = 5;

const fd = openSync('/proc/thread-self/schedstat', 'r');
const buf = Buffer.alloc(128);
const cpuNs = () => Number(buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0)).split(' ')[0]);

interface Flavour {
  name: string;
  IndexFile: typeof import('../src/store/index-file.js').IndexFile;
  NodeStorageIO: typeof import('../src/store/io.js').NodeStorageIO;
}

async function load(name: string, dist: string): Promise<Flavour> {
  const idx = (await import(path.join(dist, 'src/store/index-file.js'))) as typeof import('../src/store/index-file.js');
  const io = (await import(path.join(dist, 'src/store/io.js'))) as typeof import('../src/store/io.js');
  return { name, IndexFile: idx.IndexFile, NodeStorageIO: io.NodeStorageIO };
}

const here = path.resolve(new URL('..', import.meta.url).pathname);
const flavours =
  positionals.length >= 2
    ? [await load('A', path.resolve(positionals[0] as string)), await load('B', path.resolve(positionals[1] as string))]
    : [await load('this build', here)];

interface Round {
  cpuMs: number;
  turnCpuMsMax: number;
  wallMs: number;
}
const root = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-index-flush-'));
const results = new Map<string, Round[]>();
try {
  const files: IndexFile[] = [];
  for (const f of flavours) {
    const file = await f.IndexFile.create(
      new f.NodeStorageIO(),
      path.join(root, f.name),
      'x',
      slotNum,
      20_000_000,
      0,
      0,
    );
    await file.openForWrite();
    files.push(file);
    results.set(f.name, []);
  }
  let k = 1;
  for (let r = 0; r < rounds; r++) {
    for (const [i, f] of flavours.entries()) {
      const file = files[i] as IndexFile;
      const now = Date.now();
      // Spread over the table like real key hashes (Knuth's multiplicative hash of a counter).
      for (let n = 0; n < keysPerFlush; n++) file.putHash(Math.imul(k++, 2654435761) >>> 1, k * 100, now);
      let turnCpuMsMax = 0;
      let last = cpuNs();
      const probe = setInterval(() => {
        const t = cpuNs();
        turnCpuMsMax = Math.max(turnCpuMsMax, (t - last) / 1e6);
        last = t;
      }, 1);
      const c0 = cpuNs();
      const t0 = performance.now();
      await file.flush();
      const c1 = cpuNs();
      clearInterval(probe);
      turnCpuMsMax = Math.max(turnCpuMsMax, (c1 - last) / 1e6);
      results.get(f.name)?.push({ cpuMs: (c1 - c0) / 1e6, turnCpuMsMax, wallMs: performance.now() - t0 });
    }
  }
  for (const f of files) await f.close();
} finally {
  await rm(root, { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
const summary = Object.fromEntries(
  [...results].map(([name, rs]) => [
    name,
    {
      cpuMsMedian: median(rs.map((r) => r.cpuMs)),
      turnCpuMsMedian: median(rs.map((r) => r.turnCpuMsMax)),
      turnCpuMsMax: Math.max(...rs.map((r) => r.turnCpuMsMax)),
      wallMsMedian: median(rs.map((r) => r.wallMs)),
    },
  ]),
);
for (const [name, s] of Object.entries(summary))
  console.log(
    `${name}: per flush of ${keysPerFlush} keys: event-loop CPU median ${s.cpuMsMedian.toFixed(1)} ms, ` +
      `longest stretch median ${s.turnCpuMsMedian.toFixed(1)} ms (max ${s.turnCpuMsMax.toFixed(1)}), wall ${s.wallMsMedian.toFixed(0)} ms`,
  );
console.log(`load average (1 min) ${(os.loadavg()[0] as number).toFixed(2)}`);
const last = Object.values(summary).at(-1) as (typeof summary)[string];
const file = await writeResults(
  'index-flush',
  [
    check(
      'longest event-loop stretch of an index flush (median)',
      `${last.turnCpuMsMedian.toFixed(1)} ms`,
      `<= ${turnCpuMsTarget} ms`,
      last.turnCpuMsMedian <= turnCpuMsTarget,
    ),
  ],
  { params: { keysPerFlush, rounds, slotNum, builds: positionals }, summary },
);
console.log(`wrote ${file}`);
