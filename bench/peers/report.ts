/** Text rendering of a run: one row per workload, system and client mode (with CPU per message), ratios, targets. */
import type { HardwareLimits, Measurement, SkippedPeer } from './results.js';
import type { Ratio, TargetResult, TargetSummary } from './targets.js';

function fmt(v: number | undefined, unit: string): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  if (unit === 'ms') return v.toFixed(2);
  if (unit === 'MiB/s' || unit === 'µs') return v.toFixed(1);
  return Math.round(v).toLocaleString('en-US');
}

function pad(rows: string[][], leftColumns = 1): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c < leftColumns ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The measurement table: rows grouped by workload, systems in first-seen order. */
export function renderTable(ms: readonly Measurement[]): string {
  const rows = [['workload', 'system', 'mode', 'kind', 'durability', 'value', 'unit', 'srv µs/msg', 'gen µs/msg']];
  for (const w of [...new Set(ms.map((m) => m.workload))]) {
    for (const m of ms.filter((x) => x.workload === w)) {
      rows.push([
        m.workload,
        m.system,
        m.mode,
        m.kind,
        m.durability,
        fmt(m.value, m.unit),
        m.unit,
        fmt(m.serverCpuUsPerMsg, 'µs'),
        fmt(m.clientCpuUsPerMsg, 'µs'),
      ]);
    }
  }
  return pad(rows, 5);
}

function renderRatios(ratios: readonly Ratio[]): string {
  const columns = [...new Set(ratios.map((r) => `${r.against} ${r.basis}`))];
  const rows = [['workload', ...columns]];
  for (const w of [...new Set(ratios.map((r) => r.workload))]) {
    rows.push([
      w,
      ...columns.map(
        (c) => ratios.find((r) => r.workload === w && `${r.against} ${r.basis}` === c)?.ratio.toFixed(2) ?? '-',
      ),
    ]);
  }
  return pad(rows);
}

export function renderReport(
  ms: readonly Measurement[],
  hw: HardwareLimits | undefined,
  skipped: readonly SkippedPeer[],
  peerRatios: readonly Ratio[],
  hwRatios: readonly Ratio[],
  targets: readonly TargetResult[],
): string {
  const lines = [renderTable(ms), ''];
  lines.push(
    "kind: idiomatic = the client library's simplest call; best = its fastest way; ceiling = the server's own C load tool.",
    "srv µs/msg = server processes' CPU (utime+stime, children included) per message; gen = the load generator's.",
  );
  if (hw !== undefined) {
    lines.push(
      `hardware: seq write ${hw.seqWriteMiBps.toFixed(0)} MiB/s, fdatasync ${hw.fdatasyncPerSec.toFixed(0)}/s, loopback TCP ${hw.loopbackMiBps.toFixed(0)} MiB/s`,
    );
  }
  for (const s of skipped) lines.push(`skipped ${s.system}: ${s.reason}`);
  lines.push(
    '',
    'tsrocket / peer (> 1 = tsrocket better; best = best mode of each, idiomatic = simplest call of each):',
  );
  lines.push(renderRatios(peerRatios), '', 'tsrocket / hardware limit:');
  for (const r of hwRatios) lines.push(`  ${r.workload} / ${r.against}: ${r.ratio.toFixed(3)}`);
  lines.push('', 'targets (this run):');
  for (const t of targets) {
    const ratio = t.ratio === undefined ? 'n/a' : t.ratio.toFixed(2);
    lines.push(`  ${t.verdict.padEnd(4)} ${t.description}: ratio ${ratio} (goal ${t.goal}; ${t.reference})`);
  }
  return `${lines.join('\n')}\n`;
}

/** Targets over all runs: median ratio, lowest, and each run's. */
export function renderSummary(summary: readonly TargetSummary[]): string {
  const lines = [
    `targets over ${summary[0]?.runs.length ?? 0} run(s) (ratio = median; every run must reach its floor):`,
  ];
  for (const t of summary) {
    const f = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(2));
    lines.push(
      `  ${t.verdict.padEnd(4)} ${t.description}: median ${f(t.ratio)} (goal ${t.goal}), min ${f(t.min)} (floor ${t.everyRunGoal}), runs ${t.runs.map(f).join(' ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
