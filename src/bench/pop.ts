/**
 * The POP benchmark: fill a one-queue topic (`<topic>-pop`) with `count` messages of the send load (default
 * 50 000 whatever the duration: draining is slower than filling), then let 4 SimpleConsumers of one group drain it
 * at once (receive up to 32, ack every one of them with one `ack(messages)`, receive again): the RocketMQ 5 way of
 * sharing one queue. Throughput counts
 * acked messages; `popRatioLine` sets it beside the pull consumer's run of the same suite.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsumeFromWhere, type PoppedMessage, SimpleConsumer } from '../client/index.js';
import type { BenchOptions } from './options.js';
import { type BenchSummary, everySecond, progressSink } from './report.js';
import { consumerGroup, cpuMeter, drainSummary, producerOf, type RunHooks, sendPhase, withTarget } from './runs.js';
import { ensureTopic } from './target.js';

/** SimpleConsumers sharing the one queue. */
export const popConsumers = 4;
const receiveBatch = 32;
/** Short, so the consumers notice the end of the backlog soon. */
const awaitDurationMs = 1000;
/** Long enough that no message comes back during the run. */
const invisibleDurationMs = 60_000;
const drainGraceMs = 30_000;
/** Messages the fill sends when no count is given. */
export const popBacklogDefault = 50_000;

export function popTopicOf(topic: string): string {
  return `${topic}-pop`;
}

interface Drain {
  acked: number;
  ackFailed: number;
  lastAt: number;
  firstError: unknown;
}

async function drainWith(
  c: SimpleConsumer,
  owns: (b: Buffer) => boolean,
  d: Drain,
  expected: number,
  deadline: number,
): Promise<void> {
  while (d.acked < expected && performance.now() < deadline) {
    let msgs: PoppedMessage[];
    try {
      msgs = await c.receive(receiveBatch, invisibleDurationMs);
    } catch (err) {
      d.firstError ??= err;
      await sleep(100);
      continue;
    }
    if (msgs.length === 0) continue;
    // Every message acked, in one call (one BATCH_ACK_MESSAGE): the SDK's way to ack what one receive() gave.
    const r = await c.ack(msgs);
    for (const m of r.acked) if (owns(m.body)) d.acked++;
    for (const f of r.failed) {
      if (!owns(f.message.body)) continue;
      d.ackFailed++;
      d.firstError ??= f.error;
    }
    d.lastAt = performance.now();
  }
}

/** POP benchmark (see the file comment). */
export async function runPop(opts: BenchOptions, hooks: RunHooks = {}): Promise<BenchSummary> {
  const sink = hooks.progress ?? progressSink();
  return withTarget(opts, hooks, async (target) => {
    const topic = popTopicOf(opts.topic);
    await ensureTopic(target.nameServer, topic, 1);
    const producer = producerOf(target);
    await producer.start();
    let fill: Awaited<ReturnType<typeof sendPhase>>;
    try {
      fill = await sendPhase(producer, { ...opts, topic, count: opts.count ?? popBacklogDefault }, sink, 'fill');
    } finally {
      await producer.shutdown();
    }
    const { load, elapsedMs: sendMs } = fill;
    const group = consumerGroup();
    const consumers = Array.from(
      { length: popConsumers },
      () =>
        new SimpleConsumer({
          nameServer: target.nameServer,
          group,
          subscriptions: { [topic]: '*' },
          awaitDurationMs,
          invisibleDurationMs,
          consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
        }),
    );
    await Promise.all(consumers.map((c) => c.start()));
    const d: Drain = { acked: 0, ackFailed: 0, lastAt: 0, firstError: undefined };
    let last = 0;
    const stop = everySecond((s) => {
      sink.line(
        `[pop ${s}s] Receive+Ack TPS: ${d.acked - last} | acked ${d.acked}/${load.acked} | ack failed ${d.ackFailed}`,
      );
      last = d.acked;
    });
    const cpu = cpuMeter();
    const started = performance.now();
    const deadline = started + Math.max(drainGraceMs, sendMs * 3);
    let cpuUsPerMsg: number | null;
    try {
      await Promise.all(consumers.map((c) => drainWith(c, (b) => load.owns(b), d, load.acked, deadline)));
      cpuUsPerMsg = cpu(d.acked);
    } finally {
      stop();
      sink.end();
      await Promise.all(consumers.map((c) => c.shutdown()));
    }
    if (d.acked === 0 && d.firstError !== undefined) throw d.firstError;
    const spanMs = Math.max(1, d.lastAt - started);
    const drained = { delivered: d.acked, spanMs };
    return { ...(await drainSummary(opts, 'pop', target, load, sendMs, drained, cpuUsPerMsg)), topic };
  });
}

/** "pop / pull consume" TPS and CPU ratios when a run has both, else undefined. */
export function popRatioLine(results: readonly BenchSummary[]): string | undefined {
  const pop = results.find((r) => r.kind === 'pop');
  const pull = results.find((r) => r.kind === 'consume');
  if (pop === undefined || pull === undefined || pull.tps === 0) return undefined;
  const cpu =
    pop.cpuUsPerMsg !== null && pull.cpuUsPerMsg !== null && pull.cpuUsPerMsg > 0
      ? `, CPU per message ${(pop.cpuUsPerMsg / pull.cpuUsPerMsg).toFixed(2)}×`
      : '';
  return `POP (${popConsumers} SimpleConsumers, one queue) / pull consume: TPS ${(pop.tps / pull.tps).toFixed(2)}${cpu}`;
}
