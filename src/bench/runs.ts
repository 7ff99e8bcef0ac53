/**
 * The three benchmarks, as functions other harnesses can call (bench/peers reuses them):
 * `runProduce` (send TPS and RT), `runConsume` (fill a backlog, then drain it with a PushConsumer) and
 * `runE2e` (send and consume at once; born → delivered latency).
 */
import { randomBytes } from 'node:crypto';
import { ConsumeFromWhere, Producer, PushConsumer, type ReceivedMessage } from '../client/index.js';
import { SendLoad } from './load.js';
import type { BenchKind, BenchOptions } from './options.js';
import { type BenchSummary, everySecond, type ProgressSink, progressSink } from './report.js';
import { LatencyRecorder, nowMs, round3 } from './stats.js';
import { type BenchTarget, openTarget } from './target.js';

export interface RunHooks {
  /** Live per-second lines; default stdout. */
  progress?: ProgressSink;
  /** Use this target instead of opening one from opts (the caller closes it). */
  target?: BenchTarget;
}

/** How long consumers may lag behind the end of the send phase before the run gives up on the rest. */
const drainGraceMs = 30_000;
const warmupMs = 10_000;
const warmupProbeMs = 50;

const mib = 2 ** 20;

/** Starts a CPU meter; the returned function gives µs per message for `messages` handled since. */
export function cpuMeter(): (messages: number) => number | null {
  const start = process.cpuUsage();
  return (messages) => {
    if (messages === 0) return null;
    const d = process.cpuUsage(start);
    return round3((d.user + d.system) / messages);
  };
}

export function producerOf(target: BenchTarget): Producer {
  return new Producer({ nameServer: target.nameServer, group: `benchmark_producer_${process.pid}` });
}

export function consumerGroup(): string {
  return `benchmark_consumer_${randomBytes(4).toString('hex')}`;
}

export async function withTarget<T>(
  opts: BenchOptions,
  hooks: RunHooks,
  fn: (t: BenchTarget) => Promise<T>,
): Promise<T> {
  if (hooks.target !== undefined) return fn(hooks.target);
  const target = await openTarget(opts);
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}

export function summaryBase(opts: BenchOptions, kind: BenchKind, target: BenchTarget) {
  return {
    name: opts.name ?? `${kind}-${opts.bodyBytes}`,
    kind,
    target: target.label,
    topic: opts.topic,
    bodyBytes: opts.bodyBytes,
    window: opts.window,
    batch: opts.batch,
    flush: target.embedded ? opts.flush : null,
  };
}

/** Sends for the configured count/duration, printing a line per second; returns the load and elapsed ms. */
export async function sendPhase(
  producer: Pick<Producer, 'send'>,
  opts: BenchOptions,
  sink: ProgressSink,
  label: string,
) {
  const load = new SendLoad(opts);
  let last = 0;
  const stop = everySecond((s) => {
    const w = load.rt.takeWindow();
    const tps = load.acked - last;
    last = load.acked;
    sink.line(
      `[${label} ${s}s] Send TPS: ${tps} | Max RT(ms): ${w.max.toFixed(3)} | Average RT(ms): ${w.avg.toFixed(3)} | Send Failed: ${load.failed}`,
    );
  });
  let elapsedMs: number;
  try {
    elapsedMs = await load.run(producer);
  } finally {
    stop();
    sink.end();
  }
  if (load.acked === 0 && load.firstError !== undefined) throw load.firstError;
  return { load, elapsedMs };
}

/** The summary of a produce phase: what `produce` and `grpc-produce` report alike. */
export async function produceSummary(
  opts: BenchOptions,
  kind: BenchKind,
  target: BenchTarget,
  load: SendLoad,
  elapsedMs: number,
  cpuUsPerMsg: number | null,
): Promise<BenchSummary> {
  const tps = (load.acked * 1000) / elapsedMs;
  return {
    ...summaryBase(opts, kind, target),
    durationMs: Math.round(elapsedMs),
    messages: load.acked,
    sendFailed: load.failed,
    tps: Math.round(tps),
    mbPerSec: round3((tps * opts.bodyBytes) / mib),
    sendRtMs: load.rt.summary(),
    produceTps: null,
    e2eMs: null,
    brokerRssBytes: await target.brokerRssBytes(),
    cpuUsPerMsg,
  };
}

