/**
 * Producer (RocketMQ's DefaultMQProducer): sync, async, oneway and batch sends over SEND_MESSAGE_V2 /
 * SEND_BATCH_MESSAGE, with queue selection for ordered messages, retries on another broker, an overall send
 * timeout and latency-based broker avoidance.
 */

import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, TsRocketError } from '../common/errors.js';
import { SysFlag } from '../common/message.js';
import { encodedProperty, encodeProperties, Prop, replyMessageFlag } from '../common/properties.js';
import { isRetryTopic } from '../common/topics.js';
import { assertGroupName } from '../common/validate.js';
import { ResponseCode } from '../remoting/codes.js';
import { RemotingResponseError, RemotingTimeoutError } from '../remoting/errors.js';
import { batchMessagesMax, encodeBatch } from './batch.js';
import { giveBackBatchBuffer } from './batch-buffers.js';
import { type SendHeader, type SendResponse, SendStatus } from './client-api.js';
import { ClientInstance, type ClientOptions } from './client-instance.js';
import { SplitBatchRefusedError } from './errors.js';
import { FaultStrategy } from './fault-strategy.js';
import {
  bodyBytesMaxDefault,
  compressBodyBytesMinDefault,
  type Message,
  toWireMessage,
  validateMessage,
} from './message.js';
import type { MessageQueue } from './message-queue.js';
import { parseNameServerList } from './name-server.js';
import { selectByHash } from './queue-selector.js';
import type { ReplyMessage } from './request-reply.js';
import { type BackoffPolicy, withRetries } from './retry.js';
import {
  accumulatorOf,
  type BatchAnswer,
  type BatchLimits,
  type BatchTransport,
  batchMaxBytesDefault,
  batchMaxMessagesDefault,
  MemberKind,
  type PreparedSend,
  prepareForBatch,
  type SendAccumulator,
} from './send-accumulator.js';
import { cachedPublishQueues, publishQueuesOf, selectQueue } from './send-queues.js';
import { type SendCallback, type SendOptions, SendResult } from './send-result.js';
import { type ResolvedTraceOptions, resolveTraceOptions, type TraceOption } from './trace/dispatcher.js';
import { startTracer, type Tracer, traceProducerGroupOf } from './trace/tracer.js';

export { SendStatus } from './client-api.js';
export { type SendCallback, type SendOptions, SendResult, type SendResultJson } from './send-result.js';

export interface ProducerOptions extends ClientOptions {
  /** Producer group; `DEFAULT_PRODUCER` when absent. */
  group?: string;
  /** Overall budget of one send, all retries included (ms). Default 3000. */
  sendTimeoutMs?: number;
  /** Extra attempts (on another broker) after a retriable failure. Default 2. */
  retryTimesWhenSendFailed?: number;
  /** Also retry when the broker stored the message but not durably/replicated (status ≠ SEND_OK). */
  retryAnotherBrokerWhenNotStoreOk?: boolean;
  /** Bodies of at least this many bytes are zlib-compressed. Default 4096. */
  compressBodyBytesMin?: number;
  /** Largest body accepted. Default 4 MiB. */
  bodyBytesMax?: number;
  /** Avoid brokers that were slow or failing for a while. Default true. */
  sendLatencyFaultEnable?: boolean;
  /** Back-off between attempts. */
  backoff?: BackoffPolicy;
  /**
   * Coalesce plain sends (no queue, selector, sharding key or delay level; body below compressBodyBytesMin;
   * not a retry topic) issued in the same event-loop turn into one SEND_BATCH_MESSAGE per topic. No linger: a
   * batch leaves at the end of the turn that filled it (or at once when full), so a lone send waits for nothing
   * but the end of the turn and one send per turn goes out as a plain SEND_MESSAGE_V2. Each send still resolves
   * with its own SendResult (msgId, offsetMsgId, queueOffset) and fails or is retried on another broker as a
   * single send would, together with its batch. Producers of one client instance (all producers without an
   * instanceName, per NameServer list) share batches. Default true.
   */
  autoBatch?: boolean;
  /** Most messages in one automatic batch. Default 256. */
  batchMaxMessages?: number;
  /** Largest body of one automatic batch, bytes. Default 1 MiB. */
  batchMaxBytes?: number;
  /**
   * Message trace (RocketMQ's enableMsgTrace): after each send a Pub record (and after END_TRANSACTION an
   * EndTransaction record) goes, batched and asynchronously, to RMQ_SYS_TRACE_TOPIC or `{ topic }`. A trace
   * never delays or fails a send; records past a full queue are dropped and counted. Default off.
   */
  trace?: TraceOption;
}

