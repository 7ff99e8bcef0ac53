/**
 * The produce-side paths of `npm run bench:paths`, each against plain sends of the same client, size and window:
 * timer messages (deliverTimeMs), delay-level messages and transactional sends (half + COMMIT). One consumer
 * group reads every topic; bodies carry the due time (float64 ms, bytes 0-7, 0 when not delayed) and the run's
 * id (uint32, bytes 8-11), so each run counts its own deliveries, their lateness and any early one.
 */
import {
  ConsumeFromWhere,
  Producer,
  PushConsumer,
  type ReceivedMessage,
  TransactionProducer,
  TransactionState,
} from '../../src/client/index.js';
import { Prop } from '../../src/common/properties.js';
import { cpuMsOfPid, percentile, perSec, runWindow } from './window.js';

export const PathTopic = {
  plain: 'PathsPlain',
  /** Plain sends with autoBatch off: one request per message, as a Java client sends transactional or delayed ones. */
  single: 'PathsSingle',
  timer: 'PathsTimer',
  delay: 'PathsDelay',
  transaction: 'PathsTxn',
} as const;
export type TimedPath = keyof typeof PathTopic;

/** Delay level 1 is 1 s (messageDelayLevel's first entry); timer messages are due as far ahead. */
export const delayLevel = 1;
export const delayMs = 1000;
const stampBytes = 12;

interface Deliveries {
  count: number;
  lastAt: number;
  early: number;
  /** Receive − due at the consumer (delayed paths only). */
  consumerLateMs: number[];
  /** TIMER_DEQUEUE_MS − due (timer path only): when the broker put it into its real topic. */
  brokerLateMs: number[];
  /** The lateness split (timer path): due → fire scan (TIMER_DEQUEUE_MS), scan → stored, stored → received. */
  scanMs: number[];
  storeMs: number[];
  consumerMs: number[];
}

export interface TimedRun {
  path: TimedPath;
  round: number;
  messages: number;
  failed: number;
  /** Send phase: acked sends per second. */
  sendMs: number;
  sendPerSec: number;
  delivered: number;
  /** Delayed paths: delivered / (last delivery − first due); others: delivered / (last delivery − first send). */
  deliveredPerSec: number;
  lateMsP50?: number;
  lateMsP99?: number;
  lateMsMax?: number;
  brokerLateMsP99?: number;
  /**
   * Timer path: p50 / p99 of each part of the lateness: due → the fire step that took it (TIMER_DEQUEUE_MS), that
   * step → stored in the real topic (store time), stored → received by the bench's consumer.
   */
  lateSplitMs?: { scan: [number, number]; store: [number, number]; consumer: [number, number] };
  /** Plain paths: p50 / p99 of stored → received by the bench's consumer. */
  storedToReceivedMs?: [number, number];
  early: number;
  /** Broker process CPU over the send and delivery, per delivered message. */
  brokerCpuUsPerMsg: number;
  /** This (client) process's CPU over the same span, per delivered message: producers and the consumer. */
  clientCpuUsPerMsg: number;
}

export interface TimedOptions {
  namesrvAddr: string;
  brokerPid: number;
  messages: number;
  window: number;
  bodyBytes: number;
  /** How long a run waits for its last deliveries after its last send. */
  drainMsMax: number;
}

function p50p99(xs: number[]): [number, number] {
  xs.sort((x, y) => x - y);
  return [percentile(xs, 50), percentile(xs, 99)];
}

/** A producer, a transaction producer and one consumer of every path's topic. */
export class TimedPaths {
  private readonly producer: Producer;
  private readonly singleProducer: Producer;
  private readonly txProducer: TransactionProducer;
  private readonly consumer: PushConsumer;
  private readonly runs = new Map<number, Deliveries>();
  private nextRunId = 1;
  private readonly template: Buffer;
  /** Messages of each run (the warm-up round sends fewer). */
  messages: number;

  constructor(private readonly o: TimedOptions) {
    this.messages = o.messages;
    const common = { nameServer: o.namesrvAddr, clientIp: '127.0.0.1' };
    this.producer = new Producer({ ...common, group: 'PID_paths_bench' });
    this.singleProducer = new Producer({
      ...common,
      group: 'PID_paths_single',
      instanceName: 'paths-single',
      autoBatch: false,
    });
    this.txProducer = new TransactionProducer({
      ...common,
      group: 'PID_paths_txn',
      executeLocal: () => TransactionState.COMMIT,
      checkLocal: () => TransactionState.COMMIT,
    });
    this.consumer = new PushConsumer({
      ...common,
      group: 'GID_paths_bench',
      consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
      consumeConcurrency: 64,
      subscriptions: Object.fromEntries(Object.values(PathTopic).map((t) => [t, '*'])),
      handler: (m: ReceivedMessage) => this.onMessage(m),
    });
    this.template = Buffer.alloc(Math.max(o.bodyBytes, stampBytes), 0x70);
  }

  async start(): Promise<void> {
    await this.producer.start();
    await this.singleProducer.start();
    await this.txProducer.start();
    await this.consumer.start();
  }

  async shutdown(): Promise<void> {
    await this.consumer.shutdown().catch(() => undefined);
    await this.txProducer.shutdown().catch(() => undefined);
    await this.producer.shutdown().catch(() => undefined);
    await this.singleProducer.shutdown().catch(() => undefined);
  }

