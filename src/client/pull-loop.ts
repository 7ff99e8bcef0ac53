/**
 * The long-polling pull loop of one queue of a push consumer (RocketMQ's PullMessageService +
 * PullAPIWrapper): pause while the queue's cache is over its limits, pull with the suspend flag and the
 * commit offset, keep only messages whose tag matches exactly, and hand them to the consume service.
 * Offsets move past filtered-out messages: the queue's commit offset follows each pull's nextBeginOffset.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Prop } from '../common/properties.js';
import { retryTopicOf } from '../common/topics.js';
import { PullSysFlag } from '../remoting/codes.js';
import { PullStatus } from './client-api.js';
import type { ClientInstance } from './client-instance.js';
import { type MessageQueue, queueKey } from './message-queue.js';
import type { OffsetStore } from './offset-store.js';
import type { ProcessQueue } from './process-queue.js';
import { decodePulled, type PullSource, type ReceivedMessage } from './received-message.js';
import { type SubscriptionData, tagMatches } from './subscription.js';

/** Pause before pulling a queue whose cache is full (ms). */
export const flowControlDelayMs = 50;
/** Pause after a failed pull (ms). */
export const pullErrorDelayMs = 1000;
/** Extra time the client waits beyond the broker's suspend time before giving up on a long poll (ms). */
export const pullTimeoutSlackMs = 5000;

/** Where pulled messages go: the concurrent or the orderly consume service. */
export interface ConsumeSubmitter {
  submit(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>, msgs: readonly ReceivedMessage[]): void;
}

export interface PullLoopContext {
  instance: ClientInstance;
  group: string;
  subscription: (topic: string) => SubscriptionData | undefined;
  offsets: OffsetStore;
  consume: ConsumeSubmitter;
  /** Orderly clustering: a queue whose lock is not held is not pulled (RocketMQ pulls it again 3 s later). */
  lockRequired?: boolean;
  isRunning: () => boolean;
  /** Commit offsets piggy-backed on pulls (clustering only). */
  commitOnPull: boolean;
  pullBatchSize: number;
  suspendTimeoutMs: number;
  cachedMessagesMax: number;
  cachedBytesMax: number;
  /** The broker moved the offset: the queue is dropped and re-added by the next rebalance. */
  offsetMoved: (mq: MessageQueue) => void;
}

export async function runPullLoop(
  ctx: PullLoopContext,
  mq: MessageQueue,
  pq: ProcessQueue<ReceivedMessage>,
  start: bigint,
): Promise<void> {
  const log = ctx.instance.logFor('client.pull');
  let nextOffset = start;
  let brokerId = 0;
  const source: PullSource = { brokerName: mq.brokerName, retryTopic: retryTopicOf(ctx.group) };
  const live = () => ctx.isRunning() && !pq.dropped;
  while (live()) {
    if (pq.isOverLimit(ctx.cachedMessagesMax, ctx.cachedBytesMax)) {
      await sleep(flowControlDelayMs);
      continue;
    }
    if (ctx.lockRequired === true && !pq.locked) {
      await sleep(pullErrorDelayMs);
      continue;
    }
    const sub = ctx.subscription(mq.topic);
    if (sub === undefined) return;
    let addr = ctx.instance.readAddr(mq.brokerName, brokerId);
    if (addr === undefined) {
      await ctx.instance.updateRoute(mq.topic).catch(() => undefined);
      addr = ctx.instance.readAddr(mq.brokerName, brokerId);
    }
    if (addr === undefined) {
      await sleep(pullErrorDelayMs);
      continue;
    }
    const commitOffset = ctx.commitOnPull && brokerId === 0 ? (ctx.offsets.memoryOffset(mq) ?? -1n) : -1n;
    let sysFlag = PullSysFlag.suspend | PullSysFlag.subscription;
    if (commitOffset > 0n) sysFlag |= PullSysFlag.commitOffset;
    let result: Awaited<ReturnType<typeof ctx.instance.api.pull>>;
    try {
      result = await ctx.instance.api.pull(
        addr,
        {
          consumerGroup: ctx.group,
          topic: mq.topic,
          queueId: mq.queueId,
          queueOffset: nextOffset,
          maxMsgNums: ctx.pullBatchSize,
          sysFlag,
          commitOffset: commitOffset < 0n ? 0n : commitOffset,
          suspendTimeoutMillis: ctx.suspendTimeoutMs,
          subscription: sub.subString,
          subVersion: sub.subVersion,
          expressionType: sub.expressionType,
        },
        ctx.suspendTimeoutMs + pullTimeoutSlackMs,
      );
    } catch (err) {
      if (!live()) return;
      log.debug('pull failed', { queue: queueKey(mq), err });
      await sleep(pullErrorDelayMs);
      continue;
    }
    pq.lastPullMs = Date.now();
    if (!live()) return;
    brokerId = result.suggestWhichBrokerId;
    switch (result.status) {
      case PullStatus.FOUND: {
        let decoded: ReceivedMessage[];
        try {
          decoded =
            result.body === undefined
              ? []
              : decodePulled(result.body, source, (pos, err) =>
                  log.error('undecodable message skipped', { queue: queueKey(mq), at: pos, err }),
                );
        } catch (err) {
          // Malformed records: pull the same offset again later, as after a failed pull.
          log.warn('malformed pull response', { queue: queueKey(mq), err });
          await sleep(pullErrorDelayMs);
          continue;
        }
        nextOffset = result.nextBeginOffset;
        // The broker filters by tag hash; two tags may share one, so check the exact tag here.
        const msgs =
          sub.tagsSet.length === 0 ? decoded : decoded.filter((m) => tagMatches(sub, m.properties.get(Prop.tags)));
        const added = pq.add(msgs);
        pq.pulledUpTo(nextOffset);
        if (added.length > 0) ctx.consume.submit(mq, pq, added);
        else if (pq.count === 0) ctx.offsets.update(mq, nextOffset, true);
        break;
      }
      case PullStatus.NO_NEW_MSG:
      case PullStatus.NO_MATCHED_MSG:
        nextOffset = result.nextBeginOffset;
        pq.pulledUpTo(nextOffset);
        // Nothing in flight: the filtered-out range is consumed too (else the last consumed message commits it).
        if (pq.count === 0) ctx.offsets.update(mq, nextOffset, true);
        break;
      case PullStatus.OFFSET_ILLEGAL:
        log.warn('pull offset moved by the broker', {
          queue: queueKey(mq),
          from: String(nextOffset),
          to: String(result.nextBeginOffset),
        });
        pq.dropped = true;
        ctx.offsets.update(mq, result.nextBeginOffset, false);
        await ctx.offsets.persistAll([mq]);
        ctx.offsetMoved(mq);
        return;
    }
  }
}
