/**
 * SimpleConsumer (RocketMQ 5's SimpleConsumer, over the remoting POP requests): `receive()` pops messages from the
 * subscribed topics' brokers (every queue at once, so any number of consumers share one queue), each invisible to
 * the rest of the group for its invisible duration; `ack()` ends a message (the acks of one event-loop turn, or an
 * `ack(messages)`, go to a broker as one BATCH_ACK_MESSAGE), `changeInvisibleDuration()` extends
 * or shortens its invisibility; a message neither acked nor changed in time is delivered again with one more
 * delivery attempt (after the group's retry maximum it goes to `%DLQ%<group>`). With `fifo` the messages of one
 * message group come in send order, the next only after the previous is acked.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, TsRocketError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { assertGroupName, assertTopicName } from '../common/validate.js';
import { type AckMessageRequestHeader, PopInitMode } from '../remoting/protocol/pop.js';
import { type PopExtraInfo, parseExtraInfo, realTopicOf } from '../remoting/protocol/pop-extra-info.js';
import { checkSubscriptionsInBrokers } from './check-subscriptions.js';
import { ClientInstance, type ClientOptions, requestTimeoutMsDefault } from './client-instance.js';
import {
  BrokerNotFoundError,
  InvalidReceiptHandleError,
  ReceiptHandleExpiredError,
  TopicNotFoundError,
} from './errors.js';
import { ConsumeFromWhere, type ConsumerData, MessageModel } from './heartbeat.js';
import { clientLogger } from './logger.js';
import { parseNameServerList } from './name-server.js';
import { type AckOutcome, type PendingAck, PopAcks } from './pop-acks.js';
import {
  type AckAnswer,
  ackMessage,
  batchAckMessage,
  changeInvisibleTime,
  type HandleRefusal,
  popMessage,
} from './pop-api.js';
import { builtHandleOf, checkPointOf, decodePopped, type PoppedMessage } from './popped-message.js';
import { subscribeQueues } from './route.js';
import { buildSubscription, type MessageSelector, type SubscriptionData, tagMatches } from './subscription.js';

export interface SimpleConsumerOptions extends ClientOptions {
  group: string;
  /** Topic → filter: a tag expression ("*", "TagA || TagB", `{ tag }`) or `{ sql }` (SQL92 on properties). */
  subscriptions?: Record<string, MessageSelector>;
  /** How long the broker holds a receive() that finds nothing before it answers empty (ms). Default 20000. */
  awaitDurationMs?: number;
  /** Invisible duration of received messages when receive() names none (ms, at least 1000). Default 30000. */
  invisibleDurationMs?: number;
  /**
   * FIFO consumption (RocketMQ 5's FIFO consumer group): the messages of one message group are received in send
   * order, the next only once the previous is acked (or its invisible duration ended). Default false.
   */
  fifo?: boolean;
  /**
   * Where the group starts on a queue it never consumed: CONSUME_FROM_LAST_OFFSET (default; RocketMQ 5's MAX init
   * mode: the end, or the queue's first message while that is still recent in the log) or CONSUME_FROM_FIRST_OFFSET.
   */
  consumeFromWhere?:
    | typeof ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET
    | typeof ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET;
}

/** What `ack(messages)` did: the messages acked, and each one not acked with why. */
export interface AckResults {
  readonly acked: PoppedMessage[];
  readonly failed: Array<{ readonly message: PoppedMessage; readonly error: Error }>;
}

/** Most messages one receive() returns (a POP request's limit). */
export const receiveMessagesMax = 32;
/** Shortest invisible duration (RocketMQ's proxy demands 10 s; 1 s is enough here). */
export const invisibleDurationMsMin = 1000;
export const awaitDurationMsDefault = 20_000;
export const invisibleDurationMsDefault = 30_000;
/** A broker holding too many polls answers POLLING_FULL: receive() waits this long before it returns empty. */
const pollingFullBackoffMs = 1000;

export class SimpleConsumer {
  readonly group: string;
  private readonly opts: SimpleConsumerOptions;
  private readonly subs = new Map<string, SubscriptionData>();
  private readonly awaitMs: number;
  private readonly invisibleMs: number;
  private readonly log: Logger;
  private instance: ClientInstance | undefined;
  private running = false;
  private topicTurn = 0;
  private brokerTurn = 0;
  private readonly acks: PopAcks;