  /** One message per path, each waited for, so routes, connections and rebalance are not measured. */
  async warmUp(timeoutMs: number): Promise<void> {
    const id = this.nextRunId++;
    const d = this.track(id);
    await this.producer.send({ topic: PathTopic.plain, body: this.body(0, id) });
    await this.producer.send({
      topic: PathTopic.timer,
      body: this.body(Date.now() + 200, id),
      deliverTimeMs: Date.now() + 200,
    });
    await this.producer.send({
      topic: PathTopic.delay,
      body: this.body(Date.now() + delayMs, id),
      delayTimeLevel: delayLevel,
    });
    await this.txProducer.send({ topic: PathTopic.transaction, body: this.body(0, id) });
    await this.singleProducer.send({ topic: PathTopic.single, body: this.body(0, id) });
    const deadline = performance.now() + timeoutMs;
    while (d.count < 5) {
      if (performance.now() > deadline) throw new Error(`warm-up: ${d.count} of 5 messages came back`);
      await new Promise((ok) => setTimeout(ok, 20));
    }
  }

  private track(id: number): Deliveries {
    const d: Deliveries = {
      count: 0,
      lastAt: 0,
      early: 0,
      consumerLateMs: [],
      brokerLateMs: [],
      scanMs: [],
      storeMs: [],
      consumerMs: [],
    };
    this.runs.set(id, d);
    return d;
  }

  private body(due: number, runId: number): Buffer {
    const b = Buffer.allocUnsafe(this.template.length);
    this.template.copy(b);
    b.writeDoubleLE(due, 0);
    b.writeUInt32LE(runId, 8);
    return b;
  }

  private onMessage(m: ReceivedMessage): void {
    const now = Date.now();
    const b = m.body;
    if (b.length < stampBytes) return;
    const d = this.runs.get(b.readUInt32LE(8));
    if (d === undefined) return;
    d.count++;
    d.lastAt = now;
    const due = b.readDoubleLE(0);
    if (due === 0) {
      // Plain sends: the same consumer's share, stored → received, to set the timer path's against.
      d.consumerMs.push(now - m.storeTimestamp);
      return;
    }
    if (now < due) d.early++;
    d.consumerLateMs.push(now - due);
    // At the broker: when the timer fired it (TIMER_DEQUEUE_MS); a delay-level message's redelivery store time.
    const fired = m.properties.get(Prop.timerDequeueMs);
    if (fired !== undefined) {
      const firedMs = Number(fired);
      if (firedMs < due) d.early++;
      d.brokerLateMs.push(firedMs - due);
      const storedMs = m.storeTimestamp;
      d.scanMs.push(firedMs - due);
      d.storeMs.push(storedMs - firedMs);
      d.consumerMs.push(now - storedMs);
    } else if (m.properties.has(Prop.realTopic)) d.brokerLateMs.push(m.storeTimestamp - due);
  }

  private sendOne(path: TimedPath, id: number): () => Promise<unknown> {
    const topic = PathTopic[path];
    switch (path) {
      case 'plain':
        return () => this.producer.send({ topic, body: this.body(0, id) });
      case 'single':
        return () => this.singleProducer.send({ topic, body: this.body(0, id) });
      case 'timer':
        return () => {
          const due = Date.now() + delayMs;
          return this.producer.send({ topic, body: this.body(due, id), deliverTimeMs: due });
        };
      case 'delay':
        // Due 1 s after the send starts: the broker counts from its store time, a little later.
        return () =>
          this.producer.send({ topic, body: this.body(Date.now() + delayMs, id), delayTimeLevel: delayLevel });
      case 'transaction':
        return async () => {
          const r = await this.txProducer.send({ topic, body: this.body(0, id) });
          if (r.state !== TransactionState.COMMIT) throw new Error(`transaction ended ${r.state}`);
        };
    }
  }

  /** Sends `messages` on `path` with the window, then waits for their delivery. */
  async run(path: TimedPath, round: number): Promise<TimedRun> {
    const id = this.nextRunId++;
    const d = this.track(id);
    const cpu0 = await cpuMsOfPid(this.o.brokerPid);
    const own0 = process.cpuUsage();
    const sentAt = Date.now();
    const w = await runWindow(this.messages, this.o.window, this.sendOne(path, id));
    const deadline = performance.now() + this.o.drainMsMax;
    while (d.count < w.acked && performance.now() < deadline) await new Promise((ok) => setTimeout(ok, 10));
    const cpuMs = (await cpuMsOfPid(this.o.brokerPid)) - cpu0;
    const own = process.cpuUsage(own0);
    this.runs.delete(id);
    const delayed = path === 'timer' || path === 'delay';
    const from = delayed ? sentAt + delayMs : sentAt;
    const lat = d.consumerLateMs.sort((x, y) => x - y);
    const blat = d.brokerLateMs.sort((x, y) => x - y);
    return {
      path,
      round,
      messages: w.acked,
      failed: w.failed,
      sendMs: Math.round(w.ms),
      sendPerSec: Math.round(perSec(w.acked, w.ms)),
      delivered: d.count,
      deliveredPerSec: Math.round(perSec(d.count, d.lastAt - from)),
      ...(delayed
        ? {
            lateMsP50: percentile(lat, 50),
            lateMsP99: percentile(lat, 99),
            lateMsMax: lat[lat.length - 1] ?? Number.NaN,
          }
        : {}),
      ...(delayed ? { brokerLateMsP99: percentile(blat, 99) } : {}),
      ...(d.scanMs.length > 0
        ? { lateSplitMs: { scan: p50p99(d.scanMs), store: p50p99(d.storeMs), consumer: p50p99(d.consumerMs) } }
        : {}),
      ...(!delayed && d.consumerMs.length > 0 ? { storedToReceivedMs: p50p99(d.consumerMs) } : {}),
      early: d.early,
      brokerCpuUsPerMsg: Number(((cpuMs * 1000) / Math.max(1, d.count)).toFixed(1)),
      clientCpuUsPerMsg: Number(((own.user + own.system) / Math.max(1, d.count)).toFixed(1)),
    };
  }
}
