/**
 * PushConsumer (RocketMQ's DefaultMQPushConsumer): subscribe to topics with tag expressions, give it a handler,
 * and it long-polls the queues this member owns, calls the handler with a concurrency limit, commits offsets,
 * and redelivers failed messages through `%RETRY%<group>`. With `orderly: true` (MessageListenerOrderly) each
 * queue is locked at the broker and consumed one message at a time in order, failures retried locally.
 */

import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, TsRocketError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { Prop } from '../common/properties.js';
import { retryTopicOf } from '../common/topics.js';
import { assertGroupName, assertTopicName } from '../common/validate.js';
import type { QueueOffset } from '../remoting/protocol/reset-offset.js';
import { type AllocateStrategy, type AllocateStrategyName, strategyByName } from './allocate.js';
import { checkSubscriptionsInBrokers } from './check-subscriptions.js';
import { ClientInstance, type ClientOptions, uniqueInstanceName } from './client-instance.js';
import { ConsumeService, type MessageHandler } from './consume-service.js';
import { ConsumeFromWhere, type ConsumerData, MessageModel } from './heartbeat.js';
import { clientLogger } from './logger.js';
import { type MessageQueue, queueKey } from './message-queue.js';
import { parseNameServerList } from './name-server.js';
import { BrokerOffsetStore, LocalFileOffsetStore, type OffsetStore } from './offset-store.js';
import {
  type ConsumeOrderlyService,
  orderlyMaxReconsumeTimesDefault,
  suspendMsDefault,
} from './orderly-consume-service.js';
import { OrderlyQueues } from './orderly-queues.js';
import { cachedBytesMaxDefault, cachedMessagesMaxDefault, ProcessQueue } from './process-queue.js';
import { Producer } from './producer.js';
import { runPullLoop } from './pull-loop.js';
import { Rebalancer } from './rebalancer.js';
import type { ReceivedMessage } from './received-message.js';
import { computeStartOffset } from './start-offset.js';
import { buildSubscription, type MessageSelector, type SubscriptionData } from './subscription.js';
import { type ResolvedTraceOptions, resolveTraceOptions, type TraceOption } from './trace/dispatcher.js';
import { startTracer, type Tracer, traceProducerGroupOf } from './trace/tracer.js';

/** At start, how long to wait for subscribed topics (and the retry topic) to appear in the routes. */
const startRouteWaitMs = 1000;
const routePollMs = 100;
/** At shutdown, how long running handlers may take before offsets are committed anyway. */
const shutdownDrainMs = 10_000;
/** RocketMQ's budget of a concurrent consumer whose maxReconsumeTimes is unset or -1. */
export const maxReconsumeTimesDefault = 16;

