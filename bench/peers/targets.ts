/**
 * Issue 15's targets as ratios from one run (tsrocket's best client mode against each peer's best), their
 * median over runs, and the tsrocket/peer and tsrocket/hardware ratios.
 */
import {
  bestOf,
  type HardwareLimits,
  lowerIsBetter,
  type Measurement,
  ModeKind,
  measured,
  ownSystem,
} from './results.js';

export type Verdict = 'PASS' | 'MISS' | 'N/A';

export interface TargetResult {
  id: string;
  description: string;
  /** Better-is-higher ratio (tsrocket / reference, or reference / tsrocket for latency and CPU). */
  ratio: number | undefined;
  goal: number;
  verdict: Verdict;
  reference: string;
}

/** A target over several runs: the median ratio must reach `goal`, and every run `everyRunGoal`. */
export interface TargetSummary extends TargetResult {
  runs: (number | undefined)[];
  min: number | undefined;
  everyRunGoal: number;
}

export interface Ratio {
  workload: string;
  against: string;
  /** Which modes were set side by side: each side's best, each side's idiomatic, or the peer's own load tool. */
  basis: 'best' | 'idiomatic' | 'ceiling';
  /** tsrocket / other; for latencies other / tsrocket, so > 1 always means tsrocket is better. */
  ratio: number;
}

interface TargetSpec {
  id: string;
  description: string;
  goal: number;
  /** Floor for each single run (the goal itself when not set). */
  everyRunGoal?: number;
  evaluate(
    ms: readonly Measurement[],
    hw: HardwareLimits | undefined,
  ): { ratio: number | undefined; reference: string };
}

function verdictOf(ratio: number | undefined, goal: number): Verdict {
  if (ratio === undefined || !Number.isFinite(ratio)) return 'N/A';
  return ratio >= goal - 1e-9 ? 'PASS' : 'MISS';
}

function peersOf(ms: readonly Measurement[]): string[] {
  return [...new Set(ms.filter((m) => m.system !== ownSystem).map((m) => m.system))];
}

/** Best peer (not tsrocket) on a workload, each peer by its best client mode: highest rate, lowest latency. */
export function bestPeer(ms: readonly Measurement[], workload: string): Measurement | undefined {
  let best: Measurement | undefined;
  for (const p of peersOf(ms)) {
    const m = bestOf(ms, p, workload);
    if (m === undefined) continue;
    if (best === undefined || (lowerIsBetter(workload) ? m.value < best.value : m.value > best.value)) best = m;
  }
  return best;
}

function ratioOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

function vsBestPeer(workload: string, goal: number, everyRunGoal: number, what: string): TargetSpec {
  return {
    id: workload,
    description: what,
    goal,
    everyRunGoal,
    evaluate(ms) {
      const own = bestOf(ms, ownSystem, workload);
      const best = bestPeer(ms, workload);
      if (own === undefined || best === undefined) return { ratio: undefined, reference: 'no peer measured' };
      const ratio = lowerIsBetter(workload) ? best.value / own.value : own.value / best.value;
      return { ratio, reference: `tsrocket ${own.mode} vs ${best.system} ${best.mode}` };
    },
  };
}

/** Lowest server CPU per message of `system` on `workload` over its client modes. */
function leastServerCpu(ms: readonly Measurement[], system: string, workload: string): Measurement | undefined {
  let least: Measurement | undefined;
  for (const m of ms) {
    if (m.system !== system || m.workload !== workload || m.kind === ModeKind.ceiling) continue;
    const cpu = m.serverCpuUsPerMsg;
    if (cpu === undefined || !(cpu > 0)) continue;
    if (least === undefined || cpu < (least.serverCpuUsPerMsg as number)) least = m;
  }
  return least;
}

