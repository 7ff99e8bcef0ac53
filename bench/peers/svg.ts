/** Hand-written SVG bar chart: one group per workload, one bar per system, each group scaled to its own max. */
import type { Measurement } from './results.js';

const palette = ['#d9480f', '#1971c2', '#2f9e44', '#ae3ec9', '#f08c00', '#495057'];
const barWidth = 18;
const groupGap = 26;
const plotHeight = 220;
const top = 50;
const left = 20;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function short(v: number): string {
  if (!Number.isFinite(v)) return '-';
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (v >= 100) return v.toFixed(0);
  return v.toPrecision(3);
}

/** Renders `ms` as a standalone SVG document; systems keep the order they first appear in. */
export function renderChart(ms: readonly Measurement[], title: string): string {
  const systems = [...new Set(ms.map((m) => m.system))];
  const workloads = [...new Set(ms.map((m) => m.workload))];
  const groupWidth = systems.length * barWidth + groupGap;
  const width = Math.max(400, left * 2 + workloads.length * groupWidth, left * 2 + systems.length * 170);
  const height = top + plotHeight + 90;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${left}" y="34" fill="#555">bars scaled per workload (tallest = best throughput or worst latency); lower is better for e2e-*</text>`,
  ];
  systems.forEach((s, i) => {
    const x = left + i * 170;
    out.push(`<rect x="${x}" y="${height - 22}" width="10" height="10" fill="${palette[i % palette.length]}"/>`);
    out.push(`<text x="${x + 14}" y="${height - 13}">${escapeXml(s)}</text>`);
  });
  const baseY = top + plotHeight;
  workloads.forEach((w, g) => {
    const gx = left + g * groupWidth;
    const inGroup = ms.filter((m) => m.workload === w && Number.isFinite(m.value));
    const max = Math.max(0, ...inGroup.map((m) => m.value));
    systems.forEach((s, i) => {
      const m = inGroup.find((x) => x.system === s);
      if (m === undefined) return;
      const h = max > 0 ? Math.max(1, (m.value / max) * (plotHeight - 14)) : 1;
      const x = gx + i * barWidth;
      const fill = palette[i % palette.length];
      out.push(
        `<rect x="${x}" y="${(baseY - h).toFixed(1)}" width="${barWidth - 3}" height="${h.toFixed(1)}" fill="${fill}"><title>${escapeXml(`${s} ${w}: ${m.value} ${m.unit}`)}</title></rect>`,
      );
      const ly = (baseY - h - 3).toFixed(1);
      out.push(
        `<text x="${x + 6}" y="${ly}" font-size="8" transform="rotate(-60 ${x + 6} ${ly})">${escapeXml(short(m.value))}</text>`,
      );
    });
    const unit = inGroup[0]?.unit ?? '';
    out.push(`<text x="${gx}" y="${baseY + 14}">${escapeXml(w)}</text>`);
    out.push(`<text x="${gx}" y="${baseY + 26}" fill="#777">${escapeXml(unit)}</text>`);
  });
  out.push(`<line x1="${left}" y1="${baseY}" x2="${width - left}" y2="${baseY}" stroke="#333"/>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
