/** The targets tsrocket is held to, as ratios from one run, and the tsrocket/peer and tsrocket/hardware ratios. */
import { type HardwareLimits, lowerIsBetter, type Measurement, measured, ownSystem } from './results.js';

export type Verdict = 'PASS' | 'MISS' | 'N/A';

export interface TargetResult {
  id: string;
  description: string;
  /** tsrocket's value divided by the reference (for latency: reference / tsrocket, so ≥ goal passes too). */
  ratio: number | undefined;
  goal: number;
  verdict: Verdict;
  reference: string;
}

export interface Ratio {
  workload: string;
  against: string;
  /** tsrocket / other; for latencies other / tsrocket, so > 1 always means tsrocket is better. */
  ratio: number;
}

function judge(
  id: string,
  description: string,
  ratio: number | undefined,
  goal: number,
  reference: string,
): TargetResult {
  const verdict: Verdict =
    ratio === undefined || !Number.isFinite(ratio) ? 'N/A' : ratio >= goal - 1e-9 ? 'PASS' : 'MISS';
  return { id, description, ratio, goal, verdict, reference };
}

/** Best peer (not tsrocket) on a workload: highest throughput, lowest latency. */
export function bestPeer(ms: readonly Measurement[], workload: string): Measurement | undefined {
  const peers = ms.filter((m) => m.workload === workload && m.system !== ownSystem && Number.isFinite(m.value));
  const better = (a: Measurement, b: Measurement) => (lowerIsBetter(workload) ? a.value < b.value : a.value > b.value);
  return peers.reduce<Measurement | undefined>(
    (best, m) => (best === undefined || better(m, best) ? m : best),
    undefined,
  );
}

function vsBestPeer(ms: readonly Measurement[], workload: string, goal: number, what: string): TargetResult {
  const own = measured(ms, ownSystem, workload);
  const best = bestPeer(ms, workload);
  let ratio: number | undefined;
  if (own !== undefined && best !== undefined) ratio = lowerIsBetter(workload) ? best.value / own : own / best.value;
  return judge(workload, what, ratio, goal, best === undefined ? 'no peer measured' : `best peer ${best.system}`);
}

function ratioOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** Evaluates every target of the brief. */
export function evaluateTargets(ms: readonly Measurement[], hw: HardwareLimits | undefined): TargetResult[] {
  const own = (w: string) => measured(ms, ownSystem, w);
  const batchMiBps = own('batch-1k-MiB');
  return [
    vsBestPeer(ms, 'produce-1k', 1.2, 'produce 1 KiB msg/s ≥ 1.2 × best peer'),
    vsBestPeer(ms, 'produce-128', 1.2, 'produce 128 B msg/s ≥ 1.2 × best peer'),
    vsBestPeer(ms, 'consume-1k', 1.2, 'consume 1 KiB backlog msg/s ≥ 1.2 × best peer'),
    vsBestPeer(ms, 'consume-128', 1.2, 'consume 128 B backlog msg/s ≥ 1.2 × best peer'),
    vsBestPeer(ms, 'e2e-p99', 1.0, 'e2e p99 at fixed rate ≤ best peer p99'),
    judge(
      'sync-64-vs-1',
      'SYNC_FLUSH 64 producers ≥ 20 × 1 producer',
      ratioOf(own('sync-64'), own('sync-1')),
      20,
      'tsrocket sync-1',
    ),
    judge(
      'sync-64-vs-rabbitmq',
      'SYNC_FLUSH 64 producers ≥ 1.0 × RabbitMQ confirmed 1 KiB rate',
      ratioOf(own('sync-64'), measured(ms, 'rabbitmq', 'produce-1k')),
      1.0,
      'rabbitmq produce-1k',
    ),
    judge(
      'batch-vs-disk',
      'batch send 1 KiB MiB/s ≥ 50 % of sequential write MiB/s',
      ratioOf(batchMiBps, hw?.seqWriteMiBps),
      0.5,
      'hardware seq write',
    ),
  ];
}

/** tsrocket / each peer, per workload both measured. */
export function peerRatios(ms: readonly Measurement[]): Ratio[] {
  const out: Ratio[] = [];
  for (const m of ms) {
    if (m.system === ownSystem) continue;
    const own = measured(ms, ownSystem, m.workload);
    if (own === undefined || own === 0 || m.value === 0) continue;
    out.push({
      workload: m.workload,
      against: m.system,
      ratio: lowerIsBetter(m.workload) ? m.value / own : own / m.value,
    });
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
    .map(([workload, against, v, limit]) => ({ workload, against, ratio: v / limit }));
}