const sharedInstanceNames = new Map<string, string>();

/**
 * Producers without an instanceName share one client instance (one connection per broker) per NameServer list
 * in a process, as RocketMQ's producers share their MQClientInstance: concurrent sends of many producers then
 * leave in one write and can share a batch.
 */
function sharedProducerInstanceName(nameServer: string): string {
  let name = sharedInstanceNames.get(nameServer);
  if (name === undefined) {
    name = `${process.pid}#producer-${sharedInstanceNames.size + 1}`;
    sharedInstanceNames.set(nameServer, name);
  }
  return name;
}

/** Header properties of a batch (each message carries its own). */
const batchProperties = encodedProperty(Prop.waitStoreMsgOk, 'true');
/**
 * A batch with delayed or timer members: a DELAY in the header makes RocketMQ's broker refuse the batch
 * (MESSAGE_ILLEGAL) rather than store the members' own DELAY and timer properties unscheduled. tsrocket's broker
 * reads only each member's properties.
 */
const scheduledBatchProperties = batchProperties + encodedProperty(Prop.delayLevel, '1');
/** How long a broker that refused a batch of delayed, timer or half messages is sent their members one by one. */
const splitRefusalMemoryMs = 10 * 60_000;

type SendMode = 'sync' | 'oneway';

interface Outgoing {
  topic: string;
  body: Buffer;
  /** A Map, or the encoded string when it needs no header rewriting (not a retry topic). */
  properties: Map<string, string> | string;
  sysFlag: number;
  flag: number;
  batch: boolean;
  msgId: string;
  /** A request-reply reply (MSG_TYPE "reply"): sent with SEND_REPLY_MESSAGE_V2. */
  reply?: boolean;
  /** An automatic batch with delayed, timer or half members (MemberKind bits). */
  splitKinds?: number;
  /** The answer's `memberQueues` (a batch the broker split). */
  memberQueues?: string | undefined;
  /** Attempts that handed the body to a connection: a batch body answered after one goes back to its pool. */
  writes: number;
}

export class Producer {
  readonly group: string;
  private readonly opts: ProducerOptions;
  private readonly fault: FaultStrategy;
  private instance: ClientInstance | undefined;
  private sendWhichQueue = Math.floor(Math.random() * 1024);
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly batchBounds: { maxMessages: number; maxBytes: number } | undefined;
  private readonly limits: BatchLimits;
  private readonly transport: BatchTransport;
  private accumulator: SendAccumulator | undefined;
  private readonly traceOpts: ResolvedTraceOptions | undefined;
  private tracerOf: Tracer | undefined;
  /** Brokers that refused a batch of delayed, timer or half messages (RocketMQ's), until when (ms). */
  private readonly splitRefusedUntilMs = new Map<string, number>();

