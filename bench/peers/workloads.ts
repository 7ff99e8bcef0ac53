/** Workloads (a) produce, (b) consume the backlog, (c) fixed-rate end-to-end latency, run the same on every peer. */
import crypto from 'node:crypto';
import { bodySentAt, bodySeq, DeliveryCounter, makeBody, runPaced, runWindowed } from './load.js';
import type { PeerSession } from './peer.js';
import type { Measurement } from './results.js';
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

const sizes = [
  { id: '1k', bytes: 1024 },
  { id: '128', bytes: 128 },
] as const;

/** Runs (a), (b), (c) on one started system; `note` reports progress lines. */
export async function runCommon(
  system: string,
  session: PeerSession,
  opts: CommonOptions,
  note: (line: string) => void,
): Promise<Measurement[]> {
  const out: Measurement[] = [];
  const add = (workload: string, value: number, unit: Measurement['unit']) =>
    out.push({ system, workload, value, unit });
  for (const size of sizes) {
    const name = `bench_${size.id}`;
    await session.prepare(name);
    const template = crypto.randomBytes(size.bytes);
    const produced = await runWindowed(opts.count, opts.window, (i) => session.publish(name, makeBody(template, i)));
    add(`produce-${size.id}`, produced.msgsPerSec, 'msg/s');
    note(`${system} produce ${size.bytes} B: ${produced.msgsPerSec.toFixed(0)} msg/s`);
  }
  for (const size of sizes) {
    const name = `bench_${size.id}`;
    const counter = new DeliveryCounter(opts.count, stallMs, `${system} consume ${size.id}`);
    const t0 = performance.now();
    const consumer = await session.consume(name, (body) => counter.add(bodySeq(body)));
    try {
      await counter.done;
    } finally {
      await consumer.stop();
    }
    const rate = opts.count / ((performance.now() - t0) / 1000);
    add(`consume-${size.id}`, rate, 'msg/s');
    note(
      `${system} consume ${size.bytes} B: ${rate.toFixed(0)} msg/s${counter.duplicates ? ` (${counter.duplicates} dup)` : ''}`,
    );
  }
  const name = 'bench_e2e';
  await session.prepare(name);
  const total = Math.round(opts.e2eRate * opts.e2eSeconds);
  const warmup = Math.round(opts.e2eRate * e2eWarmupSeconds);
  const latencies = new Float64Array(total);
  const counter = new DeliveryCounter(total, stallMs, `${system} e2e`);
  const consumer = await session.consume(name, (body) => {
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
  const lat = summarizeLatencies(latencies.subarray(Math.min(warmup, total - 1)));
  add('e2e-p50', lat.p50, 'ms');
  add('e2e-p99', lat.p99, 'ms');
  add('e2e-p999', lat.p999, 'ms');
  add('e2e-max', lat.max, 'ms');
  note(
    `${system} e2e @${opts.e2eRate}/s: p50 ${lat.p50.toFixed(2)} p99 ${lat.p99.toFixed(2)} p999 ${lat.p999.toFixed(2)} max ${lat.max.toFixed(2)} ms`,
  );
  return out;
}
