/**
 * The revive pass (RocketMQ's PopReviveService), and the read-back of the revive log at start: a check point past its deadline puts each unacked message back
 * as a new message of `%RETRY%<group>_<topic>` (reconsumeTimes + 1, RETRY_TOPIC = the original topic,
 * 1ST_POP_TIME kept), or of `%DLQ%<group>` once it was delivered retryMaxTimes + 1 times. The deadline is the
 * back-off: a revived message is visible at once. A put that fails leaves the check point for the next pass.
 */
import { Prop } from '../../common/properties.js';
import { decodeRecord } from '../../common/record.js';
import { dlqTopicOf, popRetryTopicOf, SystemGroup } from '../../common/topics.js';
import { GetStatus } from '../../store/types.js';
import { Perm } from '../metadata/perm.js';
import { messageInputOf } from '../put/message-input.js';
import { answerOfPutStatus } from '../put/put-status.js';
import { allAcked, type CheckPoint, indexOfOffset, isAcked } from './check-points.js';
import type { BrokerPopService } from './pop-service.js';

/**
 * At start: every revive queue read from its checkpoint into the check point table, acks applied; the group's
 * consume offset is moved to at least each stored check point's end, whatever offset was persisted.
 */
export async function readBack(pop: BrokerPopService): Promise<void> {
  const { offsets, config, log } = pop.deps;
  let cks = 0;
  for (let q = 0; q < config.reviveQueueNum; q++) {
    const from = offsets.query(SystemGroup.revive, pop.reviveTopic, q) ?? 0n;
    await pop.reviveLog.replay(
      q,
      from,
      (ck) => {
        cks++;
        pop.checkPoints.add(ck);
        const at = offsets.query(ck.group, ck.realTopic, ck.queueId);
        if (at === undefined || at < ck.nextBeginOffset) {
          offsets.commit(ck.group, ck.realTopic, ck.queueId, ck.nextBeginOffset);
        }
      },
      (ack) => {
        const ck = pop.checkPoints.get(ack.key);
        if (ck === undefined) return;
        for (const o of ack.offsets) {
          const i = indexOfOffset(ck, o);
          if (i >= 0) ck.ackedBits |= 1 << i;
        }
        if (allAcked(ck)) pop.checkPoints.delete(ck.key);
      },
    );
  }
  if (cks > 0) log.info('pop check points read back', { cks, pending: pop.checkPoints.size });
}

export async function reviveDue(pop: BrokerPopService, nowMs: number): Promise<void> {
  for (const ck of pop.checkPoints.due(nowMs)) {
    ck.reviving = true;
    let ok = false;
    try {
      ok = await reviveCheckPoint(pop, ck);
    } catch (err) {
      pop.deps.log.warn('pop revive failed; retried next pass', { ck: ck.key, err });
    }
    if (ok) pop.checkPoints.delete(ck.key);
    else ck.reviving = false;
  }
}

/** Puts back every unacked message of the check point; false if one could not be stored. */
async function reviveCheckPoint(pop: BrokerPopService, ck: CheckPoint): Promise<boolean> {
  const { store, groups, config, topics, put, log } = pop.deps;
  for (let i = 0; i < ck.offsets.length; i++) {
    if (isAcked(ck, i)) continue;
    const offset = ck.offsets[i] as bigint;
    const r = await store.getMessage(ck.realTopic, ck.queueId, offset, 1, config.pullBytesMax);
    const record = r.status === GetStatus.FOUND ? r.records[0] : undefined;
    if (record === undefined || r.queueOffsets[0] !== offset) {
      r.release?.();
      // Gone with retention (or its topic deleted): nothing left to deliver.
      log.warn('pop revive: message no longer stored', { topic: ck.realTopic, queueId: ck.queueId, offset });
      continue;
    }
    const { msg } = decodeRecord(record);
    r.release?.();
    const maxTimes = groups.get(ck.group)?.retryMaxTimes ?? config.maxReconsumeTimesDefault;
    const dead = msg.reconsumeTimes >= maxTimes;
    const topic = dead ? dlqTopicOf(ck.group) : popRetryTopicOf(ck.group, ck.topic);
    topics.ensureTopic(topic, 1, Perm.read | Perm.write);
    const props = new Map(msg.properties);
    if (!props.has(Prop.retryTopic)) props.set(Prop.retryTopic, ck.topic);
    if (!props.has(Prop.firstPopTime)) props.set(Prop.firstPopTime, String(ck.popTimeMs));
    props.delete(Prop.popCk);
    const input = { ...messageInputOf(msg, props, topic, 0), reconsumeTimes: msg.reconsumeTimes + 1 };
    const stored = await put.putRewritten(input);
    if (!answerOfPutStatus(stored.status, stored.remark).stored) return false;
    if (dead) pop.counters.deadLettered++;
    else pop.counters.revived++;
    // Marked as done, so a pass that fails later in this check point does not put it twice.
    ck.ackedBits |= 1 << i;
  }
  return true;
}