  constructor(opts: SimpleConsumerOptions) {
    assertGroupName(opts.group);
    parseNameServerList(opts.nameServer);
    this.opts = opts;
    this.group = opts.group;
    this.awaitMs = checkMs('awaitDurationMs', opts.awaitDurationMs ?? awaitDurationMsDefault, 0);
    this.invisibleMs = checkMs(
      'invisibleDurationMs',
      opts.invisibleDurationMs ?? invisibleDurationMsDefault,
      invisibleDurationMsMin,
    );
    const from = opts.consumeFromWhere;
    if (
      from !== undefined &&
      from !== ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET &&
      from !== ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET
    ) {
      throw new InvalidArgumentError(`consumeFromWhere must be CONSUME_FROM_LAST_OFFSET or _FIRST_OFFSET, got ${from}`);
    }
    for (const [topic, selector] of Object.entries(opts.subscriptions ?? {})) {
      assertTopicName(topic);
      this.subs.set(topic, buildSubscription(topic, selector));
    }
    this.log = clientLogger(opts.logger, 'client.simple');
    const timeoutMs = () => this.opts.requestTimeoutMs ?? requestTimeoutMsDefault;
    this.acks = new PopAcks(this.group, {
      single: (addr, a) => ackMessage(this.requireInstance().remoting, addr, this.ackHeaderOf(a), timeoutMs()),
      batch: (addr, brokerName, acks) =>
        batchAckMessage(this.requireInstance().remoting, addr, { brokerName, acks }, timeoutMs()),
    });
  }

  /**
   * Fetches the routes of the subscribed topics (a topic no NameServer knows fails with TopicNotFoundError), checks
   * SQL92 filters with the brokers (SubscriptionRefusedError) and announces the group.
   */
  async start(): Promise<void> {
    if (this.running) return;
    const inst = ClientInstance.acquire(this.opts);
    try {
      for (const topic of this.subs.keys()) await requireRoute(inst, topic);
      await checkSubscriptionsInBrokers(inst, this.group, this.subs.values());
      inst.registerConsumer(this.group, {
        consumerData: () => this.consumerData(),
        // Nothing to rebalance: every member pops from every queue.
        doRebalance: async () => undefined,
        topics: () => [...this.subs.keys()],
      });
    } catch (err) {
      await inst.release();
      throw err;
    }
    this.instance = inst;
    this.running = true;
    await inst.sendHeartbeatToAll();
  }

  /** Leaves the group and closes connections; a receive() still waiting returns empty. Unacked messages come back. */
  async shutdown(): Promise<void> {
    const inst = this.instance;
    if (!this.running || inst === undefined) return;
    this.running = false;
    this.instance = undefined;
    await inst.unregister('consumer', this.group);
    await inst.release();
  }

  /** Adds or replaces a topic's filter (checked and announced at once when running). */
  async subscribe(topic: string, selector: MessageSelector = '*'): Promise<void> {
    assertTopicName(topic);
    const sub = buildSubscription(topic, selector);
    const inst = this.instance;
    if (inst !== undefined) {
      await requireRoute(inst, topic);
      await checkSubscriptionsInBrokers(inst, this.group, [sub]);
    }
    this.subs.set(topic, sub);
    await inst?.sendHeartbeatToAll();
  }

  async unsubscribe(topic: string): Promise<void> {
    if (!this.subs.delete(topic)) return;
    await this.instance?.sendHeartbeatToAll();
  }

  /** Topic → filter expression of the current subscriptions. */
  subscriptions(): Map<string, string> {
    return new Map([...this.subs].map(([t, s]) => [t, s.subString]));
  }

