/**
 * Trace dispatcher (RocketMQ's AsyncTraceDispatcher): trace records wait in a bounded queue and leave in batches,
 * one trace message per batch, sent by a producer of the tracer's own. It never blocks or fails the traced send
 * or consume: a full queue drops the record (counted), a failed trace send is counted and forgotten.
 */
import { InvalidArgumentError } from '../../common/errors.js';
import { SystemTopic } from '../../common/topics.js';
import type { Message } from '../message.js';
import { encodeTraceRecord, type TraceRecord, traceKeysOf } from './trace-data.js';

/** Opt-in tracing of a producer or consumer: `true`, or where and how. */
export interface TraceOptions {
  /** Trace topic; default RMQ_SYS_TRACE_TOPIC (the broker creates it when traceTopicEnable is on). */
  topic?: string;
  /** Records waiting at most; more are dropped and counted. Default 2048 (RocketMQ's queueSize). */
  queueRecordsMax?: number;
  /** Records per trace message at most. Default 100. */
  batchRecordsMax?: number;
  /** Longest a record waits for its batch to fill (ms). Default 100 (RocketMQ's pollingTimeMil). */
  flushIntervalMs?: number;
}
export type TraceOption = boolean | TraceOptions;

export const traceQueueRecordsMaxDefault = 2048;
export const traceBatchRecordsMaxDefault = 100;
export const traceFlushIntervalMsDefault = 100;
/** A trace message body stays under RocketMQ's trace maxMsgSize (128 KiB). */
export const traceBodyBytesMax = 128 * 1024;
/** Keys of one trace message, in characters: well under the 32 KiB properties limit. */
export const traceKeysCharsMax = 16 * 1024;

export interface ResolvedTraceOptions {
  topic: string;
  queueRecordsMax: number;
  batchRecordsMax: number;
  flushIntervalMs: number;
}

/** The options in force, or undefined when tracing is off. Throws InvalidArgumentError on a bad value. */
export function resolveTraceOptions(o: TraceOption | undefined): ResolvedTraceOptions | undefined {
  if (o === undefined || o === false) return undefined;
  const given: TraceOptions = o === true ? {} : o;
  const r: ResolvedTraceOptions = {
    topic: given.topic ?? SystemTopic.trace,
    queueRecordsMax: given.queueRecordsMax ?? traceQueueRecordsMaxDefault,
    batchRecordsMax: given.batchRecordsMax ?? traceBatchRecordsMaxDefault,
    flushIntervalMs: given.flushIntervalMs ?? traceFlushIntervalMsDefault,
  };
  if (typeof r.topic !== 'string' || r.topic === '') throw new InvalidArgumentError('trace topic must be a name');
  for (const k of ['queueRecordsMax', 'batchRecordsMax', 'flushIntervalMs'] as const) {
    if (!(Number.isInteger(r[k]) && r[k] >= 1)) throw new InvalidArgumentError(`trace ${k} must be a positive integer`);
  }
  return r;
}

/** Counters of a dispatcher since it was made. */
export interface TraceStats {
  /** Records handed in. */
  recorded: number;
  /** Records dropped because the queue was full or the dispatcher closed. */
  dropped: number;
  /** Trace messages sent, and records in them. */
  messagesSent: number;
  recordsSent: number;
  /** Trace messages (and their records) whose send failed. */
  messagesFailed: number;
  recordsFailed: number;
}

export class TraceDispatcher {
  readonly stats: TraceStats = {
    recorded: 0,
    dropped: 0,
    messagesSent: 0,
    recordsSent: 0,
    messagesFailed: 0,
    recordsFailed: 0,
  };
  private queue: TraceRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private closed = false;

  constructor(
    readonly opts: ResolvedTraceOptions,
    private readonly send: (msg: Message) => Promise<unknown>,
  ) {}

  /** Queues a record; never throws, never waits. */
  add(r: TraceRecord): void {
    this.stats.recorded++;
    if (this.closed || this.queue.length >= this.opts.queueRecordsMax) {
      this.stats.dropped++;
      return;
    }
    this.queue.push(r);
    if (this.queue.length >= this.opts.batchRecordsMax) this.pump();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, this.opts.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Records waiting to be sent. */
  get pending(): number {
    return this.queue.length;
  }

  /** Sends what is queued (waiting at most `timeoutMs`) and refuses later records. */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    let timeout: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.flush(), expired]);
    clearTimeout(timeout);
  }

  /** Resolves when everything queued so far was sent (or failed). */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.pumping !== undefined) {
      this.pump();
      await this.pumping;
    }
  }

  /** One batch after another, one trace message in flight at a time. */
  private pump(): void {
    if (this.pumping !== undefined) return;
    this.pumping = (async () => {
      while (this.queue.length > 0) await this.sendBatch();
    })().finally(() => {
      this.pumping = undefined;
    });
  }

  private async sendBatch(): Promise<void> {
    let data = '';
    let bytes = 0;
    let keysChars = 0;
    const keys = new Set<string>();
    let n = 0;
    for (const r of this.queue) {
      if (n >= this.opts.batchRecordsMax) break;
      const encoded = encodeTraceRecord(r);
      const recordBytes = Buffer.byteLength(encoded);
      const recordKeys = traceKeysOf(r).filter((k) => !keys.has(k));
      const recordKeysChars = recordKeys.reduce((sum, k) => sum + k.length + 1, 0);
      // The first record always goes, whatever its size: the queue must drain.
      if (n > 0 && (bytes + recordBytes > traceBodyBytesMax || keysChars + recordKeysChars > traceKeysCharsMax)) break;
      data += encoded;
      bytes += recordBytes;
      keysChars += recordKeysChars;
      for (const k of recordKeys) keys.add(k);
      n++;
    }
    this.queue = this.queue.slice(n);
    try {
      await this.send({ topic: this.opts.topic, body: data, keys: [...keys] });
      this.stats.messagesSent++;
      this.stats.recordsSent += n;
    } catch {
      this.stats.messagesFailed++;
      this.stats.recordsFailed += n;
    }
  }
}
