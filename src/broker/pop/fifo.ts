/**
 * FIFO pops (`fifo: true`, header order=true; RocketMQ's ConsumerOrderInfoManager): the messages of a queue handed
 * out and not yet acked block the queue for the group until all are acked (the consume offset then moves past
 * them) or their invisibility ends (then the same messages come first again, one attempt more). No check point is
 * written (reviveQid 999): the consume offset moves only on acks, so after a crash the queue is delivered again from
 * its committed offset.
 */
import type { MessageExt } from '../../common/message.js';
import { Prop } from '../../common/properties.js';
import { dlqTopicOf } from '../../common/topics.js';
import { Perm } from '../metadata/perm.js';
import { messageInputOf } from '../put/message-input.js';
import { answerOfPutStatus } from '../put/put-status.js';
import { buildExtraInfo, type ExtraInfo } from './extra-info.js';
import type { KeyedMutex } from './keyed-mutex.js';
import {
  blockedUntilMs,
  committableOffset,
  type OrderBatch,
  type OrderEntry,
  OrderTable,
  orderKeyOf,
} from './order-state.js';
import { type PopDeps, poppedOf, type QueuePop, queueOf } from './pop-deps.js';
import type { PopWaiters } from './pop-waiters.js';
import { type AckResult, type ChangeResult, orderReviveQid, type PopRequest } from './types.js';

const expired = { status: 'expired' } as const;

export class FifoQueues {
  private readonly orders = new OrderTable();
  /** Messages moved to a DLQ after their last attempt. */
  deadLettered = 0;

  constructor(
    private readonly deps: PopDeps,
    private readonly mutex: KeyedMutex,
    private readonly waiters: PopWaiters,
  ) {}

  get size(): number {
    return this.orders.size;
  }

  /** The batch out on a queue, if any, and until when it blocks the queue (undefined = not blocked). */
  held(key: string, nowMs: number): { batch: OrderBatch | undefined; blockedUntilMs: number | undefined } {
    const batch = this.orders.get(key);
    return { batch, blockedUntilMs: batch === undefined ? undefined : blockedUntilMs(batch, nowMs) };
  }

  /**
   * A FIFO pop of one queue: the batch blocks the queue; acked messages of an expired batch are not sent again, and
   * one delivered retryMaxTimes + 1 times goes to %DLQ%<group> instead (then counts as acked).
   */
  async pop(
    req: PopRequest,
    orderKey: string,
    prev: OrderBatch | undefined,
    offset: bigint,
    nextBeginOffset: bigint,
    msgs: MessageExt[],
    popTimeMs: number,
    rest: bigint,
  ): Promise<QueuePop> {
    const queueId = m0(msgs).queueId;
    const entries = new Map<bigint, OrderEntry>();
    const batch: OrderBatch = { startOffset: offset, nextBeginOffset, entries };
    const maxAttempts =
      (this.deps.groups.get(req.group)?.retryMaxTimes ?? this.deps.config.maxReconsumeTimesDefault) + 1;
    const sent: MessageExt[] = [];
    let orderCount = 0;
    for (const m of msgs) {
      const before = prev?.entries.get(m.queueOffset);
      if (before?.acked === true) {
        entries.set(m.queueOffset, before);
        continue;
      }
      const attempts = (before?.attempts ?? 0) + 1;
      if (attempts > maxAttempts && (await this.deadLetter(req.group, req.topic, m))) {
        entries.set(m.queueOffset, { popTimeMs, invisibleTimeMs: 0, acked: true, attempts });
        continue;
      }
      orderCount = Math.max(orderCount, attempts - 1);
      entries.set(m.queueOffset, { popTimeMs, invisibleTimeMs: req.invisibleTimeMs, acked: false, attempts });
      sent.push(m);
    }
    this.orders.set(orderKey, batch);
    if (sent.length === 0) {
      // Everything read was acked or dead-lettered already: move on, and the caller reads on from there.
      this.commit(req.group, req.topic, queueId, orderKey, batch);
      return { messages: [], rest, readAgain: true };
    }
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
      return poppedOf(req.topic, m, info, attempts - 1);
    });
    const sentOffsets = sent.map((m) => m.queueOffset);
    return { messages: popped, rest, queue: queueOf(false, queueId, offset, sentOffsets, orderCount) };
  }

  /** A FIFO message out of attempts, copied into the group's DLQ; false if it could not be stored. */
  private async deadLetter(group: string, topic: string, m: MessageExt): Promise<boolean> {
    const { topics, put } = this.deps;
    const dlq = dlqTopicOf(group);
    topics.ensureTopic(dlq, 1, Perm.read | Perm.write);
    const props = new Map(m.properties);
    if (!props.has(Prop.retryTopic)) props.set(Prop.retryTopic, topic);
    const r = await put.putRewritten({ ...messageInputOf(m, props, dlq, 0), reconsumeTimes: m.reconsumeTimes + 1 });
    const stored = answerOfPutStatus(r.status, r.remark).stored;
    if (stored) this.deadLettered++;
    return stored;
  }

  async ack(group: string, topic: string, e: ExtraInfo): Promise<AckResult> {
    const key = orderKeyOf(group, topic, e.queueId);
    return this.mutex.run(key, async () => {
      const batch = this.orders.get(key);
      const entry = batch?.entries.get(e.queueOffset);
      if (batch === undefined || entry === undefined || entry.acked || entry.popTimeMs !== e.popTimeMs) return expired;
      entry.acked = true;
      this.commit(group, topic, e.queueId, key, batch);
      return { status: 'ok' } as const;
    });
  }

  change(group: string, topic: string, e: ExtraInfo, invisibleTimeMs: number, now: number): Promise<ChangeResult> {
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
  private commit(group: string, topic: string, queueId: number, key: string, batch: OrderBatch): void {
    const offset = committableOffset(batch);
    const at = this.deps.offsets.query(group, topic, queueId);
    if (at === undefined || offset > at) this.deps.offsets.commit(group, topic, queueId, offset);
    if (offset === batch.nextBeginOffset) {
      this.orders.delete(key);
      this.waiters.wakeTopic(topic);
    }
  }
}

function m0(msgs: readonly MessageExt[]): MessageExt {
  return msgs[0] as MessageExt;
}