export interface PushConsumerOptions extends ClientOptions {
  group: string;
  /** CLUSTERING (default: each message to one member) or BROADCASTING (to every member). */
  messageModel?: MessageModel;
  /** Where a queue with no committed offset starts. Default CONSUME_FROM_LAST_OFFSET. */
  consumeFromWhere?: ConsumeFromWhere;
  /** For CONSUME_FROM_TIMESTAMP (ms since epoch); default 30 minutes ago. */
  consumeTimestampMs?: number;
  allocateStrategy?: AllocateStrategyName | AllocateStrategy;
  /** Handlers running at once (RocketMQ's consumeThreadMax). Default 20. */
  consumeConcurrency?: number;
  /** Messages per pull. Default 32. */
  pullBatchSize?: number;
  /** Pulling a queue pauses above this many cached messages. Default 1000. */
  pullThresholdForQueue?: number;
  /** … or above this many cached body bytes. Default 100 MiB. */
  pullThresholdBytesForQueue?: number;
  /**
   * Redeliveries before a message goes to `%DLQ%<group>`. Default 16; -1 also means 16 (RocketMQ). Orderly:
   * local retries, default (and -1) 2147483647, i.e. retried until it succeeds, as in RocketMQ.
   */
  maxReconsumeTimes?: number;
  /**
   * Orderly consumption (RocketMQ's MessageListenerOrderly): each queue is locked at its broker before it is
   * pulled (locks renewed every 20 s), and consumed one message at a time in offset order; a failed message
   * suspends its queue and is retried locally, so later messages of the queue never pass it. Default false.
   */
  orderly?: boolean;
  /** Orderly: pause of a queue before its failed message is retried (suspendCurrentQueueTimeMillis). Default 1000. */
  suspendCurrentQueueTimeMs?: number;
  /**
   * Orderly: what is kept in order. 'queue' (default, RocketMQ's): one message per queue at a time. 'shardingKey'
   * (beyond RocketMQ): messages of different sharding keys in one queue are consumed in parallel, each key
   * strictly in order; the key is the `__SHARDINGKEY` property, which Producer.send sets from its `shardingKey`
   * option (messages without it share one key). A failing message then holds back only its own key.
   */
  orderlyScope?: 'queue' | 'shardingKey';
  /** Broker-side hold of an empty long poll (ms). Default 15000. */
  suspendTimeoutMs?: number;
  /** Offset commit period (ms). Default 5000. */
  persistOffsetIntervalMs?: number;
  /** Broadcasting offsets live under this directory. Default ~/.rocketmq_offsets. */
  offsetStoreDir?: string;
  /** Topic → tag expression or selector (`{ sql }`), the same as calling subscribe(). */
  subscriptions?: Record<string, MessageSelector>;
  handler?: MessageHandler;
  /**
   * Message trace (RocketMQ's enableMsgTrace): around each handler call a SubBefore and a SubAfter record (group,
   * client host, retry times, cost, success) go, batched and asynchronously, to RMQ_SYS_TRACE_TOPIC or
   * `{ topic }`; never delaying or failing consumption. Default off.
   */
  trace?: TraceOption;
}

export class PushConsumer {
  readonly group: string;
  readonly messageModel: MessageModel;
  private readonly opts: PushConsumerOptions;
  private readonly instanceName: string;
  private readonly subs = new Map<string, SubscriptionData>();
  private readonly queues = new Map<string, { mq: MessageQueue; pq: ProcessQueue<ReceivedMessage> }>();
  /** Orderly mode: locks, renewal, releases and the orderly consume service. */
  private orderly: OrderlyQueues | undefined;
  private handler: MessageHandler | undefined;
  private instance: ClientInstance | undefined;
  private offsets: OffsetStore | undefined;
  private consume: ConsumeService | ConsumeOrderlyService | undefined;
  private rebalancer: Rebalancer | undefined;
  private retryProducer: Producer | undefined;
  private readonly traceOpts: ResolvedTraceOptions | undefined;
  private tracerOf: Tracer | undefined;
  private persistTimer: NodeJS.Timeout | undefined;
  private running = false;
  private registered = false;
  private readonly log: Logger;

  constructor(opts: PushConsumerOptions) {
    assertGroupName(opts.group);
    parseNameServerList(opts.nameServer);
    this.traceOpts = resolveTraceOptions(opts.trace);
    const max = opts.maxReconsumeTimes;
    if (max !== undefined && !(Number.isInteger(max) && max >= -1)) {
      throw new InvalidArgumentError(`maxReconsumeTimes must be an integer ≥ 0 (or -1 for 16), got ${max}`);
    }
    const suspendMs = opts.suspendCurrentQueueTimeMs;
    if (suspendMs !== undefined && !(Number.isInteger(suspendMs) && suspendMs >= 0)) {
      throw new InvalidArgumentError(`suspendCurrentQueueTimeMs must be an integer ≥ 0, got ${suspendMs}`);
    }
    const scope = opts.orderlyScope;
    if (scope !== undefined && scope !== 'queue' && scope !== 'shardingKey') {
      throw new InvalidArgumentError(`orderlyScope must be 'queue' or 'shardingKey', got ${String(scope)}`);
    }
    this.opts = opts;
    this.group = opts.group;
    this.messageModel = opts.messageModel ?? MessageModel.CLUSTERING;
    this.instanceName = opts.instanceName ?? uniqueInstanceName();
    this.handler = opts.handler;
    this.log = clientLogger(opts.logger, 'client.push');
    for (const [topic, expr] of Object.entries(opts.subscriptions ?? {})) this.subscribe(topic, expr);
  }