  constructor(opts: ProducerOptions) {
    this.opts = opts;
    this.group = opts.group ?? 'DEFAULT_PRODUCER';
    assertGroupName(this.group);
    this.traceOpts = resolveTraceOptions(opts.trace);
    parseNameServerList(opts.nameServer);
    this.fault = new FaultStrategy(opts.sendLatencyFaultEnable ?? true);
    this.limits = {
      bodyBytesMax: opts.bodyBytesMax ?? bodyBytesMaxDefault,
      compressBodyBytesMin: opts.compressBodyBytesMin ?? compressBodyBytesMinDefault,
      sendTimeoutMs: opts.sendTimeoutMs ?? 3000,
    };
    this.transport = {
      sendSingle: (s) => this.sendPreparedSingle(s),
      sendBatch: (topic, body, deadlineMs, kinds) => this.sendPreparedBatch(topic, body, deadlineMs, kinds),
      track: (p) => {
        // Only the shutdown wait: each member's caller gets its own outcome.
        this.track(p).catch(() => undefined);
      },
    };
    if (opts.autoBatch ?? true) {
      const maxMessages = opts.batchMaxMessages ?? batchMaxMessagesDefault;
      const maxBytes = opts.batchMaxBytes ?? batchMaxBytesDefault;
      if (!(Number.isInteger(maxMessages) && maxMessages >= 1 && maxMessages <= batchMessagesMax)) {
        throw new InvalidArgumentError(`batchMaxMessages must be an integer 1-${batchMessagesMax}`);
      }
      if (!(maxBytes > 0)) throw new InvalidArgumentError('batchMaxBytes must be positive');
      this.batchBounds = { maxMessages, maxBytes };
    }
  }

  /** Joins the shared client instance and announces the group to brokers on the next heartbeat. */
  async start(): Promise<void> {
    if (this.instance !== undefined) return;
    this.instance = ClientInstance.acquire({
      ...this.opts,
      instanceName: this.opts.instanceName ?? sharedProducerInstanceName(this.opts.nameServer),
    });
    this.instance.registerProducer(this.group);
    const b = this.batchBounds;
    if (b !== undefined) this.accumulator = accumulatorOf(this.instance, b.maxMessages, b.maxBytes);
    if (this.traceOpts !== undefined) {
      const inst = this.instance;
      const traceProducer = new Producer({
        ...this.opts,
        group: traceProducerGroupOf(this.group),
        trace: false,
        autoBatch: false,
        instanceName: undefined,
      });
      this.tracerOf = await startTracer(
        this.traceOpts,
        this.group,
        inst.clientId.slice(0, inst.clientId.indexOf('@')),
        (brokerName) => inst.masterAddr(brokerName),
        traceProducer,
      );
    }
  }

  /** The message tracer, when `trace` is on (its dispatcher's counters: `tracer.dispatcher.stats`). */
  get tracer(): Tracer | undefined {
    return this.tracerOf;
  }

  /** Waits for async sends, unregisters the group and releases the instance. */
  async shutdown(): Promise<void> {
    const inst = this.instance;
    if (inst === undefined) return;
    this.accumulator?.flushAll();
    await Promise.allSettled([...this.inFlight]);
    await this.tracerOf?.close();
    this.tracerOf = undefined;
    this.instance = undefined;
    await inst.unregister('producer', this.group);
    await inst.release();
  }

  /** Sends one message (or a batch of messages of one topic) and resolves when the broker answered. */
  send(msg: Message | readonly Message[], options?: SendOptions): Promise<SendResult>;
  /** Sends asynchronously and reports through `callback`. */
  send(msg: Message, callback: SendCallback): void;
  send(msg: Message | readonly Message[], arg?: SendOptions | SendCallback): Promise<SendResult> | undefined {
    if (typeof arg === 'function') {
      this.sendAsync(msg as Message, undefined, arg);
      return undefined;
    }
    if (Array.isArray(msg)) return this.traced(msg, this.track(this.sendBatch(msg, arg ?? {})));
    const one = msg as Message;
    return this.traced([one], this.accumulated(one, arg) ?? this.track(this.sendOne(one, arg ?? {}, 'sync')));
  }

  /** Starts a send without waiting; the result goes to `callback` or the returned promise. */
  sendAsync(msg: Message, options?: SendOptions, callback?: SendCallback): Promise<SendResult> {
    const p = this.traced(
      [msg],
      this.accumulated(msg, options) ?? this.track(this.sendOne(msg, options ?? {}, 'sync')),
    );
    if (callback !== undefined) {
      p.then(
        (r) => callback(null, r),
        (err: Error) => callback(err),
      );
    }
    return p;
  }

