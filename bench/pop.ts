/**
 * POP vs pull (`npm run bench:pop`, not in CI): issue 15's target "POP receive+ack ≥ 50 % of pull". Runs the
 * default suite's two cases back to back, `--pairs` times, alternating which goes first: `consume-128` (fill a
 * backlog for 8 s, drain it with one PushConsumer over 8 queues) and `pop-128` (fill a one-queue topic with 50,000
 * messages, 4 SimpleConsumers of one group drain it: receive 32, ack every message). Each case has its own embedded
 * NameServer + Broker in this process, so its CPU per message is the client's and the broker's together.
 * Verdict on the median of the pairs' TPS ratios; the load average is written next to the figures.
 * First `--warmup` unmeasured rounds (default 3) of both cases, pull then POP: a process's first runs pay the JIT's
 * warm-up, and POP's per-request code (about 1,600 pops and batch acks per 50,000 messages) reaches its steady CPU
 * per message only in the third run (pull's per-message code in its first). Each case still has a fresh broker, so
 * product-side first work (new files, the revive topic's first check points) is paid in every measured case too;
 * without it the first pair was always the lowest.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type BenchOptions, benchDefaults } from '../src/bench/options.js';
import { runPop } from '../src/bench/pop.js';
import { type BenchSummary, progressSink } from '../src/bench/report.js';
import { runConsume } from '../src/bench/runs.js';
import { setLogLevel } from '../src/common/log.js';
import { check, writeResults } from './support/report.js';

setLogLevel('warn');
const { values: a } = parseArgs({
  options: { pairs: { type: 'string', default: '3' }, warmup: { type: 'string', default: '3' } },
});
const pairs = Number(a.pairs);
const warmups = Number(a.warmup);
/** Issue 15: POP receive+ack at least half the pull consumer's rate. */
const ratioMin = 0.5;

const base: BenchOptions = { ...benchDefaults, bodyBytes: 128 };
const quiet = progressSink(null);

function pull(): Promise<BenchSummary> {
  return runConsume({ ...base, name: 'consume-128', durationMs: 8000 }, { progress: quiet });
}

function pop(): Promise<BenchSummary> {
  return runPop({ ...base, name: 'pop-128', durationMs: 8000 }, { progress: quiet });
}

interface Pair {
  load1: number;
  pullTps: number;
  popTps: number;
  pullCpuUsPerMsg: number | null;
  popCpuUsPerMsg: number | null;
  ratio: number;
}

for (let i = 0; i < warmups; i++) {
  const p = await pull();
  const q = await pop();
  console.log(`warm-up ${i + 1}/${warmups} (not measured): pull ${p.tps} msg/s, POP ${q.tps} msg/s`);
}

const rows: Pair[] = [];
for (let i = 0; i < pairs; i++) {
  const load1 = os.loadavg()[0] as number;
  let p: BenchSummary;
  let q: BenchSummary;
  if (i % 2 === 0) {
    p = await pull();
    q = await pop();
  } else {
    q = await pop();
    p = await pull();
  }
  const row: Pair = {
    load1: Math.round(load1 * 10) / 10,
    pullTps: p.tps,
    popTps: q.tps,
    pullCpuUsPerMsg: p.cpuUsPerMsg,
    popCpuUsPerMsg: q.cpuUsPerMsg,
    ratio: p.tps > 0 ? Math.round((q.tps / p.tps) * 1000) / 1000 : 0,
  };
  rows.push(row);
  console.log(
    `pair ${i + 1}/${pairs} (load ${row.load1}): pull ${row.pullTps} msg/s (${row.pullCpuUsPerMsg} CPU-µs/msg), ` +
      `POP ${row.popTps} msg/s (${row.popCpuUsPerMsg} CPU-µs/msg) → ${row.ratio.toFixed(2)} ×`,
  );
}
const ratios = rows.map((r) => r.ratio).sort((x, y) => x - y);
const median = ratios[Math.floor(ratios.length / 2)] ?? 0;
const file = await writeResults(
  'pop',
  [
    check(
      'POP receive+ack ≥ 50 % of pull (median of pairs)',
      `${median.toFixed(2)} × (pairs ${rows.map((r) => r.ratio.toFixed(2)).join(', ')})`,
      `≥ ${ratioMin} ×`,
      median >= ratioMin,
    ),
  ],
  { pairs: rows, warmups },
);
console.log(`results written to ${file}`);
