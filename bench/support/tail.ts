/**
 * What the polite producer's slowest sends overlapped (bench:fairness): each send's epoch interval is matched with the
 * broker's long event-loop turns (turns-preload.ts: the main thread's CPU, run-queue wait and blocked time), its main
 * thread's sampled kernel waits (turns-waits.ts), the broker's and the bench's own GC pauses, and the bench's event-loop
 * run-queue wait during the send. The sends are one at a time (a closed loop), so a stall delays one send: the p99 of
 * n sends is the (n − ⌈0.99 n⌉ + 1)-th slowest, and that many separate stalls above it make it.
 */
import { type LongTurn, turnLateMsMin } from './turns.js';
import { type WaitSamples, waitFiles, waitLabels } from './turns-waits.js';

/** One polite send: epoch ms at its call, its latency, and the bench's main-thread run-queue wait during it (ms). */
export interface PoliteSend {
  atMs: number;
  ms: number;
  benchWaitMs: number;
}

/** A GC pause: epoch ms at its start, its length (ms), and V8's kind (1 scavenge, 4 mark-compact, 8 incremental, 16 weak callbacks). */
export type GcPause = [number, number, number];

export interface TailSend {
  atMs: number;
  ms: number;
  /** The longest broker turn overlapping the send, and its CPU / wait for a core / blocked parts. */
  turnMs: number;
  turnCpuMs: number;
  turnWaitMs: number;
  turnBlockedMs: number;
  /** Sampled kernel waits of the broker's main thread inside the send, ms by label. */
  kernel: Record<string, number>;
  brokerGcMs: number;
  benchGcMs: number;
  benchWaitMs: number;
  /** The largest of these parts, by name. */
  cause: string;
}

export interface TailSummary {
  n: number;
  /** How many slowest sends are at or above the p99 (the p99 is the last of them). */
  tailN: number;
  p99Ms: number;
  sends: TailSend[];
  /** Tail sends by their largest part. */
  byCause: Record<string, number>;
  /** p99 counting, for each send longer than the gap, the sends a producer on a fixed `gapMs` rhythm would have made meanwhile. */
  p99FixedRhythmMs: number;
}

const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));

function pctSorted(s: number[], p: number): number {
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

/**
 * The sends at or above the p99 and what each overlapped. `gapMs` is the producer's pause between sends (for the
 * fixed-rhythm p99 only: HdrHistogram's expected-interval correction).
 */
export function summarizeTail(
  sends: PoliteSend[],
  turns: LongTurn[],
  waits: WaitSamples | undefined,
  brokerGc: GcPause[],
  benchGc: GcPause[],
  gapMs: number,
): TailSummary {
  const sorted = sends.map((s) => s.ms).sort((x, y) => x - y);
  const n = sorted.length;
  const p99Ms = pctSorted(sorted, 99);
  const tailN = n === 0 ? 0 : n - Math.ceil(0.99 * n) + 1;
  const tail = [...sends].sort((x, y) => y.ms - x.ms).slice(0, tailN);
  const out: TailSend[] = [];
  const byCause: Record<string, number> = {};
  for (const s of tail) {
    const end = s.atMs + s.ms;
    let best: LongTurn | undefined;
    let bestOverlap = 0;
    for (const t of turns) {
      const o = overlap(s.atMs, end, t.atMs, t.atMs + t.lateMs);
      if (o > bestOverlap) {
        bestOverlap = o;
        best = t;
      }
    }
    const kernel: Record<string, number> = {};
    if (waits !== undefined) {
      for (const [at, code] of waits.samples) {
        if (at < s.atMs || at >= end) continue;
        const label = waitLabels[Math.floor(code / 8)] ?? '?';
        const file = waitFiles[code % 8] ?? 'other';
        const key = file === 'other' ? label : `${label} (${file})`;
        kernel[key] = (kernel[key] ?? 0) + waits.periodMs;
      }
    }
    const gcIn = (gc: GcPause[]) => gc.reduce((sum, [at, d]) => sum + overlap(s.atMs, end, at, at + d), 0);
    const turnMs = best?.lateMs ?? 0;
    const turnCpuMs = best?.cpuMs ?? 0;
    const turnWaitMs = best?.waitMs ?? 0;
    const turnBlockedMs = best === undefined ? 0 : Math.max(0, best.lateMs - best.cpuMs - best.waitMs);
    const brokerGcMs = gcIn(brokerGc);
    const benchGcMs = gcIn(benchGc);
    const kernelTop = Object.entries(kernel).sort((x, y) => y[1] - x[1])[0];
    // The parts overlap (a blocked turn is the kernel wait seen from the probe); the largest names the send.
    const parts: [string, number][] = [
      ['broker waiting for a core', turnWaitMs],
      ['broker turn on CPU', turnCpuMs - brokerGcMs],
      ['broker GC', brokerGcMs],
      [`broker in the kernel: ${kernelTop?.[0] ?? 'unsampled'}`, Math.max(kernelTop?.[1] ?? 0, turnBlockedMs)],
      ['bench waiting for a core', s.benchWaitMs],
      ['bench GC', benchGcMs],
    ];
    const top = parts.sort((x, y) => y[1] - x[1])[0] as [string, number];
    const cause = top[1] >= Math.min(turnLateMsMin, s.ms / 4) ? top[0] : 'none named';
    byCause[cause] = (byCause[cause] ?? 0) + 1;
    out.push({
      atMs: s.atMs,
      ms: s.ms,
      turnMs,
      turnCpuMs,
      turnWaitMs,
      turnBlockedMs,
      kernel,
      brokerGcMs,
      benchGcMs,
      benchWaitMs: s.benchWaitMs,
      cause,
    });
  }
  const fixed: number[] = [];
  for (const s of sends) {
    fixed.push(s.ms);
    for (let missed = s.ms - gapMs; missed > 0 && gapMs > 0; missed -= gapMs) fixed.push(missed);
  }
  fixed.sort((x, y) => x - y);
  return { n, tailN, p99Ms, sends: out, byCause, p99FixedRhythmMs: pctSorted(fixed, 99) };
}

export function fmtTail(t: TailSummary, phaseStartMs: number): string[] {
  const causes = Object.entries(t.byCause)
    .sort((x, y) => y[1] - x[1])
    .map(([c, k]) => `${c} ${k}`)
    .join(', ');
  const lines = [
    `n=${t.n}: the p99 (${t.p99Ms.toFixed(2)} ms) is the ${t.tailN}th slowest send; largest part of the ${t.tailN}: ${causes || '-'}; ` +
      `p99 on a fixed rhythm ${t.p99FixedRhythmMs.toFixed(2)} ms`,
  ];
  for (const s of t.sends) {
    const k = Object.entries(s.kernel)
      .map(([l, ms]) => `${l} ${ms}`)
      .join(', ');
    lines.push(
      `  ${s.ms.toFixed(1)} ms at +${((s.atMs - phaseStartMs) / 1000).toFixed(2)} s: broker turn ${s.turnMs.toFixed(1)} ` +
        `(${s.turnCpuMs.toFixed(1)}/${s.turnWaitMs.toFixed(1)}/${s.turnBlockedMs.toFixed(1)}), kernel ${k || '-'}, ` +
        `GC broker ${s.brokerGcMs.toFixed(1)} bench ${s.benchGcMs.toFixed(1)}, bench waiting ${s.benchWaitMs.toFixed(1)} → ${s.cause}`,
    );
  }
  return lines;
}