  /**
   * Subscribes to `topic` with a tag expression ("*" or "TagA || TagB") or a SQL92 selector
   * (`{ sql: "a > 5 AND TAGS IN ('x')" }`); replaces an earlier one. A SQL92 selector is checked with the brokers at
   * start(): a bad expression fails it with a SubscriptionRefusedError naming the position.
   */
  subscribe(topic: string, selector: MessageSelector = '*'): this {
    assertTopicName(topic);
    this.subs.set(topic, buildSubscription(topic, selector));
    if (this.running) {
      this.instance?.sendHeartbeatToAll().catch(() => undefined);
      this.instance?.rebalanceSoon();
      this.instance?.watchMissingRoutes();
    }
    return this;
  }

  unsubscribe(topic: string): this {
    this.subs.delete(topic);
    return this;
  }

  /** Sets the handler; it may also be given in the constructor options. */
  onMessage(handler: MessageHandler): this {
    this.handler = handler;
    return this;
  }

  /** Queues this member consumes now. */
  assignedQueues(): MessageQueue[] {
    return this.rebalancer?.assigned() ?? [];
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (this.handler === undefined) throw new TsRocketError('set a message handler (onMessage) before start()');
    if (this.subs.size === 0) throw new TsRocketError('subscribe to at least one topic before start()');
    if (this.messageModel === MessageModel.CLUSTERING) {
      const retry = retryTopicOf(this.group);
      if (!this.subs.has(retry)) this.subs.set(retry, buildSubscription(retry, '*'));
    }
    const clientOpts = { ...this.opts, instanceName: this.instanceName };
    const inst = ClientInstance.acquire(clientOpts);
    this.instance = inst;
    try {
      await this.startWith(inst, clientOpts);
    } catch (err) {
      this.running = false;
      if (this.registered) inst.unregisterLocal('consumer', this.group);
      this.registered = false;
      await this.retryProducer?.shutdown();
      await this.tracerOf?.close();
      this.tracerOf = undefined;
      await inst.release();
      this.instance = undefined;
      throw err;
    }
  }

  private async startWith(inst: ClientInstance, clientOpts: ClientOptions): Promise<void> {
    this.offsets =
      this.messageModel === MessageModel.BROADCASTING
        ? new LocalFileOffsetStore(
            join(
              this.opts.offsetStoreDir ?? join(homedir(), '.rocketmq_offsets'),
              this.opts.instanceName ?? 'DEFAULT',
              this.group,
              'offsets.json',
            ),
          )
        : new BrokerOffsetStore(inst, this.group);
    await this.offsets.load();
    if (this.messageModel === MessageModel.CLUSTERING) {
      this.retryProducer = new Producer({ ...clientOpts, group: 'CLIENT_INNER_PRODUCER', trace: false });
      await this.retryProducer.start();
    }
    const traceOpts = this.traceOpts;
    if (traceOpts !== undefined) {
      this.tracerOf = await startTracer(
        traceOpts,
        this.group,
        inst.clientId.slice(0, inst.clientId.indexOf('@')),
        (brokerName) => inst.masterAddr(brokerName),
        new Producer({
          ...this.opts,
          group: traceProducerGroupOf(this.group),
          trace: false,
          autoBatch: false,
          instanceName: undefined,
        }),
      );
    }
    if (this.opts.orderly === true) {
      this.orderly = this.orderlyQueues(inst, this.offsets);
      this.consume = this.orderly.service;
    } else {
      this.orderly = undefined;
      this.consume = this.concurrentService(this.offsets);
    }
    this.rebalancer = new Rebalancer(
      inst,
      this.group,
      this.messageModel,
      strategyByName(this.opts.allocateStrategy ?? 'averagely'),
      {
        added: (mq) => this.addQueue(mq),
        removed: (mq) => this.removeQueue(mq),
      },
    );
    this.running = true;
    inst.registerConsumer(this.group, {
      consumerData: () => this.consumerData(),
      doRebalance: () => this.doRebalance(),
      topics: () => [...this.subs.keys()],
      resetOffsets: (_topic, offsets) => this.resetOffsets(offsets),
    });
    this.registered = true;
    await Promise.allSettled([...this.subs.keys()].map((t) => inst.updateRoute(t)));
    await checkSubscriptionsInBrokers(inst, this.group, this.subs.values());
    await inst.sendHeartbeatToAll();
    // The broker creates %RETRY%<group> on the heartbeat and registers it a moment later.
    await this.awaitRoutes(startRouteWaitMs);
    await inst.rebalanceNow();
    const persistMs = this.opts.persistOffsetIntervalMs ?? 5000;
    this.persistTimer = setInterval(() => {
      this.persistOffsets().catch(() => undefined);
    }, persistMs);
    this.persistTimer.unref();
    this.orderly?.start();
  }