  /** Writes the message to one broker without waiting for an answer (no retries, no result). */
  async sendOneway(msg: Message, options: SendOptions = {}): Promise<void> {
    await this.traced([msg], this.track(this.sendOne(msg, options, 'oneway')));
  }

  /** `p`, with a Pub record per message when it succeeds and tracing is on (a failed send has no record). */
  private traced(msgs: readonly Message[], p: Promise<SendResult>): Promise<SendResult> {
    const tracer = this.tracerOf;
    if (tracer === undefined) return p;
    const startedMs = Date.now();
    p.then(
      (r) => tracer.sent(msgs, r, startedMs),
      () => undefined,
    );
    return p;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  private requireInstance(): ClientInstance {
    if (this.instance === undefined) throw new TsRocketError(`producer ${this.group} is not started`);
    return this.instance;
  }

  /** The send through the accumulator, or undefined when the message must go alone. */
  private accumulated(msg: Message, options: SendOptions | undefined): Promise<SendResult> | undefined {
    const acc = this.accumulator;
    if (acc === undefined || this.instance === undefined) return undefined;
    let prepared: PreparedSend | undefined;
    try {
      prepared = prepareForBatch(msg, options, this.limits);
    } catch (err) {
      return Promise.reject(err);
    }
    if (prepared === undefined) return undefined;
    return acc.add(prepared, this.transport);
  }

  private sendPreparedSingle(s: PreparedSend): Promise<SendResult> {
    const out: Outgoing = {
      topic: s.topic,
      body: s.body,
      properties: s.properties,
      sysFlag: 0,
      flag: s.flag,
      batch: false,
      msgId: s.uniqId,
      writes: 0,
    };
    return this.dispatch(out, undefined, {}, 'sync', s.deadlineMs);
  }

  private async sendPreparedBatch(
    topic: string,
    body: Buffer,
    deadlineMs: number,
    kinds: number,
  ): Promise<BatchAnswer> {
    const out: Outgoing = {
      topic,
      body,
      properties: (kinds & MemberKind.scheduled) !== 0 ? scheduledBatchProperties : batchProperties,
      // Half members: PREPARED in the header, which RocketMQ refuses in a batch and tsrocket applies to each.
      sysFlag: (kinds & MemberKind.prepared) !== 0 ? SysFlag.transactionPreparedType : 0,
      flag: 0,
      batch: true,
      msgId: '',
      writes: 0,
    };
    if (kinds !== MemberKind.plain) out.splitKinds = kinds;
    const result = await this.dispatch(out, undefined, {}, 'sync', deadlineMs);
    if (out.writes === 1) giveBackBatchBuffer(body);
    return { result, memberQueues: out.memberQueues };
  }

  /** True while `brokerName` is remembered as refusing batches of delayed, timer or half messages. */
  private refusesSplit(brokerName: string): boolean {
    const until = this.splitRefusedUntilMs.get(brokerName);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.splitRefusedUntilMs.delete(brokerName);
    return false;
  }

  private async sendOne(msg: Message, options: SendOptions, mode: SendMode): Promise<SendResult> {
    validateMessage(msg, this.opts.bodyBytesMax ?? bodyBytesMaxDefault);
    const wire = toWireMessage(msg, this.opts.compressBodyBytesMin ?? compressBodyBytesMinDefault);
    // The key travels with the message, for consumers that keep order per key (orderlyScope 'shardingKey').
    let encoded = wire.encodedProperties;
    if (options.shardingKey !== undefined && !wire.properties.has(Prop.shardingKey)) {
      wire.properties.set(Prop.shardingKey, options.shardingKey);
      encoded = encodeProperties(wire.properties);
    }
    const out: Outgoing = {
      topic: wire.topic,
      body: wire.body,
      // Encoded once here unless sendToQueue must move retry counters from the properties to the header.
      properties: isRetryTopic(wire.topic) ? wire.properties : encoded,
      sysFlag: wire.sysFlag,
      flag: wire.flag,
      batch: false,
      msgId: wire.uniqId,
      writes: 0,
    };
    if (wire.properties.get(Prop.msgType) === replyMessageFlag) out.reply = true;
    return this.dispatch(out, msg, options, mode);
  }

  /**
   * Sends `msg` as a request and resolves with its reply (RocketMQ's `request`): a responder consuming the topic
   * answers with `createReply(msg, body)` sent by its producer. Rejects with RequestTimeoutError when no reply
   * came within `timeoutMs` (default sendTimeoutMs), or with the send's error when the request was not sent.
   */
  async request(msg: Message, timeoutMs = this.opts.sendTimeoutMs ?? 3000): Promise<ReplyMessage> {
    if (!(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
      throw new InvalidArgumentError(`request timeout must be a positive integer (ms), got ${timeoutMs}`);
    }
    const inst = this.requireInstance();
    const correlationId = randomUUID();
    const properties = {
      ...msg.properties,
      [Prop.correlationId]: correlationId,
      [Prop.replyToClient]: inst.clientId,
      [Prop.ttl]: String(timeoutMs),
    };
    const deadlineMs = Date.now() + timeoutMs;
    const reply = inst.replies.expect(correlationId, msg.topic, timeoutMs);
    // It may time out while the send is still under way: handled here, still rejected to the caller.
    reply.catch(() => undefined);
    try {
      // The broker pushes the reply to a connection this client registered on: announce it first.
      await inst.route(msg.topic);
      await inst.heartbeatUnseen();
      await this.track(
        this.sendOne({ ...msg, properties }, { timeoutMs: Math.max(1, deadlineMs - Date.now()) }, 'sync'),
      );
    } catch (err) {
      inst.replies.cancel(correlationId, err instanceof Error ? err : new TsRocketError(String(err)));
    }
    return reply;
  }

  private async sendBatch(msgs: readonly Message[], options: SendOptions): Promise<SendResult> {
    const batch = encodeBatch(msgs, this.opts.bodyBytesMax ?? bodyBytesMaxDefault);
    const properties = new Map([[Prop.waitStoreMsgOk, 'true']]);
    const out: Outgoing = {
      topic: batch.topic,
      body: batch.body,
      properties,
      sysFlag: 0,
      flag: 0,
      batch: true,
      msgId: batch.msgId,
      writes: 0,
    };
    const result = await this.dispatch(out, msgs[0] as Message, options, 'sync');
    if (out.writes === 1) giveBackBatchBuffer(batch.body);
    return result;
  }

  private async dispatch(
    out: Outgoing,
    msg: Message | undefined,
    options: SendOptions,
    mode: SendMode,
    deadlineMs = Date.now() + (options.timeoutMs ?? this.opts.sendTimeoutMs ?? 3000),
  ): Promise<SendResult> {
    const inst = this.requireInstance();
    // A known route is used without an await, so the request is written in the turn that encoded it.
    const queues = cachedPublishQueues(inst, out.topic) ?? (await publishQueuesOf(inst, out.topic));
    const fixed =
      options.queue ??
      (options.selector !== undefined
        ? options.selector(queues, msg as Message, options.arg)
        : options.shardingKey !== undefined
          ? selectByHash(queues, msg as Message, options.shardingKey)
          : msg?.messageGroup !== undefined
            ? selectByHash(queues, msg, msg.messageGroup)
            : undefined);
    if (fixed !== undefined) {
      // Ordered sends stay on their queue: no retry elsewhere.
      return this.sendToQueue(inst, out, fixed, mode, deadlineMs);
    }
    let lastBroker: string | undefined;
    const attempts = mode === 'oneway' ? 1 : 1 + (this.opts.retryTimesWhenSendFailed ?? 2);
    const run = (_attempt: number) => {
      const mq = this.selectQueue(queues, lastBroker);
      lastBroker = mq.brokerName;
      return this.sendToQueue(inst, out, mq, mode, deadlineMs);
    };
    return withRetries(run, { what: `send to topic ${out.topic}`, attempts, deadlineMs, backoff: this.opts.backoff });
  }

  /** Round-robin over queues, skipping avoided brokers and the broker that just failed while others remain. */
  private selectQueue(queues: readonly MessageQueue[], lastBroker: string | undefined): MessageQueue {
    return selectQueue(queues, this.sendWhichQueue++, lastBroker, this.fault);
  }

  private async sendToQueue(
    inst: ClientInstance,
    out: Outgoing,
    mq: MessageQueue,
    mode: SendMode,
    deadlineMs: number,
  ): Promise<SendResult> {
    const remainingMs = deadlineMs - Date.now();
    if (remainingMs <= 0)
      throw new RemotingTimeoutError(`send to topic ${out.topic} timed out before reaching ${mq.brokerName}`);
    let addr = inst.masterAddr(mq.brokerName);
    if (addr === undefined) {
      await inst.updateRoute(out.topic);
      addr = inst.masterAddr(mq.brokerName);
    }
    if (addr === undefined)
      throw new TsRocketError(`broker ${mq.brokerName} has no master address`, { retriable: true });
    if (out.splitKinds !== undefined && this.refusesSplit(mq.brokerName)) {
      throw new SplitBatchRefusedError(mq.brokerName);
    }
    let reconsumeTimes = 0;
    let maxReconsumeTimes: number | undefined;
    let encodedProperties: string;
    if (typeof out.properties === 'string') encodedProperties = out.properties;
    else {
      const properties = new Map(out.properties);
      if (isRetryTopic(out.topic)) {
        // Retry messages carry their counters in the header, not as properties.
        reconsumeTimes = Number(properties.get(Prop.reconsumeTime) ?? 0);
        const max = properties.get(Prop.maxReconsumeTimes);
        maxReconsumeTimes = max === undefined ? undefined : Number(max);
        properties.delete(Prop.reconsumeTime);
        properties.delete(Prop.maxReconsumeTimes);
      }
      encodedProperties = encodeProperties(properties);
    }
    const header: SendHeader = {
      producerGroup: this.group,
      topic: out.topic,
      queueId: mq.queueId,
      sysFlag: out.sysFlag,
      bornTimestamp: Date.now(),
      flag: out.flag,
      properties: encodedProperties,
      reconsumeTimes,
      maxReconsumeTimes,
      batch: out.batch,
      brokerName: mq.brokerName,
    };
    const started = Date.now();
    let resp: SendResponse | undefined;
    out.writes++;
    try {
      resp = await inst.api.send(addr, header, out.body, remainingMs, mode === 'oneway', out.reply === true);
    } catch (err) {
      this.fault.update(mq.brokerName, Date.now() - started, err instanceof TsRocketError && err.retriable);
      if (
        out.splitKinds !== undefined &&
        err instanceof RemotingResponseError &&
        err.responseCode === ResponseCode.MESSAGE_ILLEGAL
      ) {
        // RocketMQ's answer to a batch with a DELAY or PREPARED header: its members go alone (send-accumulator.ts).
        this.splitRefusedUntilMs.set(mq.brokerName, Date.now() + splitRefusalMemoryMs);
        throw new SplitBatchRefusedError(mq.brokerName, err);
      }
      throw err;
    }
    this.fault.update(mq.brokerName, Date.now() - started, false);
    if (resp === undefined) {
      return new SendResult(SendStatus.SEND_OK, out.msgId, '', mq, -1n);
    }
    out.memberQueues = resp.memberQueues;
    if (resp.status !== SendStatus.SEND_OK && this.opts.retryAnotherBrokerWhenNotStoreOk) {
      throw new TsRocketError(`broker ${mq.brokerName} answered ${resp.status}`, { retriable: true });
    }
    return new SendResult(
      resp.status,
      out.msgId,
      resp.offsetMsgId,
      { topic: out.topic, brokerName: mq.brokerName, queueId: resp.queueId },
      resp.queueOffset,
      resp.transactionId,
    );
  }
}
