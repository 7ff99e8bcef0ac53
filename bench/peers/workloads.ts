/**
 * Workloads (a) produce, (b) consume the backlog, (c) fixed-rate end-to-end latency, run the same on every peer:
 * (a) and (b) once per client mode of the system, (c) in its idiomatic mode.
 */
import crypto from 'node:crypto';
import { type CpuPerMessage, CpuProbe } from './cpu.js';
import { bodySentAt, bodySeq, DeliveryCounter, makeBody, runPaced } from './load.js';
import type { PeerSession } from './peer.js';
import { Durability, type Measurement, ModeKind } from './results.js';
import { summarizeLatencies } from './stats.js';

const stallMs = 60_000;
/** Messages sent in the first second of the e2e run are warm-up and left out of the percentiles. */
const e2eWarmupSeconds = 1;

export interface CommonOptions {
  count: number;
  window: number;
  e2eRate: number;
  e2eSeconds: number;
  e2eBodyBytes: number;
}

type ModeRow = Pick<Measurement, 'mode' | 'kind' | 'durability'>;

const sizes = [
  { id: '1k', bytes: 1024 },
  { id: '128', bytes: 128 },
] as const;

/** Stream/queue/topic name of the backlog produce mode `k` writes for `size` (consume mode `k` reads it). */
export function backlogName(sizeId: string, k: number): string {
  return `bench_${sizeId}_${k}`;
}

/**
 * Runs (a) and (b) in every client mode of the system and (c) in its idiomatic mode, with CPU per message;
 * `serverGroups` are the server's process groups; `note` reports progress lines.
 */
export async function runCommon(
  system: string,
  session: PeerSession,
  serverGroups: readonly number[],
  opts: CommonOptions,
  note: (line: string) => void,
): Promise<Measurement[]> {
  const out: Measurement[] = [];
  const row = (workload: string, mode: ModeRow, value: number, unit: Measurement['unit'], cpu: CpuPerMessage) => {
    out.push({ system, workload, mode: mode.mode, kind: mode.kind, durability: mode.durability, value, unit, ...cpu });
  };
  const cpuText = (cpu: CpuPerMessage) =>
    `server ${cpu.serverCpuUsPerMsg.toFixed(1)} µs/msg, client ${cpu.clientCpuUsPerMsg.toFixed(1)} µs/msg`;
  for (const size of sizes) {
    const template = crypto.randomBytes(size.bytes);
    for (const [k, mode] of session.produceModes.entries()) {
      const name = backlogName(size.id, k);
      await session.prepare(name);
      const probe = new CpuProbe(serverGroups);
      const t0 = performance.now();
      let externalUs: number;
      try {
        externalUs = await mode.run(name, opts.count, (i) => makeBody(template, i));
      } catch (err) {
        // A load tool's failure loses its ceiling row only; a client mode's failure fails the system.
        if (mode.kind !== ModeKind.ceiling) throw err;
        note(`${system} ${mode.mode} produce ${size.bytes} B failed, row left out: ${(err as Error).message}`);
        continue;
      }
      const rate = opts.count / ((performance.now() - t0) / 1000);
      const cpu = probe.perMessage(opts.count, externalUs);
      row(`produce-${size.id}`, mode, rate, 'msg/s', cpu);
      note(`${system} ${mode.mode} produce ${size.bytes} B: ${rate.toFixed(0)} msg/s, ${cpuText(cpu)}`);
    }
  }
  const idiomaticDurability = session.produceModes[0]?.durability ?? Durability.pageCache;
  for (const size of sizes) {
    for (const [k, mode] of session.consumeModes.entries()) {
      const produced = session.produceModes[k];
      if (produced === undefined) continue;
      const name = backlogName(size.id, k);
      const counter = new DeliveryCounter(opts.count, stallMs, `${system} ${mode.mode} consume ${size.id}`);
      const probe = new CpuProbe(serverGroups);
      const t0 = performance.now();
      const consumer = await mode.consume(name, (body) => counter.add(bodySeq(body)));
      let seconds: number;
      let cpu: CpuPerMessage;
      try {
        await counter.done;
        // Timed at the last delivery: a consumer's stop (a blocking read's timeout, a cancel) is not the drain.
        seconds = (performance.now() - t0) / 1000;
        cpu = probe.perMessage(opts.count);
      } finally {
        await consumer.stop();
      }
      const rate = opts.count / seconds;
      row(`consume-${size.id}`, { ...mode, durability: produced.durability }, rate, 'msg/s', cpu);
      note(
        `${system} ${mode.mode} consume ${size.bytes} B: ${rate.toFixed(0)} msg/s, ${cpuText(cpu)}${counter.duplicates ? ` (${counter.duplicates} dup)` : ''}`,
      );
    }
  }
  const e2eMode = session.consumeModes[0];
  if (e2eMode === undefined) return out;
  const name = 'bench_e2e';
  await session.prepare(name);
  const total = Math.round(opts.e2eRate * opts.e2eSeconds);
  const warmup = Math.round(opts.e2eRate * e2eWarmupSeconds);
  const latencies = new Float64Array(total);
  const counter = new DeliveryCounter(total, stallMs, `${system} e2e`);
  const probe = new CpuProbe(serverGroups);
  const consumer = await e2eMode.consume(name, (body) => {
    const seq = bodySeq(body);
    if (seq < total) latencies[seq] = performance.now() - bodySentAt(body);
    counter.add(seq);
  });
  const template = crypto.randomBytes(opts.e2eBodyBytes);
  try {
    const paced = await runPaced(opts.e2eRate, opts.e2eSeconds * 1000, opts.window, (i) =>
      session.publish(name, makeBody(template, i)),
    );
    await counter.done;
    if (paced.behindTicks > 0) note(`${system} e2e: producer fell behind the rate in ${paced.behindTicks} ticks`);
  } finally {
    await consumer.stop();
  }
  const cpu = probe.perMessage(total);
  const lat = summarizeLatencies(latencies.subarray(Math.min(warmup, total - 1)));
  const e2eRow = {
    mode: `${session.produceModes[0]?.mode ?? 'publish'} + ${e2eMode.mode}`,
    kind: e2eMode.kind,
    durability: idiomaticDurability,
  };
  row('e2e-p50', e2eRow, lat.p50, 'ms', cpu);
  row('e2e-p99', e2eRow, lat.p99, 'ms', cpu);
  row('e2e-p999', e2eRow, lat.p999, 'ms', cpu);
  row('e2e-max', e2eRow, lat.max, 'ms', cpu);
  note(
    `${system} e2e @${opts.e2eRate}/s: p50 ${lat.p50.toFixed(2)} p99 ${lat.p99.toFixed(2)} p999 ${lat.p999.toFixed(2)} max ${lat.max.toFixed(2)} ms, ${cpuText(cpu)}`,
  );
  return out;
}
