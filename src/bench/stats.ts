/** Latency samples and percentiles for the benchmarks (exact: every sample kept, sorted once at the end). */

/** Percentile by nearest rank over an ascending array: the smallest value with at least p % of samples ≤ it. */
export function percentile(sortedAsc: ArrayLike<number>, p: number): number {
  const n = sortedAsc.length;
  if (n === 0) return Number.NaN;
  if (p <= 0) return sortedAsc[0] as number;
  // The epsilon keeps 99.9 % of 1000 at rank 999 despite 99.9 not being exact in binary.
  const rank = Math.ceil((p * n) / 100 - 1e-9);
  return sortedAsc[Math.min(n, rank) - 1] as number;
}

export interface LatencySummary {
  count: number;
  avg: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

const samplesInitial = 1 << 16;

/** Growable Float64Array of samples in ms, with a running window for the per-second line. */
export class LatencyRecorder {
  private samples = new Float64Array(samplesInitial);
  private n = 0;
  private windowSum = 0;
  private windowCount = 0;
  private windowMax = 0;

  record(ms: number): void {
    if (this.n === this.samples.length) {
      const next = new Float64Array(this.samples.length * 2);
      next.set(this.samples);
      this.samples = next;
    }
    this.samples[this.n++] = ms;
    this.windowSum += ms;
    this.windowCount++;
    if (ms > this.windowMax) this.windowMax = ms;
  }

  get count(): number {
    return this.n;
  }

  /** Average and max since the previous call (for the per-second line), then resets the window. */
  takeWindow(): { count: number; avg: number; max: number } {
    const w = {
      count: this.windowCount,
      avg: this.windowCount === 0 ? 0 : this.windowSum / this.windowCount,
      max: this.windowMax,
    };
    this.windowSum = 0;
    this.windowCount = 0;
    this.windowMax = 0;
    return w;
  }

  summary(): LatencySummary | null {
    return summarize(this.samples.subarray(0, this.n));
  }
}

/** Summary of unsorted samples (sorts a copy); null when there are none. */
export function summarize(samples: Float64Array | readonly number[]): LatencySummary | null {
  if (samples.length === 0) return null;
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i] as number;
  return {
    count: sorted.length,
    avg: round3(sum / sorted.length),
    p50: round3(percentile(sorted, 50)),
    p99: round3(percentile(sorted, 99)),
    p999: round3(percentile(sorted, 99.9)),
    max: round3(sorted[sorted.length - 1] as number),
  };
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Milliseconds on a clock shared by producer and consumer in one process (sub-ms resolution). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
