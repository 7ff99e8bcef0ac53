/** Text rendering of a run: workloads × systems table, ratios, targets. */
import type { HardwareLimits, Measurement, SkippedPeer } from './results.js';
import type { Ratio, TargetResult } from './targets.js';

function fmt(v: number | undefined, unit: string): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  if (unit === 'ms') return v.toFixed(2);
  if (unit === 'MiB/s') return v.toFixed(1);
  return Math.round(v).toLocaleString('en-US');
}

function pad(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  '))
    .join('\n');
}

export function renderReport(
  ms: readonly Measurement[],
  hw: HardwareLimits | undefined,
  skipped: readonly SkippedPeer[],
  peerRatios: readonly Ratio[],
  hwRatios: readonly Ratio[],
  targets: readonly TargetResult[],
): string {
  const systems = [...new Set(ms.map((m) => m.system))];
  const workloads = [...new Set(ms.map((m) => m.workload))];
  const rows = [['workload', 'unit', ...systems]];
  for (const w of workloads) {
    const unit = ms.find((m) => m.workload === w)?.unit ?? '';
    rows.push([w, unit, ...systems.map((s) => fmt(ms.find((m) => m.system === s && m.workload === w)?.value, unit))]);
  }
  const lines = [pad(rows), ''];
  if (hw !== undefined) {
    lines.push(
      `hardware: seq write ${hw.seqWriteMiBps.toFixed(0)} MiB/s, fdatasync ${hw.fdatasyncPerSec.toFixed(0)}/s, loopback TCP ${hw.loopbackMiBps.toFixed(0)} MiB/s`,
    );
  }
  for (const s of skipped) lines.push(`skipped ${s.system}: ${s.reason}`);
  lines.push('', 'tsrocket / peer (> 1 = tsrocket better):');
  const against = [...new Set(peerRatios.map((r) => r.against))];
  const ratioRows = [['workload', ...against]];
  for (const w of [...new Set(peerRatios.map((r) => r.workload))]) {
    ratioRows.push([
      w,
      ...against.map((a) => peerRatios.find((r) => r.workload === w && r.against === a)?.ratio.toFixed(2) ?? '-'),
    ]);
  }
  lines.push(pad(ratioRows), '', 'tsrocket / hardware limit:');
  for (const r of hwRatios) lines.push(`  ${r.workload} / ${r.against}: ${r.ratio.toFixed(3)}`);
  lines.push('', 'targets:');
  for (const t of targets) {
    const ratio = t.ratio === undefined ? 'n/a' : t.ratio.toFixed(2);
    lines.push(`  ${t.verdict.padEnd(4)} ${t.description}: ratio ${ratio} (goal ${t.goal}, vs ${t.reference})`);
  }
  return `${lines.join('\n')}\n`;
}
