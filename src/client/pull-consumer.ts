/**
 * PullConsumer (RocketMQ's DefaultLitePullConsumer): `assign()` queues or `subscribe()` to topics (the group
 * then rebalances them), and `poll()` messages that background pulls buffered. `seek()` moves a queue,
 * `commit()` stores what poll() returned, and auto-commit does so periodically. It is also an async iterable.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TsRocketError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { Prop } from '../common/properties.js';
import { assertGroupName, assertTopicName } from '../common/validate.js';
import { PullSysFlag } from '../remoting/codes.js';
import type { QueueOffset } from '../remoting/protocol/reset-offset.js';
import { type AllocateStrategy, type AllocateStrategyName, strategyByName } from './allocate.js';
import { checkSubscriptionsInBrokers } from './check-subscriptions.js';
import { PullStatus } from './client-api.js';
import { ClientInstance, type ClientOptions } from './client-instance.js';
import { ConsumeFromWhere, type ConsumerData, MessageModel } from './heartbeat.js';
import { clientLogger } from './logger.js';
import { compareQueues, type MessageQueue, queueKey } from './message-queue.js';
import { parseNameServerList } from './name-server.js';
import { BrokerOffsetStore } from './offset-store.js';
import { Rebalancer } from './rebalancer.js';
import { decodePulled, type PullSource, type ReceivedMessage } from './received-message.js';
import { subscribeQueues } from './route.js';
import { computeStartOffset } from './start-offset.js';
import { buildSubscription, type MessageSelector, type SubscriptionData, subAll, tagMatches } from './subscription.js';

export interface PullConsumerOptions extends ClientOptions {
  group: string;
  consumeFromWhere?: ConsumeFromWhere;
  consumeTimestampMs?: number;
  allocateStrategy?: AllocateStrategyName | AllocateStrategy;
  /** Commit polled offsets every autoCommitIntervalMs and at shutdown. Default true. */
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /** Messages per pull. Default 32. */
  pullBatchSize?: number;
  /** Background pulls pause while this many messages wait to be polled. Default 10000. */
  bufferedMessagesMax?: number;
  /** Broker-side hold of an empty pull (ms). Default 5000. */
  suspendTimeoutMs?: number;
  /** Default poll() timeout (ms). Default 5000. */
  pollTimeoutMs?: number;
}

interface QueueState {
  mq: MessageQueue;
  /** Next offset to pull. */
  pullOffset: bigint;
  /** Offset after the last batch poll() returned, including messages filtered out: what commit() stores. */
  consumedOffset: bigint;
  /** Bumped by seek/unassign: results of older pulls are discarded. */
  generation: number;
  /** The newest batch of this queue not yet polled; a later pull that returns nothing extends its end. */
  lastBatch: Batch | undefined;
}

interface Batch {
  key: string;
  generation: number;
  msgs: ReceivedMessage[];
  /** nextBeginOffset of the pull (or pulls) behind it: polling it consumes everything below. */
  end: bigint;
}

export class PullConsumer implements AsyncIterable<ReceivedMessage> {
  readonly group: string;
  private readonly opts: PullConsumerOptions;
  private readonly states = new Map<string, QueueState>();
  private readonly subs = new Map<string, SubscriptionData>();
  private readonly buffer: Batch[] = [];
  private buffered = 0;
  private readonly waiters = new Set<() => void>();
  private instance: ClientInstance | undefined;
  private offsets: BrokerOffsetStore | undefined;
  private rebalancer: Rebalancer | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private running = false;
  private mode: 'none' | 'assign' | 'subscribe' = 'none';
  private readonly log: Logger;

  constructor(opts: PullConsumerOptions) {
    assertGroupName(opts.group);
    parseNameServerList(opts.nameServer);
    this.opts = opts;
    this.group = opts.group;
    this.log = clientLogger(opts.logger, 'client.pull');
  }

