/**
 * The broker's PopService: pop (read like a pull, hand the messages out invisible, record a check point), ack,
 * changeInvisible, long polling, FIFO queues, and the revive pass that brings unacked messages back through
 * `%RETRY%<group>_<topic>` (or `%DLQ%<group>` past the group's retryMaxTimes) at their deadline.
 * Every consume offset move of a non-FIFO pop follows the durable write of its check point (revive-log.ts).
 */
import type { Logger } from '../../common/log.js';
import type { MessageExt } from '../../common/message.js';
import { Prop } from '../../common/properties.js';
import { decodeRecord } from '../../common/record.js';
import { popRetryTopicOf, reviveLogTopicOf, SystemGroup } from '../../common/topics.js';
import { ResponseCode } from '../../remoting/codes.js';
import { GetStatus, type MessageFilter, type MessageStore } from '../../store/types.js';
import type { BrokerConfig } from '../config.js';
import { filterTypeUnsupported } from '../filter/expression-type.js';
import { compiledSql92, sqlMessageFilter } from '../filter/sql92-filter.js';
import { tagFilterOf } from '../filter/tag-filter.js';
import type { ConsumerOffsetManager } from '../metadata/consumer-offsets.js';
import { isReadable, Perm } from '../metadata/perm.js';
import type { SubscriptionGroupManager } from '../metadata/subscription-groups.js';
import type { TopicConfig, TopicConfigManager } from '../metadata/topic-config.js';
import type { PutPipeline } from '../put/pipeline.js';
import type { BrokerStats } from '../stats/broker-stats.js';
import { allAcked, type CheckPoint, CheckPointTable, ckKeyOf, deadlineMsOf, isAcked } from './check-points.js';
import { buildExtraInfo, type ExtraInfo, parseExtraInfo } from './extra-info.js';
import { KeyedMutex } from './keyed-mutex.js';
import { blockedUntilMs, committableOffset, type OrderBatch, OrderTable, orderKeyOf } from './order-state.js';
import { PopWaiters } from './pop-waiters.js';
import { reviveDue } from './revive.js';
import { ReviveLog } from './revive-log.js';
import {
  type AckResult,
  type ChangeResult,
  invisibleTimeMsMin,
  orderReviveQid,
  type PoppedMessage,
  type PoppedQueue,
  type PopRequest,
  type PopResult,
  type PopService,
  popMessagesMax,
} from './types.js';

export interface PopDeps {
  readonly config: BrokerConfig;
  readonly store: MessageStore;
  readonly put: PutPipeline;
  readonly topics: TopicConfigManager;
  readonly groups: SubscriptionGroupManager;
  readonly offsets: ConsumerOffsetManager;
  readonly stats: BrokerStats;
  readonly brokerAddr: () => string;
  readonly log: Logger;
}

type Refused = { readonly status: 'refused'; readonly code: number; readonly remark: string };
const refused = (code: number, remark: string): Refused => ({ status: 'refused', code, remark });
const none = { status: 'none' } as const;
const expired = { status: 'expired' } as const;

/** What popping one queue gave. */
interface QueuePop {
  readonly messages: PoppedMessage[];
  readonly queue?: PoppedQueue | undefined;
  readonly rest: bigint;
  /** FIFO: the queue is blocked until then. */
  readonly blockedUntilMs?: number | undefined;
  readonly failed?: Refused | undefined;
}

export class BrokerPopService implements PopService {
  readonly checkPoints = new CheckPointTable();
  private readonly orders = new OrderTable();
  private readonly mutex = new KeyedMutex();
  readonly waiters: PopWaiters;
  readonly reviveLog: ReviveLog;
  readonly reviveTopic: string;
  private popCount = 0;

  constructor(readonly deps: PopDeps) {
    const c = deps.config;
    this.waiters = new PopWaiters(c.maxPopPollingSize);
    this.reviveTopic = reviveLogTopicOf(c.brokerClusterName);
    this.reviveLog = new ReviveLog({
      store: deps.store,
      putRaw: (msg) => deps.put.putRewritten(msg),
      topic: this.reviveTopic,
      brokerName: c.brokerName,
      brokerAddr: deps.brokerAddr,
    });
  }