  /**
   * Up to `maxMessages` (1-32) messages of one subscribed topic on one broker (topics and brokers taken in turn),
   * each invisible to the group for `invisibleDurationMs`; waits up to awaitDurationMs for some to arrive, then
   * returns empty.
   */
  async receive(maxMessages = 16, invisibleDurationMs = this.invisibleMs): Promise<PoppedMessage[]> {
    if (!(Number.isInteger(maxMessages) && maxMessages >= 1 && maxMessages <= receiveMessagesMax)) {
      throw new InvalidArgumentError(`maxMessages must be an integer 1-${receiveMessagesMax}, got ${maxMessages}`);
    }
    checkMs('invisibleDurationMs', invisibleDurationMs, invisibleDurationMsMin);
    const inst = this.requireInstance();
    const subs = [...this.subs.values()];
    if (subs.length === 0) throw new InvalidArgumentError(`simple consumer ${this.group} subscribes to no topic`);
    const sub = subs[this.topicTurn++ % subs.length] as SubscriptionData;
    const { brokerName, addr } = await this.brokerOf(inst, sub.topic);
    const fifo = this.opts.fifo ?? false;
    let answer: Awaited<ReturnType<typeof popMessage>>;
    try {
      answer = await popMessage(
        inst.remoting,
        addr,
        {
          consumerGroup: this.group,
          topic: sub.topic,
          queueId: -1,
          maxMsgNums: maxMessages,
          invisibleTime: BigInt(invisibleDurationMs),
          pollTime: BigInt(this.awaitMs),
          bornTime: BigInt(Date.now()),
          initMode:
            this.opts.consumeFromWhere === ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET
              ? PopInitMode.min
              : PopInitMode.max,
          expType: sub.expressionType,
          exp: sub.subString,
          order: fifo,
        },
        this.awaitMs + (this.opts.requestTimeoutMs ?? requestTimeoutMsDefault),
      );
    } catch (err) {
      // Shut down while waiting: whatever the broker popped comes back after its invisible duration.
      if (!this.running) return [];
      throw err;
    }
    if (answer.status === 'none') {
      if (answer.pollingFull && this.running) await sleep(Math.min(this.awaitMs, pollingFullBackoffMs));
      return [];
    }
    const msgs = decodePopped(answer.body, sub.topic, brokerName, answer.header, fifo, (pos, err) =>
      this.log.error('undecodable message skipped; it comes back after its invisible duration', { at: pos, err }),
    );
    if (typeof msgs === 'string') throw new TsRocketError(`malformed POP answer of ${addr}: ${msgs}`);
    if (sub.tagsSet.length === 0) return msgs;
    // The broker filters on the tag hash; two tags may share one. Others are acked away, as RocketMQ's proxy does.
    const kept: PoppedMessage[] = [];
    for (const m of msgs) {
      if (tagMatches(sub, m.tags)) kept.push(m);
      else this.ack(m).catch((err) => this.log.warn('ack of a filtered-out message failed', { msgId: m.msgId, err }));
    }
    return kept;
  }

