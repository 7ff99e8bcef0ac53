/** Plain-text output helpers for `tsrocket admin`: aligned tables and `key: value` blocks. */

export type Cell = string | number | bigint | boolean | undefined | null;

function text(c: Cell): string {
  return c === undefined || c === null ? '-' : String(c);
}

function isNumeric(c: Cell): boolean {
  return typeof c === 'number' || typeof c === 'bigint';
}

/**
 * Columns separated by two spaces, each as wide as its widest cell; numeric columns (every non-empty cell a
 * number) are right-aligned. No trailing spaces. Returns lines without a final newline.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => text(r[i]).length)));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => r[i] === undefined || r[i] === null || isNumeric(r[i])),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map((r) => line(headers.map((_, i) => text(r[i]))))].join('\n');
}

/** `key<pad>: value` lines with keys aligned, in the given order. */
export function formatKeyValues(pairs: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}: ${text(v)}`).join('\n');
}

/** Milliseconds since epoch as `YYYY-MM-DD HH:mm:ss.SSS` (local time), '-' for 0 or less. */
export function formatTime(ms: number | bigint): string {
  const n = Number(ms);
  if (!(n > 0)) return '-';
  const d = new Date(n);
  const p = (v: number, w = 2) => String(v).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** JSON with bigints as numbers when safe, else strings; Maps as objects; 2-space indent. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint')
        return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : String(v);
      if (v instanceof Map) return Object.fromEntries(v);
      return v;
    },
    2,
  );
}