  /** Creates the revive log topic and reads back the check points it holds (before requests are served). */
  async start(): Promise<void> {
    const { topics, offsets, config } = this.deps;
    topics.ensureTopic(this.reviveTopic, config.reviveQueueNum, Perm.read | Perm.write);
    let cks = 0;
    for (let q = 0; q < config.reviveQueueNum; q++) {
      const from = offsets.query(SystemGroup.revive, this.reviveTopic, q) ?? 0n;
      await this.reviveLog.replay(
        q,
        from,
        (ck) => {
          cks++;
          this.checkPoints.add(ck);
          // The consume offset is at least past a stored check point's messages, whatever was persisted.
          const at = offsets.query(ck.group, ck.realTopic, ck.queueId);
          if (at === undefined || at < ck.nextBeginOffset)
            offsets.commit(ck.group, ck.realTopic, ck.queueId, ck.nextBeginOffset);
        },
        (ack) => {
          const ck = this.checkPoints.get(ack.key);
          if (ck === undefined) return;
          for (const o of ack.offsets) {
            const i = ck.offsets.indexOf(o);
            if (i >= 0) ck.ackedBits |= 1 << i;
          }
          if (allAcked(ck)) this.checkPoints.delete(ck.key);
        },
      );
    }
    if (cks > 0) this.deps.log.info('pop check points read back', { cks, pending: this.checkPoints.size });
  }

  /** One revive pass: due check points put back, then the revive checkpoint moved. */
  async revive(nowMs = Date.now()): Promise<void> {
    await reviveDue(this, nowMs);
    const safe = this.reviveLog.safeOffsets(this.checkPoints.lowestReviveOffsets(), this.deps.config.reviveQueueNum);
    for (const [q, offset] of safe) {
      const at = this.deps.offsets.query(SystemGroup.revive, this.reviveTopic, q);
      if (at === undefined || offset > at) this.deps.offsets.commit(SystemGroup.revive, this.reviveTopic, q, offset);
    }
  }

  stop(): void {
    this.waiters.close();
  }

  /** Store arrival hook. */
  notifyArrival(topic: string, tagsCode: bigint): void {
    this.waiters.notifyArrival(topic, tagsCode);
  }

  async pop(req: PopRequest, signal?: AbortSignal): Promise<PopResult> {
    const checked = this.check(req);
    if (checked.status === 'refused') return checked;
    const { tc, filter } = checked;
    const pollMs = Math.min(Math.max(0, req.pollTimeMs), this.deps.config.longPollingHoldMsMax);
    const deadlineMs = Date.now() + pollMs;
    for (;;) {
      const watermark = this.watermark(req, tc);
      const r = await this.popOnce(req, tc, filter);
      if (r.status !== 'none' || pollMs === 0 || isAborted(signal)) return r.result;
      const now = Date.now();
      if (now >= deadlineMs) return none;
      // A message that arrived while the reads were in flight woke nobody: read again now.
      if (this.watermark(req, tc) !== watermark) continue;
      const until = r.retryAtMs === undefined ? deadlineMs : Math.min(deadlineMs, r.retryAtMs);
      const retryTopic = req.fifo ? undefined : popRetryTopicOf(req.group, req.topic);
      const outcome = await this.waiters.wait(req.topic, retryTopic, filter, until, signal);
      if (outcome === 'full') {
        return refused(
          ResponseCode.POLLING_FULL,
          `too many pops waiting (maxPopPollingSize ${this.deps.config.maxPopPollingSize})`,
        );
      }
      if (isAborted(signal)) return none;
    }
  }

