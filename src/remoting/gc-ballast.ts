/**
 * A heap ballast: one flat string held for the process's life. The broker's live heap is small (~12 MiB under a
 * send flood) next to V8's young generation (up to 2 × 16 MiB), and V8 then starts incremental marking again right
 * after every mark-compact: 23 mark-compacts per 200k batched 1 KiB sends, ~20 % of the broker's CPU with their
 * helper threads (docs/performance.md, 2026-12-06). A larger old generation moves its allocation limit out of that
 * range (1 mark-compact for the same run). A sequential string holds no pointers, so marking it costs nothing;
 * its pages count in RSS.
 */

let ballast = '';

/** Holds a ballast of `mib` MiB unless a larger one is held (process-wide: the largest request wins). */
export function applyHeapBallast(mib: number): void {
  const bytes = Math.max(0, Math.floor(mib)) * 1024 * 1024;
  if (bytes <= ballast.length) return;
  const s = ' '.repeat(bytes);
  // repeat builds a tree of cons strings; reading a character flattens it into one string in large-object space.
  s.charCodeAt(bytes - 1);
  ballast = s;
}

/** Bytes of the ballast held now. */
export function heapBallastBytes(): number {
  return ballast.length;
}