function cpuVsBestPeer(workload: string, what: string): TargetSpec {
  return {
    id: `cpu-${workload}`,
    description: what,
    goal: 1,
    evaluate(ms) {
      const own = leastServerCpu(ms, ownSystem, workload);
      const peers = peersOf(ms)
        .map((p) => leastServerCpu(ms, p, workload))
        .filter((m): m is Measurement => m !== undefined)
        .sort((a, b) => (a.serverCpuUsPerMsg as number) - (b.serverCpuUsPerMsg as number));
      const best = peers[0];
      if (own === undefined || best === undefined) return { ratio: undefined, reference: 'no peer measured' };
      return {
        ratio: (best.serverCpuUsPerMsg as number) / (own.serverCpuUsPerMsg as number),
        reference: `tsrocket ${own.mode} ${own.serverCpuUsPerMsg?.toFixed(2)} µs vs ${best.system} ${best.mode} ${best.serverCpuUsPerMsg?.toFixed(2)} µs`,
      };
    },
  };
}

/** Broker CPU µs per message of a 1 KiB batch send ≤ the limit (ratio = limit / measured). */
const batchBrokerCpuUsMax = 1.5;

const specs: readonly TargetSpec[] = [
  vsBestPeer('produce-1k', 1.5, 1.2, 'produce 1 KiB msg/s ≥ 1.5 × best peer (median), ≥ 1.2 × every run'),
  vsBestPeer('produce-128', 1.5, 1.2, 'produce 128 B msg/s ≥ 1.5 × best peer (median), ≥ 1.2 × every run'),
  vsBestPeer('consume-1k', 1.5, 1.2, 'consume 1 KiB backlog ≥ 1.5 × best peer (median), ≥ 1.2 × every run'),
  vsBestPeer('consume-128', 1.5, 1.2, 'consume 128 B backlog ≥ 1.5 × best peer (median), ≥ 1.2 × every run'),
  cpuVsBestPeer('produce-1k', 'server CPU µs/msg, produce 1 KiB ≤ best peer'),
  cpuVsBestPeer('consume-1k', 'server CPU µs/msg, consume 1 KiB ≤ best peer'),
  vsBestPeer('e2e-p99', 1.0, 1.0, 'e2e p99 at fixed rate ≤ best peer p99'),
  {
    id: 'batch-cpu',
    description: `batch send 1 KiB: broker ≤ ${batchBrokerCpuUsMax} CPU-µs per message`,
    goal: 1,
    evaluate(ms) {
      const row = ms.find((m) => m.system === ownSystem && m.workload === 'batch-1k');
      const cpu = row?.serverCpuUsPerMsg;
      const free = ms.find((m) => m.system === ownSystem && m.workload === 'batch-1k-free-pool')?.serverCpuUsPerMsg;
      const state = row?.memory === undefined ? '' : `, ${row.memory}`;
      const beside = free === undefined ? '' : `; ${free.toFixed(2)} µs in the free pool as found`;
      return {
        ratio: cpu === undefined || !(cpu > 0) ? undefined : batchBrokerCpuUsMax / cpu,
        reference: cpu === undefined ? 'not measured' : `${cpu.toFixed(2)} µs measured${state}${beside}`,
      };
    },
  },
  {
    id: 'sync-64-vs-1',
    description: 'SYNC_FLUSH 64 producers ≥ 20 × 1 producer',
    goal: 20,
    evaluate: (ms) => ({
      ratio: ratioOf(measured(ms, ownSystem, 'sync-64'), measured(ms, ownSystem, 'sync-1')),
      reference: 'tsrocket sync-1',
    }),
  },
  {
    id: 'sync-64-vs-rabbitmq',
    description: 'SYNC_FLUSH 64 producers ≥ 1.0 × RabbitMQ confirmed 1 KiB rate (its best mode)',
    goal: 1,
    evaluate: (ms) => ({
      ratio: ratioOf(measured(ms, ownSystem, 'sync-64'), measured(ms, 'rabbitmq', 'produce-1k')),
      reference: 'rabbitmq produce-1k',
    }),
  },
  {
    id: 'batch-vs-disk',
    description: 'batch send 1 KiB MiB/s ≥ 50 % of sequential write MiB/s',
    goal: 0.5,
    evaluate: (ms, hw) => ({
      ratio: ratioOf(measured(ms, ownSystem, 'batch-1k-MiB'), hw?.seqWriteMiBps),
      reference: 'hardware seq write',
    }),
  },
];

/** Evaluates every target on one run. */
export function evaluateTargets(ms: readonly Measurement[], hw: HardwareLimits | undefined): TargetResult[] {
  return specs.map((s) => {
    const { ratio, reference } = s.evaluate(ms, hw);
    return { id: s.id, description: s.description, ratio, goal: s.goal, verdict: verdictOf(ratio, s.goal), reference };
  });
}