  async ack(group: string, topic: string, handle: string): Promise<AckResult> {
    const e = this.parseHandle(handle);
    if (typeof e === 'string') return refused(ResponseCode.INVALID_PARAMETER, e);
    if (e.reviveQid === orderReviveQid) return this.ackOrder(group, topic, e);
    const ck = this.checkPoints.get(this.ckKeyOfHandle(group, topic, e));
    const i = ck?.offsets.indexOf(e.queueOffset) ?? -1;
    if (ck === undefined || ck.reviving || i < 0 || isAcked(ck, i)) return expired;
    ck.ackedBits |= 1 << i;
    if (!(await this.reviveLog.writeAck(ck, [e.queueOffset]))) {
      ck.ackedBits &= ~(1 << i);
      return refused(ResponseCode.SYSTEM_ERROR, 'the ack could not be stored (store not writable)');
    }
    if (allAcked(ck)) this.checkPoints.delete(ck.key);
    return { status: 'ok' };
  }

  async changeInvisible(group: string, topic: string, handle: string, invisibleTimeMs: number): Promise<ChangeResult> {
    if (!Number.isSafeInteger(invisibleTimeMs) || invisibleTimeMs < invisibleTimeMsMin) {
      return refused(
        ResponseCode.INVALID_PARAMETER,
        `invisibleTime ${invisibleTimeMs} ms is below ${invisibleTimeMsMin}`,
      );
    }
    const e = this.parseHandle(handle);
    if (typeof e === 'string') return refused(ResponseCode.INVALID_PARAMETER, e);
    const now = Date.now();
    if (e.reviveQid === orderReviveQid) return this.changeOrder(group, topic, e, invisibleTimeMs, now);
    const ck = this.checkPoints.get(this.ckKeyOfHandle(group, topic, e));
    const i = ck?.offsets.indexOf(e.queueOffset) ?? -1;
    if (ck === undefined || ck.reviving || i < 0 || isAcked(ck, i) || deadlineMsOf(ck) <= now) return expired;
    // The new check point holds this one message (RocketMQ: ckOffset = its queue offset), then the old is acked.
    const popTimeMs = Math.max(now, ck.popTimeMs + 1);
    const next: CheckPoint = {
      ...ck,
      key: ckKeyOf(group, ck.realTopic, ck.queueId, e.queueOffset, popTimeMs),
      startOffset: e.queueOffset,
      popTimeMs,
      invisibleTimeMs,
      reviveQid: this.nextReviveQid(),
      offsets: [e.queueOffset],
      reviveOffset: -1n,
      ackedBits: 0,
      reviving: false,
    };
    ck.ackedBits |= 1 << i;
    if (!(await this.reviveLog.writeCk(next))) {
      ck.ackedBits &= ~(1 << i);
      return refused(ResponseCode.SYSTEM_ERROR, 'the new check point could not be stored (store not writable)');
    }
    this.checkPoints.add(next);
    // Should this ack be lost in a crash, the message comes back once more: never lost.
    await this.reviveLog.writeAck(ck, [e.queueOffset]);
    if (allAcked(ck)) this.checkPoints.delete(ck.key);
    const info = this.extraInfoOf(next, e.queueOffset);
    return {
      status: 'ok',
      handle: `${buildExtraInfo(info)} ${e.commitLogOffset ?? -1n}`,
      popTimeMs,
      invisibleTimeMs,
    };
  }

  /** Runtime figures (broker runtime info). */
  stats(): Record<string, number> {
    return {
      popCheckPoints: this.checkPoints.size,
      popInFlight: this.checkPoints.inFlight(),
      popOrderQueues: this.orders.size,
      popWaiting: this.waiters.size,
    };
  }