  private concurrentService(offsets: OffsetStore): ConsumeService {
    return new ConsumeService({
      concurrency: this.opts.consumeConcurrency ?? 20,
      handler: () => this.tracedHandler(),
      offsets,
      sendBack: this.messageModel === MessageModel.CLUSTERING ? (msg) => this.sendBack(msg) : undefined,
      log: clientLogger(this.opts.logger, 'client.consume'),
    });
  }

  private orderlyQueues(inst: ClientInstance, offsets: OffsetStore): OrderlyQueues {
    const clustering = this.messageModel === MessageModel.CLUSTERING;
    const configured = this.opts.maxReconsumeTimes ?? -1;
    return new OrderlyQueues({
      instance: inst,
      group: this.group,
      clustering,
      offsets,
      queues: this.queues,
      isRunning: () => this.running,
      consume: {
        concurrency: this.opts.consumeConcurrency ?? 20,
        handler: () => this.tracedHandler(),
        maxReconsumeTimes: configured === -1 ? orderlyMaxReconsumeTimesDefault : configured,
        suspendMs: this.opts.suspendCurrentQueueTimeMs ?? suspendMsDefault,
        sendToDlq: clustering ? (msg) => this.sendToDlq(msg) : undefined,
        keyOf:
          this.opts.orderlyScope === 'shardingKey' ? (msg) => msg.properties.get(Prop.shardingKey) ?? '' : undefined,
        log: clientLogger(this.opts.logger, 'client.consume'),
      },
      log: this.log,
      lockLog: clientLogger(this.opts.logger, 'client.lock'),
    });
  }

  /** The handler, with trace records around each call when `trace` is on. */
  private tracedHandler(): MessageHandler | undefined {
    const h = this.handler;
    return h === undefined || this.tracerOf === undefined ? h : this.tracerOf.wrap(h);
  }

  /** The message tracer, when `trace` is on (its dispatcher's counters: `tracer.dispatcher.stats`). */
  get tracer(): Tracer | undefined {
    return this.tracerOf;
  }

  /** Stops pulling, lets running handlers finish (up to 10 s), commits offsets and leaves the group. */
  async shutdown(): Promise<void> {
    if (!this.running || this.instance === undefined) return;
    this.running = false;
    clearInterval(this.persistTimer);
    await this.orderly?.stop();
    await this.consume?.drain(shutdownDrainMs);
    // Dropping each queue commits its offset (and, orderly, releases its lock).
    await this.rebalancer?.dropAll();
    await this.orderly?.released();
    await this.retryProducer?.shutdown();
    await this.tracerOf?.close();
    this.tracerOf = undefined;
    this.registered = false;
    await this.instance.unregister('consumer', this.group);
    await this.instance.release();
    this.instance = undefined;
  }

