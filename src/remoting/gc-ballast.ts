/**
 * A heap ballast: one flat string held for the process's life. The broker's live heap is small (~12 MiB under a
 * send flood) next to V8's young generation (up to 2 × 16 MiB), and V8 then starts incremental marking again right
 * after every mark-compact: 23 mark-compacts per 200k batched 1 KiB sends, ~20 % of the broker's CPU with their
 * helper threads (docs/performance.md, 2026-12-06). A larger old generation moves its allocation limit out of that
 * range (1 mark-compact for the same run). A sequential string holds no pointers, so marking it costs nothing;
 * its pages count in RSS. Because marking it is free, V8 judges marking cheap and sets the next limit only ~10 %
 * above the live heap after each mark-compact, so they came back every 100–150 ms in some runs (0–34 per run of
 * one build): with a ballast held, the old generation grows by 100 % instead (`--heap-growing-percent`, unless the
 * process was started with its own), 0–1 mark-compacts per run, broker CPU per message −9–11 % (docs/performance.md,
 * 2026-12-07, the sixth round's re-measure). The limit still follows the live heap (2 × it), not a fixed size.
 */
import { setFlagsFromString } from 'node:v8';

/** Old-generation growth after a mark-compact while a ballast is held (V8's own factor is 1.1–4 by its speed). */
export const heapGrowingPercent = 100;

let ballast = '';

/** Holds a ballast of `mib` MiB unless a larger one is held (process-wide: the largest request wins). */
export function applyHeapBallast(mib: number): void {
  const bytes = Math.max(0, Math.floor(mib)) * 1024 * 1024;
  if (bytes <= ballast.length) return;
  const s = ' '.repeat(bytes);
  // repeat builds a tree of cons strings; reading a character flattens it into one string in large-object space.
  s.charCodeAt(bytes - 1);
  if (ballast.length === 0 && heapGrowingFlagWanted(process.execArgv, process.env['NODE_OPTIONS'])) {
    setFlagsFromString(`--heap-growing-percent=${heapGrowingPercent}`);
  }
  ballast = s;
}

/** Whether to set the old generation's growth: not when the process was started with its own setting. */
export function heapGrowingFlagWanted(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const own = (f: string) => /^--heap[-_]growing[-_]percent(=|$)/.test(f);
  return !execArgv.some(own) && !(nodeOptions ?? '').split(/\s+/).some(own);
}

/** Bytes of the ballast held now. */
export function heapBallastBytes(): number {
  return ballast.length;
}