  private check(req: PopRequest): Refused | { status: 'ok'; tc: TopicConfig; filter: MessageFilter | undefined } {
    const { config: c, groups, topics } = this.deps;
    if (!Number.isInteger(req.maxMessages) || req.maxMessages < 1 || req.maxMessages > popMessagesMax) {
      return refused(
        ResponseCode.INVALID_PARAMETER,
        `the max message num ${req.maxMessages} is not in 1..${popMessagesMax}`,
      );
    }
    if (!Number.isSafeInteger(req.invisibleTimeMs) || req.invisibleTimeMs < invisibleTimeMsMin) {
      return refused(
        ResponseCode.INVALID_PARAMETER,
        `invisibleTime ${req.invisibleTimeMs} ms is below ${invisibleTimeMsMin}`,
      );
    }
    if (!Number.isSafeInteger(req.pollTimeMs) || req.pollTimeMs < 0) {
      return refused(ResponseCode.INVALID_PARAMETER, `pollTime ${req.pollTimeMs} ms is negative`);
    }
    if (!isReadable(c.brokerPermission)) {
      return refused(ResponseCode.NO_PERMISSION, `the broker[${c.brokerName}] pop message is forbidden`);
    }
    const group = groups.findOrCreate(req.group);
    if (group === undefined) return refused(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, groups.missingRemark(req.group));
    if (!group.consumeEnable) {
      return refused(ResponseCode.NO_PERMISSION, `subscription group [${req.group}] has consumption disabled`);
    }
    const tc = topics.get(req.topic);
    if (tc === undefined) {
      return refused(
        ResponseCode.TOPIC_NOT_EXIST,
        `topic[${req.topic}] not exist on broker ${c.brokerName}, apply first please`,
      );
    }
    if (!isReadable(tc.perm))
      return refused(ResponseCode.NO_PERMISSION, `the topic[${req.topic}] pop message is forbidden`);
    if (req.queueId < -1 || req.queueId >= tc.readQueueNums || !Number.isInteger(req.queueId)) {
      return refused(
        ResponseCode.INVALID_PARAMETER,
        `queueId[${req.queueId}] is illegal, topic ${req.topic} has ${tc.readQueueNums} read queues`,
      );
    }
    if (req.filter.type === 'TAG') return { status: 'ok', tc, filter: tagFilterOf(req.filter.expression) };
    if (!c.enablePropertyFilter) return refused(ResponseCode.SYSTEM_ERROR, filterTypeUnsupported(req.filter.type));
    const compiled = compiledSql92(req.filter.expression);
    if (!compiled.ok) {
      return refused(
        ResponseCode.SUBSCRIPTION_PARSE_FAILED,
        `parse the consumer's subscription failed: ${compiled.error.message}`,
      );
    }
    return { status: 'ok', tc, filter: sqlMessageFilter(compiled.filter) };
  }

  /** The queues a pop reads: the topic's (all, from a rotating start, or the one asked) and the retry topic's. */
  private queuesOf(
    req: PopRequest,
    tc: TopicConfig,
    turn: number,
  ): Array<{ realTopic: string; queueId: number; retry: boolean }> {
    const out: Array<{ realTopic: string; queueId: number; retry: boolean }> = [];
    if (req.queueId >= 0) out.push({ realTopic: req.topic, queueId: req.queueId, retry: false });
    else
      for (let i = 0; i < tc.readQueueNums; i++)
        out.push({ realTopic: req.topic, queueId: (turn + i) % tc.readQueueNums, retry: false });
    if (!req.fifo) {
      const retryTopic = popRetryTopicOf(req.group, req.topic);
      if (this.deps.topics.get(retryTopic) !== undefined) {
        const retry = { realTopic: retryTopic, queueId: 0, retry: true };
        // Now and then the retry topic first (RocketMQ: 20 % of pops), so a backlog cannot starve revived messages.
        if (turn % 5 === 0) out.unshift(retry);
        else out.push(retry);
      }
    }
    return out;
  }

  /** Sum of the end offsets of the queues a pop reads: changes when anything arrives there. */
  private watermark(req: PopRequest, tc: TopicConfig): bigint {
    let sum = 0n;
    for (const q of this.queuesOf(req, tc, 0)) sum += this.deps.store.getMaxOffsetInQueue(q.realTopic, q.queueId);
    return sum;
  }

