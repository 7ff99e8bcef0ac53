/** Shapes of one harness run: measurements per system, mode and workload, and the machine's own limits. */

export const ownSystem = 'tsrocket';

/** How a system was driven: its simplest call, its fastest documented way, or the server's own C load tool. */
export const ModeKind = { idiomatic: 'idiomatic', best: 'best', ceiling: 'ceiling' } as const;
export type ModeKind = (typeof ModeKind)[keyof typeof ModeKind];

/** When an ack/confirm is given: after the bytes reached the OS page cache, or after an fsync covering them. */
export const Durability = { pageCache: 'page cache', fsyncPerBatch: 'fsync per batch' } as const;
export type Durability = (typeof Durability)[keyof typeof Durability];

export interface Measurement {
  system: string;
  /** Workload id, e.g. `produce-1k`, `consume-128`, `e2e-p99`, `sync-64`. */
  workload: string;
  /** Client mode within the system, e.g. `js.publish`, `async-publish`, `sendBatch`. */
  mode: string;
  kind: ModeKind;
  durability: Durability;
  value: number;
  unit: 'msg/s' | 'ms' | 'MiB/s';
  /** Server processes' CPU (utime+stime, children included) per message, µs. */
  serverCpuUsPerMsg?: number;
  /** The load generator's CPU per message, µs (this process, plus an external load tool's). */
  clientCpuUsPerMsg?: number;
  /** The memory state the server wrote into (memory-cgroup.ts memoryStateLabel): page cache recycled or as found. */
  memory?: string;
}

export interface HardwareLimits {
  seqWriteMiBps: number;
  fdatasyncPerSec: number;
  loopbackMiBps: number;
}

export interface SkippedPeer {
  system: string;
  reason: string;
}

/** Value of one system/workload, if measured (its best mode when it has several). */
export function measured(ms: readonly Measurement[], system: string, workload: string): number | undefined {
  return bestOf(ms, system, workload)?.value;
}

/** A system's best row on a workload over its client modes (ceilings excluded): highest rate, lowest latency. */
export function bestOf(ms: readonly Measurement[], system: string, workload: string): Measurement | undefined {
  let best: Measurement | undefined;
  for (const m of ms) {
    if (m.system !== system || m.workload !== workload || m.kind === ModeKind.ceiling || !Number.isFinite(m.value)) {
      continue;
    }
    if (best === undefined || (lowerIsBetter(workload) ? m.value < best.value : m.value > best.value)) best = m;
  }
  return best;
}

/** Workload ids where a lower value is better (latencies). */
export function lowerIsBetter(workload: string): boolean {
  return workload.startsWith('e2e-');
}