  async start(): Promise<void> {
    if (this.running) return;
    const inst = ClientInstance.acquire(this.opts);
    if (this.mode === 'subscribe') {
      try {
        await Promise.allSettled([...this.subs.keys()].map((t) => inst.updateRoute(t)));
        await checkSubscriptionsInBrokers(inst, this.group, this.subs.values());
      } catch (err) {
        await inst.release();
        throw err;
      }
    }
    this.instance = inst;
    this.offsets = new BrokerOffsetStore(inst, this.group);
    this.running = true;
    this.rebalancer = new Rebalancer(
      inst,
      this.group,
      MessageModel.CLUSTERING,
      strategyByName(this.opts.allocateStrategy ?? 'averagely'),
      {
        added: async (mq) => {
          await this.addQueue(mq);
          return true;
        },
        removed: async (mq) => this.removeQueue(mq),
      },
    );
    inst.registerConsumer(this.group, {
      consumerData: () => this.consumerData(),
      doRebalance: async () => {
        if (this.mode === 'subscribe' && this.running) await this.rebalancer?.rebalance([...this.subs.keys()]);
      },
      topics: () => [...new Set([...this.subs.keys(), ...[...this.states.values()].map((s) => s.mq.topic)])],
      resetOffsets: async (_topic, offsets) => this.resetOffsets(offsets),
    });
    if (this.opts.autoCommit ?? true) {
      this.commitTimer = setInterval(() => {
        this.commit().catch(() => undefined);
      }, this.opts.autoCommitIntervalMs ?? 5000);
      this.commitTimer.unref();
    }
    if (this.mode === 'subscribe') await this.joinGroup();
    else if (this.mode === 'assign') for (const s of this.states.values()) this.startQueue(s);
  }

  /** Commits (when auto-commit is on), leaves the group and closes connections. */
  async shutdown(): Promise<void> {
    const inst = this.instance;
    if (!this.running || inst === undefined) return;
    clearInterval(this.commitTimer);
    // Stop first: a poll() waiting for messages returns [] now, and no later poll() moves the offsets committed.
    this.running = false;
    for (const wake of [...this.waiters]) wake();
    if (this.opts.autoCommit ?? true) await this.commit();
    await inst.unregister('consumer', this.group);
    await inst.release();
    this.instance = undefined;
  }

  /** Readable queues of a topic, from its route. */
  async fetchMessageQueues(topic: string): Promise<MessageQueue[]> {
    const inst = this.requireInstance();
    const route = await inst.updateRoute(topic);
    if (route === undefined) throw new TsRocketError(`no route info of topic ${topic}`);
    return subscribeQueues(topic, route).sort(compareQueues);
  }

  /** Consumes exactly these queues (no group rebalance); replaces an earlier assignment. */
  async assign(queues: readonly MessageQueue[]): Promise<void> {
    if (this.mode === 'subscribe') throw new TsRocketError('assign() cannot be mixed with subscribe()');
    this.mode = 'assign';
    const keep = new Set(queues.map(queueKey));
    for (const s of [...this.states.values()]) if (!keep.has(queueKey(s.mq))) this.removeQueue(s.mq);
    for (const mq of queues) if (!this.states.has(queueKey(mq))) await this.addQueue(mq);
  }

  /**
   * Subscribes to a topic with a tag expression or a SQL92 selector (`{ sql }`); the group's members share its
   * queues. A SQL92 selector is checked with the brokers (here when running, else at start()): a bad expression
   * fails with a SubscriptionRefusedError naming the position.
   */
  async subscribe(topic: string, selector: MessageSelector = subAll): Promise<void> {
    if (this.mode === 'assign') throw new TsRocketError('subscribe() cannot be mixed with assign()');
    assertTopicName(topic);
    const sub = buildSubscription(topic, selector);
    if (this.running) await checkSubscriptionsInBrokers(this.requireInstance(), this.group, [sub]);
    this.mode = 'subscribe';
    this.subs.set(topic, sub);
    if (this.running) await this.joinGroup();
  }

  /** Queues currently consumed. */
  assignment(): MessageQueue[] {
    return [...this.states.values()].map((s) => s.mq).sort(compareQueues);
  }