  private async popOnce(
    req: PopRequest,
    tc: TopicConfig,
    filter: MessageFilter | undefined,
  ): Promise<
    | { status: 'found' | 'refused'; result: PopResult }
    | { status: 'none'; result: PopResult; retryAtMs?: number | undefined }
  > {
    const turn = this.popCount++;
    const popTimeMs = Date.now();
    const reviveQid = req.fifo ? orderReviveQid : this.nextReviveQid();
    const messages: PoppedMessage[] = [];
    const queues: PoppedQueue[] = [];
    let rest = 0n;
    let retryAtMs: number | undefined;
    for (const q of this.queuesOf(req, tc, turn)) {
      const want = req.maxMessages - messages.length;
      const key = orderKeyOf(req.group, q.realTopic, q.queueId);
      const r =
        want <= 0
          ? { messages: [], rest: this.restOf(req, q.realTopic, q.queueId) }
          : await this.mutex.run(key, () =>
              this.popQueue(req, q.realTopic, q.queueId, q.retry, filter, want, popTimeMs, reviveQid),
            );
      if (r.failed !== undefined) {
        if (messages.length === 0) return { status: 'refused', result: r.failed };
        break;
      }
      rest += r.rest;
      if (r.queue !== undefined) queues.push(r.queue);
      for (const m of r.messages) messages.push(m);
      if (r.blockedUntilMs !== undefined) retryAtMs = Math.min(retryAtMs ?? r.blockedUntilMs, r.blockedUntilMs);
    }
    if (messages.length === 0) return { status: 'none', result: none, retryAtMs };
    let bytes = 0;
    for (const m of messages) bytes += m.msg.storeSize;
    this.deps.stats.recordGet(req.group, req.topic, messages.length, bytes);
    return {
      status: 'found',
      result: {
        status: 'found',
        popTimeMs,
        invisibleTimeMs: req.invisibleTimeMs,
        reviveQid,
        messages,
        restNum: Number(rest),
        queues,
      },
    };
  }

  private restOf(req: PopRequest, realTopic: string, queueId: number): bigint {
    const { store, offsets } = this.deps;
    const max = store.getMaxOffsetInQueue(realTopic, queueId);
    const at = offsets.query(req.group, realTopic, queueId) ?? store.getMinOffsetInQueue(realTopic, queueId);
    return max > at ? max - at : 0n;
  }

  /** Where a group reads a queue next; a group new to the queue starts by initMode and that start is committed. */
  private startOffsetOf(req: PopRequest, realTopic: string, queueId: number, retry: boolean): bigint {
    const { store, offsets } = this.deps;
    const min = store.getMinOffsetInQueue(realTopic, queueId);
    const reset = offsets.takeReset(req.group, realTopic, queueId);
    if (reset !== undefined) {
      offsets.commit(req.group, realTopic, queueId, reset);
      return reset < min ? min : reset;
    }
    const at = offsets.query(req.group, realTopic, queueId);
    if (at !== undefined) return at < min ? min : at;
    // MAX on a queue that still holds its first message starts there (RocketMQ's initPopOffsetByCheckMsgInMem).
    const init = retry || req.initMode === 'min' || min === 0n ? min : store.getMaxOffsetInQueue(realTopic, queueId);
    offsets.commit(req.group, realTopic, queueId, init);
    return init;
  }

