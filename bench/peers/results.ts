/** Shapes of one harness run: measurements per system and workload, and the machine's own limits. */

export const ownSystem = 'tsrocket';

export interface Measurement {
  system: string;
  /** Workload id, e.g. `produce-1k`, `consume-128`, `e2e-p99`, `sync-64`. */
  workload: string;
  value: number;
  unit: 'msg/s' | 'ms' | 'MiB/s';
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

/** Value of one system/workload, if measured. */
export function measured(ms: readonly Measurement[], system: string, workload: string): number | undefined {
  return ms.find((m) => m.system === system && m.workload === workload)?.value;
}

/** Workload ids where a lower value is better (latencies). */
export function lowerIsBetter(workload: string): boolean {
  return workload.startsWith('e2e-');
}