  /** Waits up to `timeoutMs` for messages and returns those of one pull (empty on timeout). */
  async poll(timeoutMs = this.opts.pollTimeoutMs ?? 5000): Promise<ReceivedMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.running) {
      const batch = this.buffer.shift();
      if (batch !== undefined) {
        this.buffered -= batch.msgs.length;
        const state = this.states.get(batch.key);
        if (state === undefined || state.generation !== batch.generation) continue;
        state.consumedOffset = batch.end;
        if (state.lastBatch === batch) state.lastBatch = undefined;
        return batch.msgs;
      }
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(t);
          this.waiters.delete(wake);
          resolve();
        };
        const t = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
    return [];
  }

  /** Next poll() of this queue starts at `offset`. */
  seek(mq: MessageQueue, offset: bigint | number): void {
    const state = this.states.get(queueKey(mq));
    if (state === undefined) throw new TsRocketError(`queue ${queueKey(mq)} is not assigned to this consumer`);
    const next = BigInt(offset);
    if (next < 0n) throw new TsRocketError(`seek offset must be ≥ 0, got ${next}`);
    state.generation++;
    state.pullOffset = next;
    state.consumedOffset = next;
    state.lastBatch = undefined;
    this.startQueue(state);
  }

  async seekToBegin(mq: MessageQueue): Promise<void> {
    const addr = await this.addrOf(mq);
    this.seek(mq, await this.requireInstance().api.getMinOffset(addr, mq.topic, mq.queueId));
  }

  async seekToEnd(mq: MessageQueue): Promise<void> {
    const addr = await this.addrOf(mq);
    this.seek(mq, await this.requireInstance().api.getMaxOffset(addr, mq.topic, mq.queueId));
  }

  /** The committed offset stored by the broker for a queue, if any. */
  async committed(mq: MessageQueue): Promise<bigint | undefined> {
    return this.offsets?.storedOffset(mq);
  }

  /** Stores the offsets after everything poll() returned, for every consumed queue. */
  async commit(): Promise<void> {
    const offsets = this.offsets;
    if (offsets === undefined) return;
    for (const s of this.states.values()) offsets.update(s.mq, s.consumedOffset, false);
    await offsets.persistAll([...this.states.values()].map((s) => s.mq));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    while (this.running) {
      for (const msg of await this.poll(1000)) yield msg;
    }
  }

  /** A reset from the broker: each queue it names that this consumer reads is sought there and committed. */
  private async resetOffsets(offsets: readonly QueueOffset[]): Promise<void> {
    const moved: QueueState[] = [];
    for (const e of offsets) {
      const state = this.states.get(queueKey({ topic: e.topic, brokerName: e.brokerName, queueId: e.queueId }));
      if (state === undefined) continue;
      this.seek(state.mq, e.offset);
      moved.push(state);
    }
    await Promise.all(moved.map((s) => this.commitOne(s)));
  }

  private requireInstance(): ClientInstance {
    if (this.instance === undefined) throw new TsRocketError('pull consumer is not started');
    return this.instance;
  }

  private async addrOf(mq: MessageQueue): Promise<string> {
    const inst = this.requireInstance();
    let addr = inst.masterAddr(mq.brokerName);
    if (addr === undefined) {
      await inst.updateRoute(mq.topic);
      addr = inst.masterAddr(mq.brokerName);
    }
    if (addr === undefined) throw new TsRocketError(`broker ${mq.brokerName} has no known master`, { retriable: true });
    return addr;
  }

  private consumerData(): ConsumerData {
    return {
      groupName: this.group,
      consumeType: 'CONSUME_ACTIVELY',
      messageModel: MessageModel.CLUSTERING,
      consumeFromWhere: this.opts.consumeFromWhere ?? ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET,
      subscriptionDataSet: [...this.subs.values()],
      unitMode: false,
    };
  }

  private async joinGroup(): Promise<void> {
    const inst = this.requireInstance();
    await Promise.allSettled([...this.subs.keys()].map((t) => inst.updateRoute(t)));
    await inst.sendHeartbeatToAll();
    await inst.rebalanceNow();
    inst.watchMissingRoutes();
  }

  private async addQueue(mq: MessageQueue): Promise<void> {
    const key = queueKey(mq);
    const state: QueueState = { mq, pullOffset: -1n, consumedOffset: -1n, generation: 0, lastBatch: undefined };
    this.states.set(key, state);
    if (this.running) this.startQueue(state);
  }

  private removeQueue(mq: MessageQueue): void {
    const state = this.states.get(queueKey(mq));
    if (state === undefined) return;
    state.generation++;
    this.states.delete(queueKey(mq));
    if (this.opts.autoCommit ?? true) this.commitOne(state).catch(() => undefined);
  }

  private async commitOne(state: QueueState): Promise<void> {
    if (this.offsets === undefined || state.consumedOffset < 0n) return;
    this.offsets.update(state.mq, state.consumedOffset, false);
    await this.offsets.persistAll([state.mq]);
  }

  private startQueue(state: QueueState): void {
    if (!this.running) return;
    this.pullLoop(state, state.generation).catch((err) =>
      this.log.error('pull loop crashed', { queue: queueKey(state.mq), err }),
    );
  }

  private async pullLoop(state: QueueState, generation: number): Promise<void> {
    const key = queueKey(state.mq);
    const live = () => this.running && this.states.get(key) === state && state.generation === generation;
    const inst = this.requireInstance();
    if (state.pullOffset < 0n) {
      const from = this.opts.consumeFromWhere ?? ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET;
      const start = await computeStartOffset(
        inst,
        this.offsets as BrokerOffsetStore,
        state.mq,
        from,
        this.opts.consumeTimestampMs ?? Date.now(),
      );
      if (!live()) return;
      state.pullOffset = start;
      state.consumedOffset = start;
    }
    const suspendMs = this.opts.suspendTimeoutMs ?? 5000;
    const source: PullSource = { brokerName: state.mq.brokerName };
    while (live()) {
      if (this.buffered >= (this.opts.bufferedMessagesMax ?? 10_000)) {
        await sleep(50);
        continue;
      }
      const sub = this.subs.get(state.mq.topic) ?? buildSubscription(state.mq.topic, subAll, 0);
      let result: Awaited<ReturnType<typeof inst.api.pull>>;
      try {
        const addr = await this.addrOf(state.mq);
        result = await inst.api.pull(
          addr,
          {
            consumerGroup: this.group,
            topic: state.mq.topic,
            queueId: state.mq.queueId,
            queueOffset: state.pullOffset,
            maxMsgNums: this.opts.pullBatchSize ?? 32,
            sysFlag: PullSysFlag.suspend | PullSysFlag.subscription,
            commitOffset: 0n,
            suspendTimeoutMillis: suspendMs,
            subscription: sub.subString,
            subVersion: sub.subVersion,
            expressionType: sub.expressionType,
          },
          suspendMs + 5000,
        );
      } catch (err) {
        if (!live()) return;
        this.log.debug('pull failed', { queue: key, err });
        await sleep(1000);
        continue;
      }
      if (!live()) return;
      let decoded: ReceivedMessage[] = [];
      if (result.body !== undefined) {
        try {
          decoded = decodePulled(result.body, source, (pos, err) =>
            this.log.error('undecodable message skipped', { queue: key, at: pos, err }),
          );
        } catch (err) {
          // Malformed records: pull the same offset again later, as after a failed pull.
          this.log.warn('malformed pull response', { queue: key, err });
          await sleep(1000);
          continue;
        }
      }
      state.pullOffset = result.nextBeginOffset;
      if (result.status === PullStatus.OFFSET_ILLEGAL) {
        this.log.warn('pull offset moved by the broker', { queue: key, to: String(result.nextBeginOffset) });
        state.consumedOffset = result.nextBeginOffset;
        continue;
      }
      // The broker filters by tag hash; two tags may share one, so check the exact tag here.
      const msgs =
        result.status !== PullStatus.FOUND
          ? []
          : sub.tagsSet.length === 0
            ? decoded
            : decoded.filter((m) => tagMatches(sub, m.properties.get(Prop.tags)));
      if (msgs.length === 0) {
        skipFiltered(state, result.nextBeginOffset);
        continue;
      }
      const batch: Batch = { key, generation, msgs, end: result.nextBeginOffset };
      state.lastBatch = batch;
      this.buffer.push(batch);
      this.buffered += msgs.length;
      for (const wake of [...this.waiters]) wake();
    }
  }
}

/**
 * A pull that returned nothing to poll (all filtered out, or no new message) up to `end`: the range is consumed
 * once the batches before it are, so it extends the newest unpolled batch or, with none, the consumed offset.
 */
function skipFiltered(state: QueueState, end: bigint): void {
  const last = state.lastBatch;
  if (last !== undefined) {
    if (end > last.end) last.end = end;
  } else if (end > state.consumedOffset) state.consumedOffset = end;
}