  /** Pops one queue (under its mutex). */
  private async popQueue(
    req: PopRequest,
    realTopic: string,
    queueId: number,
    retry: boolean,
    filter: MessageFilter | undefined,
    want: number,
    popTimeMs: number,
    reviveQid: number,
  ): Promise<QueuePop> {
    const { store, offsets, config } = this.deps;
    const orderKey = orderKeyOf(req.group, realTopic, queueId);
    const batch = req.fifo ? this.orders.get(orderKey) : undefined;
    if (batch !== undefined) {
      const until = blockedUntilMs(batch, popTimeMs);
      if (until !== undefined)
        return { messages: [], rest: this.restOf(req, realTopic, queueId), blockedUntilMs: until };
    }
    const offset = this.startOffsetOf(req, realTopic, queueId, retry);
    const r = await store.getMessage(realTopic, queueId, offset, want, config.pullBytesMax, filter);
    const rest = r.maxOffset > r.nextBeginOffset ? r.maxOffset - r.nextBeginOffset : 0n;
    if (r.status !== GetStatus.FOUND) {
      r.release?.();
      // Past filtered-out messages, or back into the queue's range: nothing popped, so nothing to check point.
      if (r.nextBeginOffset !== offset && batch === undefined) {
        offsets.commit(req.group, realTopic, queueId, r.nextBeginOffset);
      }
      return { messages: [], rest };
    }
    let msgs: MessageExt[];
    try {
      msgs = r.records.map((rec) => decodeRecord(rec).msg);
    } finally {
      r.release?.();
    }
    if (req.fifo) return this.popOrder(req, orderKey, batch, offset, r.nextBeginOffset, msgs, popTimeMs, rest);
    const ck: CheckPoint = {
      key: ckKeyOf(req.group, realTopic, queueId, offset, popTimeMs),
      group: req.group,
      topic: req.topic,
      realTopic,
      retry,
      queueId,
      startOffset: offset,
      popTimeMs,
      invisibleTimeMs: req.invisibleTimeMs,
      reviveQid,
      offsets: msgs.map((m) => m.queueOffset),
      nextBeginOffset: r.nextBeginOffset,
      reviveOffset: -1n,
      ackedBits: 0,
      reviving: false,
    };
    // Durable first: the consume offset never passes popped messages whose check point could be lost.
    if (!(await this.reviveLog.writeCk(ck))) {
      return {
        messages: [],
        rest,
        failed: refused(ResponseCode.SYSTEM_ERROR, 'the pop check point could not be stored (store not writable)'),
      };
    }
    this.checkPoints.add(ck);
    offsets.commit(req.group, realTopic, queueId, r.nextBeginOffset);
    const popped = msgs.map((m) => this.popped(req.topic, m, this.extraInfoOf(ck, m.queueOffset), 0));
    return { messages: popped, rest, queue: queueOf(ck.retry, queueId, offset, ck.offsets, 0) };
  }

  /** A FIFO pop of one queue: the batch blocks the queue; acked messages of an expired batch are not sent again. */
  private popOrder(
    req: PopRequest,
    orderKey: string,
    prev: OrderBatch | undefined,
    offset: bigint,
    nextBeginOffset: bigint,
    msgs: MessageExt[],
    popTimeMs: number,
    rest: bigint,
  ): QueuePop {
    const entries = new Map<bigint, { popTimeMs: number; invisibleTimeMs: number; acked: boolean; attempts: number }>();
    const sent: MessageExt[] = [];
    let orderCount = 0;
    for (const m of msgs) {
      const before = prev?.entries.get(m.queueOffset);
      if (before?.acked === true) {
        entries.set(m.queueOffset, before);
        continue;
      }
      const attempts = (before?.attempts ?? 0) + 1;
      orderCount = Math.max(orderCount, attempts - 1);
      entries.set(m.queueOffset, { popTimeMs, invisibleTimeMs: req.invisibleTimeMs, acked: false, attempts });
      sent.push(m);
    }
    const batch: OrderBatch = { startOffset: offset, nextBeginOffset, entries };
    this.orders.set(orderKey, batch);
    if (sent.length === 0) {
      // Everything read was acked already: move on.
      this.commitOrder(req.group, req.topic, m0(msgs).queueId, orderKey, batch);
      return { messages: [], rest };
    }
    const queueId = m0(msgs).queueId;
    const popped = sent.map((m) => {
      const attempts = entries.get(m.queueOffset)?.attempts ?? 1;
      const info: ExtraInfo = {
        ckOffset: offset,
        popTimeMs,
        invisibleTimeMs: req.invisibleTimeMs,
        reviveQid: orderReviveQid,
        retry: false,
        brokerName: this.deps.config.brokerName,
        queueId,
        queueOffset: m.queueOffset,
      };
      return this.popped(req.topic, m, info, attempts - 1);
    });
    return {
      messages: popped,
      rest,
      queue: queueOf(
        false,
        queueId,
        offset,
        sent.map((m) => m.queueOffset),
        orderCount,
      ),
    };
  }