  private async awaitRoutes(timeoutMs: number): Promise<void> {
    const inst = this.instance;
    const deadline = Date.now() + timeoutMs;
    while (inst !== undefined && Date.now() < deadline) {
      const missing = [...this.subs.keys()].filter((t) => inst.cachedRoute(t) === undefined);
      if (missing.length === 0) return;
      await sleep(routePollMs);
      await Promise.allSettled(missing.map((t) => inst.updateRoute(t)));
    }
  }

  private consumerData(): ConsumerData {
    return {
      groupName: this.group,
      consumeType: 'CONSUME_PASSIVELY',
      messageModel: this.messageModel,
      consumeFromWhere: this.opts.consumeFromWhere ?? ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET,
      subscriptionDataSet: [...this.subs.values()],
      unitMode: false,
    };
  }

  private async doRebalance(): Promise<void> {
    if (!this.running) return;
    await this.rebalancer?.rebalance([...this.subs.keys()]);
  }

  private async persistOffsets(): Promise<void> {
    const mqs = this.assignedQueues();
    if (this.offsets !== undefined && mqs.length > 0) await this.offsets.persistAll(mqs);
  }

  private async addQueue(mq: MessageQueue): Promise<boolean> {
    const inst = this.instance;
    const offsets = this.offsets;
    if (inst === undefined || offsets === undefined || this.consume === undefined || !this.running) return false;
    const key = queueKey(mq);
    const pq = new ProcessQueue<ReceivedMessage>();
    // Orderly: lock before pulling (after the release of a queue given up a moment ago).
    if (this.orderly !== undefined && !(await this.orderly.acquire(mq, pq))) return false;
    const from = this.opts.consumeFromWhere ?? ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET;
    const start = await computeStartOffset(
      inst,
      offsets,
      mq,
      from,
      this.opts.consumeTimestampMs ?? Date.now() - 30 * 60_000,
    );
    offsets.update(mq, start, false);
    if (!this.running) {
      await this.orderly?.abandon(mq, pq);
      return false;
    }
    this.queues.set(key, { mq, pq });
    const ctx = {
      instance: inst,
      group: this.group,
      subscription: (topic: string) => this.subs.get(topic),
      offsets,
      consume: this.consume,
      isRunning: () => this.running,
      commitOnPull: this.messageModel === MessageModel.CLUSTERING,
      lockRequired: this.orderly?.locks !== undefined,
      pullBatchSize: this.opts.pullBatchSize ?? 32,
      suspendTimeoutMs: this.opts.suspendTimeoutMs ?? 15_000,
      cachedMessagesMax: this.opts.pullThresholdForQueue ?? cachedMessagesMaxDefault,
      cachedBytesMax: this.opts.pullThresholdBytesForQueue ?? cachedBytesMaxDefault,
      offsetMoved: (moved: MessageQueue) => {
        this.queues.delete(queueKey(moved));
        // Orderly: the queue comes back with the next rebalance, but not before its in-flight message is done.
        this.orderly?.settleBeforeReuse(moved, pq);
        this.rebalancer?.forget(moved);
        inst.rebalanceSoon();
      },
    };
    runPullLoop(ctx, mq, pq, start).catch((err) => this.log.error('pull loop crashed', { queue: queueKey(mq), err }));
    return true;
  }

  /**
   * A reset from the broker: each owned queue it names is dropped (what was pulled is not consumed, and its
   * running handlers commit nothing), its offset set and persisted, and the next rebalance reads it on from there.
   */
  private async resetOffsets(offsets: readonly QueueOffset[]): Promise<void> {
    const store = this.offsets;
    if (!this.running || store === undefined) return;
    const owned = new Set(this.assignedQueues().map(queueKey));
    const reset: MessageQueue[] = [];
    for (const e of offsets) {
      const mq = { topic: e.topic, brokerName: e.brokerName, queueId: e.queueId };
      const key = queueKey(mq);
      if (!owned.has(key)) continue;
      const pq = this.queues.get(key)?.pq;
      this.queues.delete(key);
      if (pq !== undefined) {
        pq.dropped = true;
        // Orderly: unlocked once its in-flight message is done; the rebalance locks it again at the new offset.
        this.orderly?.release(mq, pq);
      }
      this.rebalancer?.forget(mq);
      store.update(mq, e.offset, false);
      reset.push(mq);
    }
    if (reset.length === 0) return;
    await store.persistAll(reset);
    this.instance?.rebalanceSoon();
  }