/**
 * The summary of a run that drained what a send phase stored: `delivered` messages over `spanMs` (first to last),
 * the send phase's round trips and rate alongside.
 */
export async function drainSummary(
  opts: BenchOptions,
  kind: BenchKind,
  target: BenchTarget,
  load: SendLoad,
  sendMs: number,
  drained: { delivered: number; spanMs: number },
  cpuUsPerMsg: number | null,
): Promise<BenchSummary> {
  const tps = (drained.delivered * 1000) / drained.spanMs;
  return {
    ...summaryBase(opts, kind, target),
    durationMs: Math.round(drained.spanMs),
    messages: drained.delivered,
    sendFailed: load.failed + (load.acked - drained.delivered),
    tps: Math.round(tps),
    mbPerSec: round3((tps * opts.bodyBytes) / mib),
    sendRtMs: load.rt.summary(),
    produceTps: Math.round((load.acked * 1000) / sendMs),
    e2eMs: null,
    brokerRssBytes: await target.brokerRssBytes(),
    cpuUsPerMsg,
  };
}

/** Producer benchmark. */
export async function runProduce(opts: BenchOptions, hooks: RunHooks = {}): Promise<BenchSummary> {
  const sink = hooks.progress ?? progressSink();
  return withTarget(opts, hooks, async (target) => {
    const producer = producerOf(target);
    await producer.start();
    try {
      // One send first so route lookup and connection setup are not measured.
      await producer.send({ topic: opts.topic, body: Buffer.alloc(opts.bodyBytes) });
      const cpu = cpuMeter();
      const { load, elapsedMs } = await sendPhase(producer, opts, sink, 'produce');
      return produceSummary(opts, 'produce', target, load, elapsedMs, cpu(load.acked));
    } finally {
      await producer.shutdown();
    }
  });
}

/** Counts this run's messages as a PushConsumer delivers them, with born → handler latency. */
class Receiver {
  e2e = new LatencyRecorder();
  received = 0;
  firstAt = 0;
  lastAt = 0;
  readonly consumer: PushConsumer;

  constructor(
    target: BenchTarget,
    topic: string,
    fromMs: number,
    private owns: (b: Buffer) => boolean,
  ) {
    this.consumer = new PushConsumer({
      nameServer: target.nameServer,
      group: consumerGroup(),
      consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_TIMESTAMP,
      consumeTimestampMs: fromMs,
      consumeConcurrency: 64,
      subscriptions: { [topic]: '*' },
      handler: (msg: ReceivedMessage) => this.onMessage(msg.body),
    });
  }

  private onMessage(body: Buffer): void {
    if (!this.owns(body)) return;
    const now = nowMs();
    this.e2e.record(now - body.readDoubleLE(0));
    this.received++;
    if (this.firstAt === 0) this.firstAt = now;
    this.lastAt = now;
  }

  /** Starts counting afresh, only bodies `owns` accepts. */
  reset(owns: (b: Buffer) => boolean): void {
    this.owns = owns;
    this.e2e = new LatencyRecorder();
    this.received = 0;
    this.firstAt = 0;
    this.lastAt = 0;
  }
}

async function startReceiver(target: BenchTarget, topic: string, owns: (b: Buffer) => boolean, fromMs: number) {
  const r = new Receiver(target, topic, fromMs, owns);
  await r.consumer.start();
  return r;
}

