/**
 * The broker's long event-loop turns as turns-preload.ts records them, summarised per bench phase: how many, the
 * longest, how much of the phase they took, and what was running in the background during them.
 */
import type { WaitSamples } from './turns-waits.js';

/** A probe timer fired `lateMs` late (`turnLateMsMin` or more): a turn of about that length started at `atMs`. */
export interface LongTurn {
  /** Epoch ms (Date.now's clock, the same in both processes). */
  atMs: number;
  lateMs: number;
  /** The event-loop thread's CPU and run-queue wait since the probe before (a period plus the turn), ms. */
  cpuMs: number;
  waitMs: number;
  /** Labels of the store's background jobs running at some point during the turn. */
  during: string[];
  /** GC pauses inside the turn, ms. */
  gcMs: number;
}

export interface TurnsFile {
  probeMs: number;
  probes: number;
  turns: LongTurn[];
  /** The main thread's sampled kernel waits (turns-waits.ts), when sampled. */
  waits?: WaitSamples;
  /** The broker's GC pauses: epoch ms, ms, V8's kind. */
  gc?: [number, number, number][];
}

/** Shorter lateness is the timer's own jitter, not a turn worth naming. */
export const turnLateMsMin = 3;

export interface TurnsSummary {
  /** Long turns in the phase. */
  n: number;
  perS: number;
  /** Sum of the long turns' lengths as a share of the phase. */
  share: number;
  longest: LongTurn[];
  /** Per background job: long turns it was running in, their mean and max length. */
  byJob: Record<string, { n: number; meanMs: number; maxMs: number }>;
  /** Long turns with no store flush running. */
  other: { n: number; meanMs: number; maxMs: number };
  gcMs: number;
  /** The event-loop thread's CPU and run-queue wait over the long turns: a turn that waited for a core is the machine's. */
  cpuMs: number;
  waitMs: number;
  /** Neither running nor runnable inside the turns (a blocking syscall: page-cache throttling, a lock), ms. */
  blockedMs: number;
}

const agg = (ls: number[]) => ({
  n: ls.length,
  meanMs: ls.length === 0 ? 0 : ls.reduce((s, x) => s + x, 0) / ls.length,
  maxMs: ls.length === 0 ? 0 : Math.max(...ls),
});

/** The part of a turn the thread neither ran nor waited for a core (the probe's period was idle). */
function blockedMs(t: LongTurn): number {
  return Math.max(0, t.lateMs - t.cpuMs - t.waitMs);
}

/** The long turns that started within [fromMs, toMs). */
export function summarizeTurns(f: TurnsFile, fromMs: number, toMs: number, top = 8): TurnsSummary {
  const ts = f.turns.filter((t) => t.atMs >= fromMs && t.atMs < toMs);
  const byJobLs = new Map<string, number[]>();
  const otherLs: number[] = [];
  for (const t of ts) {
    if (t.during.length === 0) otherLs.push(t.lateMs);
    for (const j of t.during) {
      const ls = byJobLs.get(j) ?? [];
      ls.push(t.lateMs);
      byJobLs.set(j, ls);
    }
  }
  const spanS = Math.max(1e-3, (toMs - fromMs) / 1000);
  const total = ts.reduce((s, t) => s + t.lateMs, 0);
  return {
    n: ts.length,
    perS: ts.length / spanS,
    share: total / 1000 / spanS,
    longest: [...ts].sort((a, b) => b.lateMs - a.lateMs).slice(0, top),
    byJob: Object.fromEntries([...byJobLs].map(([j, ls]) => [j, agg(ls)])),
    other: agg(otherLs),
    gcMs: ts.reduce((s, t) => s + t.gcMs, 0),
    cpuMs: ts.reduce((s, t) => s + t.cpuMs, 0),
    waitMs: ts.reduce((s, t) => s + t.waitMs, 0),
    blockedMs: ts.reduce((s, t) => s + blockedMs(t), 0),
  };
}

/** One line per phase for the bench's output. */
export function fmtTurns(s: TurnsSummary): string {
  const jobs = Object.entries(s.byJob)
    .map(([j, a]) => `${j} ${a.n} (mean ${a.meanMs.toFixed(1)}, max ${a.maxMs.toFixed(1)} ms)`)
    .join(', ');
  return (
    `${s.n} turns ≥ 3 ms (${s.perS.toFixed(1)}/s, ${(s.share * 100).toFixed(1)} % of the time; in them CPU ${s.cpuMs.toFixed(0)} ms, waiting for a core ${s.waitMs.toFixed(0)} ms, blocked ${s.blockedMs.toFixed(0)} ms, GC ${s.gcMs.toFixed(0)} ms); ` +
    `longest (ms, CPU/wait/blocked in brackets) ${s.longest.map((t) => `${t.lateMs.toFixed(1)} (${t.cpuMs.toFixed(1)}/${t.waitMs.toFixed(1)}/${blockedMs(t).toFixed(1)}${t.during.length > 0 ? ` ${t.during.join('+')}` : ''})`).join(', ')}; during: ${jobs || '-'}; ` +
    `no flush running ${s.other.n} (mean ${s.other.meanMs.toFixed(1)}, max ${s.other.maxMs.toFixed(1)} ms)`
  );
}