  private async removeQueue(mq: MessageQueue): Promise<void> {
    const key = queueKey(mq);
    const pq = this.queues.get(key)?.pq;
    this.queues.delete(key);
    if (pq !== undefined) pq.dropped = true;
    if (pq !== undefined && this.orderly !== undefined) {
      // The rebalance goes on; the queue is released once its in-flight message is done.
      this.orderly.release(mq, pq);
      return;
    }
    if (this.offsets !== undefined) {
      await this.offsets.persistAll([mq]);
      this.offsets.remove(mq);
    }
  }

  /**
   * Orderly, past maxReconsumeTimes: a new message to `%RETRY%<group>` whose count is at the maximum, which the
   * broker stores in `%DLQ%<group>` (RocketMQ's ConsumeMessageOrderlyService.sendMessageBack).
   */
  private async sendToDlq(msg: ReceivedMessage): Promise<boolean> {
    const configured = this.opts.maxReconsumeTimes ?? -1;
    const max = configured === -1 ? orderlyMaxReconsumeTimesDefault : configured;
    return this.resendToRetryTopic(msg, msg.reconsumeTimes, max, undefined);
  }

  /** CONSUMER_SEND_MSG_BACK to the message's broker; on failure, a new message to `%RETRY%<group>`. */
  private async sendBack(msg: ReceivedMessage): Promise<boolean> {
    const inst = this.instance;
    if (inst === undefined) return false;
    const configured = this.opts.maxReconsumeTimes ?? -1;
    const maxReconsumeTimes = configured === -1 ? maxReconsumeTimesDefault : configured;
    const addr = inst.masterAddr(msg.brokerName) ?? msg.storeHost;
    try {
      await inst.api.sendMessageBack(addr, msg, this.group, 0, maxReconsumeTimes);
      return true;
    } catch (err) {
      this.log.warn('send back failed; re-sending to the retry topic', { msgId: msg.msgId, err });
    }
    return this.resendToRetryTopic(
      msg,
      msg.reconsumeTimes + 1,
      maxReconsumeTimes,
      Math.min(3 + msg.reconsumeTimes, 18),
    );
  }

  /** A copy of `msg` to `%RETRY%<group>` with its counters (the broker stores it in the DLQ past the max). */
  private async resendToRetryTopic(
    msg: ReceivedMessage,
    reconsumeTimes: number,
    maxReconsumeTimes: number,
    delayTimeLevel: number | undefined,
  ): Promise<boolean> {
    if (this.retryProducer === undefined) return false;
    const properties = Object.fromEntries(msg.properties);
    properties[Prop.retryTopic] = msg.topic;
    properties[Prop.originMessageId] = msg.properties.get(Prop.originMessageId) ?? msg.msgId;
    properties[Prop.reconsumeTime] = String(reconsumeTimes);
    properties[Prop.maxReconsumeTimes] = String(maxReconsumeTimes);
    delete properties[Prop.transactionPrepared];
    delete properties[Prop.delayLevel];
    try {
      await this.retryProducer.send({
        topic: retryTopicOf(this.group),
        body: msg.body,
        flag: msg.flag,
        properties,
        ...(delayTimeLevel === undefined ? {} : { delayTimeLevel }),
      });
      return true;
    } catch (err) {
      this.log.warn('re-sending to the retry topic failed; will consume again later', { msgId: msg.msgId, err });
      return false;
    }
  }
}