/** Waits until `done()` or the grace period ends, printing consume progress each second. */
async function drain(r: Receiver, expected: number, sink: ProgressSink, label: string, graceMs: number) {
  let last = r.received;
  const stop = everySecond((s) => {
    const w = r.e2e.takeWindow();
    const n = r.received;
    sink.line(
      `[${label} ${s}s] Consume TPS: ${n - last} | AVG(B2C) RT(ms): ${w.avg.toFixed(3)} | MAX(B2C) RT(ms): ${w.max.toFixed(3)} | received ${n}/${expected}`,
    );
    last = n;
  });
  const deadline = performance.now() + graceMs;
  try {
    while (r.received < expected && performance.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
  } finally {
    stop();
    sink.end();
  }
}

/** Consumer benchmark: fills a backlog with the send load, then drains it with a fresh consumer group. */
export async function runConsume(opts: BenchOptions, hooks: RunHooks = {}): Promise<BenchSummary> {
  const sink = hooks.progress ?? progressSink();
  return withTarget(opts, hooks, async (target) => {
    const producer = producerOf(target);
    await producer.start();
    const fromMs = Date.now() - 1000;
    let load: SendLoad;
    let sendMs: number;
    try {
      ({ load, elapsedMs: sendMs } = await sendPhase(producer, opts, sink, 'fill'));
    } finally {
      await producer.shutdown();
    }
    const cpu = cpuMeter();
    const r = await startReceiver(target, opts.topic, (b) => load.owns(b), fromMs);
    let cpuUsPerMsg: number | null;
    try {
      await drain(r, load.acked, sink, 'consume', Math.max(drainGraceMs, sendMs * 3));
      cpuUsPerMsg = cpu(r.received);
    } finally {
      await r.consumer.shutdown();
    }
    const spanMs = Math.max(1, r.lastAt - r.firstAt);
    return drainSummary(opts, 'consume', target, load, sendMs, { delivered: r.received, spanMs }, cpuUsPerMsg);
  });
}

/** Waits until a probe message makes the round trip, so rebalance and first pulls are not measured. */
async function warmUp(producer: Producer, r: Receiver, topic: string, probe: SendLoad): Promise<void> {
  const deadline = performance.now() + warmupMs;
  while (r.received === 0 && performance.now() < deadline) {
    await producer.send({ topic, body: probe.body() });
    await new Promise((ok) => setTimeout(ok, warmupProbeMs));
  }
  if (r.received === 0) throw new Error(`e2e warm-up: no message came back within ${warmupMs} ms`);
}

/** End-to-end benchmark: a consumer runs while the send load runs; latency = send start → handler. */
export async function runE2e(opts: BenchOptions, hooks: RunHooks = {}): Promise<BenchSummary> {
  const sink = hooks.progress ?? progressSink();
  return withTarget(opts, hooks, async (target) => {
    const producer = producerOf(target);
    await producer.start();
    const load = new SendLoad(opts);
    const probe = new SendLoad(opts);
    const r = await startReceiver(target, opts.topic, (b) => probe.owns(b), Date.now() - 1000);
    try {
      await warmUp(producer, r, opts.topic, probe);
      r.reset((b) => load.owns(b));
      let last = 0;
      const stop = everySecond((s) => {
        const w = load.rt.takeWindow();
        const c = r.e2e.takeWindow();
        sink.line(
          `[e2e ${s}s] Send TPS: ${load.acked - last} | Average RT(ms): ${w.avg.toFixed(3)} | Consume TPS: ${c.count} | AVG(B2C) RT(ms): ${c.avg.toFixed(3)} | MAX(B2C) RT(ms): ${c.max.toFixed(3)}`,
        );
        last = load.acked;
      });
      const sendStart = nowMs();
      const cpu = cpuMeter();
      let sendMs: number;
      try {
        sendMs = await load.run(producer);
      } finally {
        stop();
        sink.end();
      }
      const deadline = performance.now() + drainGraceMs;
      while (r.received < load.acked && performance.now() < deadline) {
        await new Promise((ok) => setTimeout(ok, 20));
      }
      const got = r.received;
      const cpuUsPerMsg = cpu(got);
      const spanMs = Math.max(1, r.lastAt - sendStart);
      const tps = (got * 1000) / spanMs;
      return {
        ...summaryBase(opts, 'e2e', target),
        durationMs: Math.round(spanMs),
        messages: got,
        sendFailed: load.failed + (load.acked - got),
        tps: Math.round(tps),
        mbPerSec: round3((tps * opts.bodyBytes) / mib),
        sendRtMs: load.rt.summary(),
        produceTps: Math.round((load.acked * 1000) / sendMs),
        e2eMs: r.e2e.summary(),
        brokerRssBytes: await target.brokerRssBytes(),
        cpuUsPerMsg,
      };
    } finally {
      await producer.shutdown();
      await r.consumer.shutdown();
    }
  });
}
