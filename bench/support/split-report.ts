/**
 * The parts of the polite producer's send latency (bench:fairness `--split`), from the bench's own stamps around
 * each send, the client side of its connection and the broker side (latency-split.ts), matched by opaque and order.
 */
import type { BrokerSide, ClientSide, GcPause, Stamp } from './latency-split.js';

/** One send as the bench saw it: before producer.send and after its promise resolved. */
export interface BenchSide {
  call: Stamp;
  done: Stamp;
}

export const partNames = [
  'total',
  'sdkBeforeInvoke',
  'clientWrite',
  'toBrokerRead',
  'brokerReadToDispatch',
  'brokerProcess',
  'brokerWrite',
  'toClientRead',
  'clientDeliver',
  'brokerCpuBeforeRead',
  'brokerWaitBeforeRead',
  'brokerWaitInside',
  'clientWait',
] as const;
export type Parts = Record<(typeof partNames)[number], number>;

function partsOf(b: BenchSide, c: ClientSide, k: BrokerSide): Parts | undefined {
  if (c.written === undefined || c.read === undefined || k.answered === undefined || k.written === undefined) {
    return undefined;
  }
  // The broker's last read at or before the client's write, to this send's read: its on-CPU and run-queue share of
  // that span, applied to the send's own wait for the read (toBrokerRead).
  let from = k.readsBefore[0] ?? k.read;
  for (const r of k.readsBefore) if (r[0] <= c.written[0]) from = r;
  const toRead = k.read[0] - c.written[0];
  const span = k.read[0] - from[0];
  const share = span > 0 ? Math.max(0, toRead) / span : 0;
  return {
    total: b.done[0] - b.call[0],
    sdkBeforeInvoke: c.invoked[0] - b.call[0],
    clientWrite: c.written[0] - c.invoked[0],
    toBrokerRead: toRead,
    brokerReadToDispatch: k.dispatched[0] - k.read[0],
    brokerProcess: k.answered[0] - k.dispatched[0],
    brokerWrite: k.written[0] - k.answered[0],
    toClientRead: c.read[0] - k.written[0],
    clientDeliver: b.done[0] - c.read[0],
    brokerCpuBeforeRead: (k.read[1] - from[1]) * share,
    brokerWaitBeforeRead: (k.read[2] - from[2]) * share,
    brokerWaitInside: k.written[2] - k.read[2],
    clientWait: b.done[2] - b.call[2],
  };
}

/** Each bench send's parts (those whose every stamp was taken). */
export function matchParts(bench: BenchSide[], client: ClientSide[], broker: BrokerSide[]): Parts[] {
  const byOpaque = new Map<number, BrokerSide[]>();
  for (const k of broker) {
    const list = byOpaque.get(k.opaque);
    if (list === undefined) byOpaque.set(k.opaque, [k]);
    else list.push(k);
  }
  const out: Parts[] = [];
  let ci = 0;
  for (const b of bench) {
    while (ci < client.length && (client[ci] as ClientSide).invoked[0] < b.call[0]) ci++;
    const c = client[ci];
    if (c === undefined || c.invoked[0] > b.done[0]) continue;
    const k = byOpaque.get(c.opaque)?.find((x) => x.read[0] >= c.invoked[0] - 1 && x.read[0] <= b.done[0]);
    const p = k === undefined ? undefined : partsOf(b, c, k);
    if (p !== undefined) out.push(p);
  }
  return out;
}

const mean = (rows: Parts[], k: keyof Parts) => rows.reduce((t, r) => t + r[k], 0) / Math.max(1, rows.length);

/** Mean parts of the sends around the median and of the slowest 1 % (at least 3), by total. */
export function summarizeParts(rows: Parts[]): { n: number; median: Parts; tail: Parts; tailN: number } {
  const s = [...rows].sort((x, y) => x.total - y.total);
  const mid = Math.floor(s.length / 2);
  const around = s.slice(Math.max(0, mid - 2), mid + 3);
  const tailN = Math.min(s.length, Math.max(3, Math.ceil(s.length / 100)));
  const tail = s.slice(s.length - tailN);
  const pick = (sel: Parts[]) => Object.fromEntries(partNames.map((k) => [k, mean(sel, k)])) as Parts;
  return { n: s.length, median: pick(around), tail: pick(tail), tailN };
}

export function fmtParts(label: string, p: Parts): string {
  return `${label}: ${partNames.map((k) => `${k} ${p[k].toFixed(2)}`).join(', ')} (ms)`;
}

/** The GC pauses that began within [fromMs, toMs], by kind: count, total and largest ms, and the p50 pause. */
export function gcSummary(gc: GcPause[], fromMs: number, toMs: number) {
  const out: Record<string, { n: number; totalMs: number; p50Ms: number; maxMs: number }> = {};
  for (const kind of new Set(gc.map((g) => g[2]))) {
    const ms = gc
      .filter((g) => g[2] === kind && g[0] >= fromMs && g[0] <= toMs)
      .map((g) => g[1])
      .sort((x, y) => x - y);
    if (ms.length === 0) continue;
    out[kind] = {
      n: ms.length,
      totalMs: ms.reduce((t, x) => t + x, 0),
      p50Ms: ms[Math.floor(ms.length / 2)] as number,
      maxMs: ms[ms.length - 1] as number,
    };
  }
  return out;
}
