/** A send window: `window` workers, each awaiting one call at a time, until `count` calls were issued. */
import { readFile } from 'node:fs/promises';

export interface WindowResult {
  acked: number;
  failed: number;
  ms: number;
  firstError: unknown;
}

/** Calls `send(i)` for i = 0..count-1 with `window` calls in flight; a rejected call counts as failed. */
export async function runWindow(
  count: number,
  window: number,
  send: (i: number) => Promise<unknown>,
): Promise<WindowResult> {
  const out: WindowResult = { acked: 0, failed: 0, ms: 0, firstError: undefined };
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      try {
        await send(i);
        out.acked++;
      } catch (err) {
        out.failed++;
        out.firstError ??= err;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
  out.ms = performance.now() - t0;
  return out;
}

/** Messages per second of `n` over `ms`. */
export function perSec(n: number, ms: number): number {
  return ms > 0 ? (n * 1000) / ms : 0;
}

/** The middle value (the mean of the two middle ones for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** User + system CPU ms of a process so far (/proc/<pid>/stat, clock ticks of 100 Hz); 0 once it is gone. */
export async function cpuMsOfPid(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (stat === '') return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