  private async ackOrder(group: string, topic: string, e: ExtraInfo): Promise<AckResult> {
    const key = orderKeyOf(group, topic, e.queueId);
    return this.mutex.run(key, async () => {
      const batch = this.orders.get(key);
      const entry = batch?.entries.get(e.queueOffset);
      if (batch === undefined || entry === undefined || entry.acked || entry.popTimeMs !== e.popTimeMs) return expired;
      entry.acked = true;
      this.commitOrder(group, topic, e.queueId, key, batch);
      return { status: 'ok' } as const;
    });
  }

  private changeOrder(
    group: string,
    topic: string,
    e: ExtraInfo,
    invisibleTimeMs: number,
    now: number,
  ): Promise<ChangeResult> {
    const key = orderKeyOf(group, topic, e.queueId);
    return this.mutex.run(key, async () => {
      const entry = this.orders.get(key)?.entries.get(e.queueOffset);
      if (entry === undefined || entry.acked || entry.popTimeMs !== e.popTimeMs) return expired;
      if (entry.popTimeMs + entry.invisibleTimeMs <= now) return expired;
      entry.popTimeMs = Math.max(now, entry.popTimeMs + 1);
      entry.invisibleTimeMs = invisibleTimeMs;
      const info: ExtraInfo = { ...e, ckOffset: e.queueOffset, popTimeMs: entry.popTimeMs, invisibleTimeMs };
      return {
        status: 'ok',
        handle: `${buildExtraInfo(info)} ${e.commitLogOffset ?? -1n}`,
        popTimeMs: entry.popTimeMs,
        invisibleTimeMs,
      } as const;
    });
  }

  /** Moves a FIFO queue's consume offset over its acked prefix; a fully acked batch frees the queue. */
  private commitOrder(group: string, topic: string, queueId: number, key: string, batch: OrderBatch): void {
    const offset = committableOffset(batch);
    const at = this.deps.offsets.query(group, topic, queueId);
    if (at === undefined || offset > at) this.deps.offsets.commit(group, topic, queueId, offset);
    if (offset === batch.nextBeginOffset) {
      this.orders.delete(key);
      this.waiters.wakeTopic(topic);
    }
  }

  /** The message as handed out: the original topic, POP_CK set, the attempt counted. */
  private popped(topic: string, m: MessageExt, info: ExtraInfo, orderCount: number): PoppedMessage {
    const handleInfo = buildExtraInfo(info);
    m.properties.set(Prop.popCk, handleInfo);
    m.topic = topic;
    if (orderCount > 0) m.reconsumeTimes += orderCount;
    return { msg: m, handle: `${handleInfo} ${m.commitLogOffset}`, deliveryAttempt: m.reconsumeTimes + 1 };
  }

  private extraInfoOf(ck: CheckPoint, queueOffset: bigint): ExtraInfo {
    return {
      ckOffset: ck.startOffset,
      popTimeMs: ck.popTimeMs,
      invisibleTimeMs: ck.invisibleTimeMs,
      reviveQid: ck.reviveQid,
      retry: ck.retry,
      brokerName: this.deps.config.brokerName,
      queueId: ck.queueId,
      queueOffset,
    };
  }

  private parseHandle(handle: string): ExtraInfo | string {
    const e = parseExtraInfo(handle);
    if (typeof e === 'string') return e;
    if (e.brokerName !== this.deps.config.brokerName) {
      return `the handle is of broker ${e.brokerName}, this is ${this.deps.config.brokerName}`;
    }
    return e;
  }

  private ckKeyOfHandle(group: string, topic: string, e: ExtraInfo): string {
    const realTopic = e.retry ? popRetryTopicOf(group, topic) : topic;
    return ckKeyOf(group, realTopic, e.queueId, e.ckOffset, e.popTimeMs);
  }

  private nextReviveQid(): number {
    return this.popCount % this.deps.config.reviveQueueNum;
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function m0(msgs: readonly MessageExt[]): MessageExt {
  return msgs[0] as MessageExt;
}

function queueOf(
  retry: boolean,
  queueId: number,
  startOffset: bigint,
  msgOffsets: readonly bigint[],
  orderCount: number,
): PoppedQueue {
  return { retry, queueId, startOffset, msgOffsets, orderCount };
}