/** Median of the defined values (mean of the middle two when even); undefined when none. */
export function median(values: readonly (number | undefined)[]): number | undefined {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** Targets over runs: PASS when the median reaches the goal and no run falls below its every-run floor. */
export function summarizeTargets(perRun: readonly (readonly TargetResult[])[]): TargetSummary[] {
  return specs.map((s) => {
    const rows = perRun.map((run) => run.find((t) => t.id === s.id));
    const runs = rows.map((t) => t?.ratio);
    const med = median(runs);
    const defined = runs.filter((x): x is number => x !== undefined && Number.isFinite(x));
    const min = defined.length === 0 ? undefined : Math.min(...defined);
    const everyRunGoal = s.everyRunGoal ?? s.goal;
    let verdict = verdictOf(med, s.goal);
    if (verdict === 'PASS' && defined.length < runs.length) verdict = 'N/A';
    if (verdict === 'PASS' && (min as number) < everyRunGoal - 1e-9) verdict = 'MISS';
    const last = rows[rows.length - 1];
    return {
      id: s.id,
      description: s.description,
      ratio: med,
      goal: s.goal,
      verdict,
      reference: last?.reference ?? '',
      runs,
      min,
      everyRunGoal,
    };
  });
}

/** tsrocket / each peer per workload: best mode against best mode, idiomatic against idiomatic, and ceilings. */
export function peerRatios(ms: readonly Measurement[]): Ratio[] {
  const out: Ratio[] = [];
  const workloads = [...new Set(ms.map((m) => m.workload))];
  const ratio = (w: string, own: Measurement, other: Measurement) =>
    lowerIsBetter(w) ? other.value / own.value : own.value / other.value;
  const usable = (m: Measurement | undefined): m is Measurement => m !== undefined && m.value > 0;
  for (const w of workloads) {
    const ownBest = bestOf(ms, ownSystem, w);
    const ownIdiomatic = ms.find((m) => m.system === ownSystem && m.workload === w && m.kind === ModeKind.idiomatic);
    for (const p of peersOf(ms)) {
      const best = bestOf(ms, p, w);
      if (usable(ownBest) && usable(best))
        out.push({ workload: w, against: p, basis: 'best', ratio: ratio(w, ownBest, best) });
      const idiomatic = ms.find((m) => m.system === p && m.workload === w && m.kind === ModeKind.idiomatic);
      if (usable(ownIdiomatic) && usable(idiomatic)) {
        out.push({ workload: w, against: p, basis: 'idiomatic', ratio: ratio(w, ownIdiomatic, idiomatic) });
      }
      const ceiling = ms.find((m) => m.system === p && m.workload === w && m.kind === ModeKind.ceiling);
      if (usable(ownBest) && usable(ceiling))
        out.push({ workload: w, against: p, basis: 'ceiling', ratio: ratio(w, ownBest, ceiling) });
    }
  }
  return out;
}

/** tsrocket against what the machine can do at most. */
export function hardwareRatios(ms: readonly Measurement[], hw: HardwareLimits): Ratio[] {
  const own = (w: string) => measured(ms, ownSystem, w);
  const miB = (w: string, bytes: number) => {
    const v = own(w);
    return v === undefined ? undefined : (v * bytes) / (1024 * 1024);
  };
  const rows: [string, string, number | undefined, number][] = [
    ['produce-1k', 'seq write MiB/s', miB('produce-1k', 1024), hw.seqWriteMiBps],
    ['produce-1k', 'loopback TCP MiB/s', miB('produce-1k', 1024), hw.loopbackMiBps],
    ['batch-1k-MiB', 'seq write MiB/s', own('batch-1k-MiB'), hw.seqWriteMiBps],
    ['sync-1', 'fdatasync/s', own('sync-1'), hw.fdatasyncPerSec],
  ];
  return rows
    .filter((r): r is [string, string, number, number] => r[2] !== undefined && r[3] > 0)
    .map(([workload, against, v, limit]) => ({ workload, against, basis: 'best' as const, ratio: v / limit }));
}
