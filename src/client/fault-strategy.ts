/**
 * Latency-based broker avoidance (RocketMQ's MQFaultStrategy + LatencyFaultTolerance): a send that is slow or
 * fails marks its broker unavailable for a while, and queue selection skips unavailable brokers while others
 * remain.
 */

/** Send latency steps (ms) and how long a broker at each step is avoided (ms). */
const latencyStepsMs = [50, 100, 550, 1000, 2000, 3000, 15000] as const;
const avoidMsByStep = [0, 0, 30000, 60000, 120000, 180000, 600000] as const;
/** A failed send counts as this latency (the broker is avoided for the longest step). */
export const failureLatencyMs = 30000;

export function avoidanceMs(latencyMs: number): number {
  for (let i = latencyStepsMs.length - 1; i >= 0; i--) {
    if (latencyMs >= (latencyStepsMs[i] as number)) return avoidMsByStep[i] as number;
  }
  return 0;
}

interface FaultItem {
  latencyMs: number;
  availableFromMs: number;
}

export class FaultStrategy {
  private readonly items = new Map<string, FaultItem>();

  constructor(
    readonly enabled = true,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a send's outcome; `failed` sends avoid the broker as if it took failureLatencyMs. */
  update(brokerName: string, latencyMs: number, failed: boolean): void {
    if (!this.enabled) return;
    const effective = failed ? failureLatencyMs : latencyMs;
    const avoid = avoidanceMs(effective);
    if (avoid === 0) {
      this.items.delete(brokerName);
      return;
    }
    this.items.set(brokerName, { latencyMs: effective, availableFromMs: this.now() + avoid });
  }

  isAvailable(brokerName: string): boolean {
    const item = this.items.get(brokerName);
    return item === undefined || this.now() >= item.availableFromMs;
  }

  /** Of the unavailable brokers, the one that recovers first (used when every broker is avoided). */
  leastBad(candidates: Iterable<string>): string | undefined {
    let best: string | undefined;
    let bestItem: FaultItem | undefined;
    for (const name of candidates) {
      const item = this.items.get(name);
      if (item === undefined) return name;
      if (bestItem === undefined || item.availableFromMs < bestItem.availableFromMs) {
        best = name;
        bestItem = item;
      }
    }
    return best;
  }
}