  /**
   * Ends a received message: it is never delivered to the group again. ReceiptHandleExpiredError when too late.
   * Acks made in the same event-loop turn go to a broker as one batch ack.
   */
  async ack(msg: PoppedMessage): Promise<void>;
  /** Ends several messages in one request per broker; each is acked or failed on its own (never throws for one). */
  async ack(msgs: readonly PoppedMessage[]): Promise<AckResults>;
  async ack(m: PoppedMessage | readonly PoppedMessage[]): Promise<unknown> {
    if (!Array.isArray(m)) {
      const msg = m as PoppedMessage;
      const answer = await this.ackOne(msg);
      if (answer.status !== 'ok') throw handleRefused(msg, answer);
      return;
    }
    const msgs = m as readonly PoppedMessage[];
    const out: AckResults = { acked: [], failed: [] };
    const sent: PoppedMessage[] = [];
    const addrs: string[] = [];
    const acks: PendingAck[] = [];
    // The messages of one receive() share a broker: its address is looked up once per run of them.
    let lastBroker: string | undefined;
    let lastAddr = '';
    for (const message of msgs) {
      try {
        const info = this.handleOf(message);
        let addr = lastAddr;
        if (info.brokerName !== lastBroker) {
          const inst = this.requireInstance();
          addr = inst.masterAddr(info.brokerName) ?? (await this.addrOf(inst, info.brokerName, message.topic));
          lastBroker = info.brokerName;
          lastAddr = addr;
        }
        sent.push(message);
        addrs.push(addr);
        acks.push({ info, topic: message.topic, extraInfo: message.receiptHandle, checkPoint: checkPointOf(message) });
      } catch (err) {
        out.failed.push({ message, error: asError(err) });
      }
    }
    // One promise for all: acks of one broker go as one request, whatever their number.
    const outcomes = await this.acks.addAll(addrs, acks);
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i] as AckOutcome;
      const message = sent[i] as PoppedMessage;
      if (o.status === 'ok') out.acked.push(message);
      else if (o.status === 'failed') out.failed.push({ message, error: asError(o.error) });
      else out.failed.push({ message, error: handleRefused(message, o) });
    }
    return out;
  }

  private async ackOne(msg: PoppedMessage): Promise<AckAnswer> {
    const info = this.handleOf(msg);
    const inst = this.requireInstance();
    const addr = inst.masterAddr(info.brokerName) ?? (await this.addrOf(inst, info.brokerName, msg.topic));
    return this.acks.add(addr, { info, topic: msg.topic, extraInfo: msg.receiptHandle, checkPoint: checkPointOf(msg) });
  }

  /**
   * Makes a received message invisible for `invisibleDurationMs` from now (longer work, or a sooner retry) and
   * replaces its receiptHandle; ack it with the new one. ReceiptHandleExpiredError when too late.
   */
  async changeInvisibleDuration(msg: PoppedMessage, invisibleDurationMs: number): Promise<void> {
    checkMs('invisibleDurationMs', invisibleDurationMs, invisibleDurationMsMin);
    const t = await this.handleTarget(msg);
    const info = t.info;
    const header = { ...t.header, invisibleTime: BigInt(invisibleDurationMs) };
    const answer = await changeInvisibleTime(t.remoting, t.addr, header, t.timeoutMs);
    if (answer.status !== 'ok') throw handleRefused(msg, answer);
    // The broker checkpoints the message anew: its own offset starts the new check point (ExtraInfoUtil).
    const h = answer.header;
    msg.receiptHandle = [
      info.queueOffset,
      h.popTime,
      h.invisibleTime,
      h.reviveQid,
      info.retry,
      info.brokerName,
      info.queueId,
      info.queueOffset,
    ].join(' ');
  }

  private ackHeaderOf(a: PendingAck): AckMessageRequestHeader {
    return {
      consumerGroup: this.group,
      topic: realTopicOf(a.info.retry, a.topic, this.group),
      queueId: a.info.queueId,
      extraInfo: a.extraInfo,
      offset: a.info.queueOffset,
    };
  }

  /** Where an ack or change of `msg` goes, and the header fields both send (the real topic, queue, handle). */
  private async handleTarget(msg: PoppedMessage) {
    const info = this.handleOf(msg);
    const inst = this.requireInstance();
    const addr = await this.addrOf(inst, info.brokerName, msg.topic);
    const header = {
      consumerGroup: this.group,
      topic: realTopicOf(info.retry, msg.topic, this.group),
      queueId: info.queueId,
      extraInfo: msg.receiptHandle,
      offset: info.queueOffset,
    };
    return {
      info,
      remoting: inst.remoting,
      addr,
      header,
      timeoutMs: this.opts.requestTimeoutMs ?? requestTimeoutMsDefault,
    };
  }

  private handleOf(msg: PoppedMessage): PopExtraInfo {
    if (msg === null || typeof msg !== 'object' || typeof msg.receiptHandle !== 'string') {
      throw new InvalidArgumentError('expected a message returned by receive() (it carries a receiptHandle)');
    }
    const built = builtHandleOf(msg);
    if (built !== undefined) return built;
    const info = parseExtraInfo(msg.receiptHandle);
    if (typeof info === 'string') throw new InvalidReceiptHandleError(msg.receiptHandle, info);
    return info;
  }

  private requireInstance(): ClientInstance {
    if (this.instance === undefined) throw new TsRocketError(`simple consumer ${this.group} is not started`);
    return this.instance;
  }

  /** The next broker (in turn) holding readable queues of `topic`. */
  private async brokerOf(inst: ClientInstance, topic: string): Promise<{ brokerName: string; addr: string }> {
    const route = inst.cachedRoute(topic) ?? (await requireRoute(inst, topic));
    const brokers = [...new Set(subscribeQueues(topic, route).map((q) => q.brokerName))].sort();
    if (brokers.length === 0) throw new TsRocketError(`topic ${topic} has no readable queue`, { retriable: true });
    const brokerName = brokers[this.brokerTurn++ % brokers.length] as string;
    return { brokerName, addr: await this.addrOf(inst, brokerName, topic) };
  }

  private async addrOf(inst: ClientInstance, brokerName: string, topic: string): Promise<string> {
    let addr = inst.masterAddr(brokerName);
    if (addr === undefined) {
      await inst.updateRoute(topic);
      addr = inst.masterAddr(brokerName);
    }
    if (addr === undefined) throw new BrokerNotFoundError(brokerName, topic);
    return addr;
  }

  private consumerData(): ConsumerData {
    return {
      groupName: this.group,
      consumeType: 'CONSUME_POP',
      messageModel: MessageModel.CLUSTERING,
      consumeFromWhere: this.opts.consumeFromWhere ?? ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET,
      subscriptionDataSet: [...this.subs.values()],
      unitMode: false,
    };
  }
}

async function requireRoute(inst: ClientInstance, topic: string) {
  const route = await inst.updateRoute(topic);
  if (route === undefined) throw new TopicNotFoundError(topic);
  return route;
}

function handleRefused(msg: PoppedMessage, r: HandleRefusal): TsRocketError {
  return r.status === 'gone'
    ? new ReceiptHandleExpiredError(msg.msgId, r.code, r.remark)
    : new InvalidReceiptHandleError(msg.receiptHandle, r.remark ?? `refused by the broker (code ${r.code})`);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new TsRocketError(String(err));
}

/** A duration option or argument: an integer of ms, at least `min`. */
function checkMs(name: string, ms: number, min: number): number {
  if (!(Number.isSafeInteger(ms) && ms >= min)) {
    throw new InvalidArgumentError(`${name} must be an integer number of ms ≥ ${min}, got ${ms}`);
  }
  return ms;
}
