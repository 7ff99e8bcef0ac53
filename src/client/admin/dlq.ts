/**
 * Resend from the DLQ: a message of `%DLQ%<group>` goes back to `%RETRY%<group>`, so only that group receives it
 * again, with reconsumeTimes 0 (its full retry budget) and RETRY_TOPIC / ORIGIN_MESSAGE_ID / UNIQ_KEY kept (the
 * consumer sees the original topic and id). Only existing requests: VIEW_MESSAGE_BY_ID (33) or QUERY_MESSAGE (12)
 * or PULL_MESSAGE (11) to read, and a plain SEND_MESSAGE_V2 (310) to the group's own retry topic, which brokers
 * (ours and RocketMQ's) accept from any client. The DLQ copy stays; resending it twice delivers it twice.
 */
import { InvalidArgumentError, TsRocketError } from '../../common/errors.js';
import { type MessageExt, SysFlag } from '../../common/message.js';
import { encodeProperties, Prop } from '../../common/properties.js';
import { dlqTopicOf, retryTopicOf } from '../../common/topics.js';
import { checkGroupName } from '../../common/validate.js';
import { RequestCode } from '../../remoting/codes.js';
import { decodeSendResponseHeader, encodeSendHeaderV2 } from '../../remoting/protocol/send.js';
import { encodeTopicHeader } from '../../remoting/protocol/topic-admin.js';
import { decodeTopicStats } from './bodies.js';
import { pullBatchMax, pullOnce, toolsProducerGroup, viewMessageById } from './messages.js';
import { type AdminRpc, masterAddrOf } from './rpc.js';

/** The group has no DLQ topic, or the message asked for is not in it. */
export class DlqMessageNotFoundError extends TsRocketError {}

/** Which DLQ messages to resend: one by id, or a range of queue offsets (default: all) per broker. */
export type DlqSelection =
  | { msgId: string }
  | {
      /** Only the DLQ queue of this brokerName. */
      brokerName?: string | undefined;
      /** First DLQ queue offset (inclusive); default the queue's min offset. */
      beginOffset?: number | undefined;
      /** Last DLQ queue offset (exclusive); default the queue's max offset when the resend starts. */
      endOffset?: number | undefined;
    };

export interface DlqResent {
  /** The client msgId (UNIQ_KEY), as the consumer will see it. */
  msgId: string;
  /** The original topic (RETRY_TOPIC) the consumer will see. */
  topic: string;
  brokerName: string;
  /** Where the copy sat in the DLQ. */
  dlqQueueOffset: number;
  dlqOffsetMsgId: string;
  /** The new record in `%RETRY%<group>`. */
  retryOffsetMsgId: string;
}

/** Properties that would delay, re-route or re-count the resent copy: the copy starts afresh. */
const droppedProps: readonly string[] = [
  Prop.delayLevel,
  Prop.timerDeliverMs,
  Prop.timerDelaySec,
  Prop.timerDelayMs,
  Prop.timerOutMs,
  Prop.startDeliverTime,
  Prop.realTopic,
  Prop.realQueueId,
  Prop.transactionPrepared,
  Prop.reconsumeTime,
  Prop.maxReconsumeTimes,
];

/** Body and sysFlag bits a SEND keeps: compression (the body stays as stored) and MULTI_TAGS. */
const keptSysFlag = SysFlag.compressed | SysFlag.multiTags | SysFlag.compressionTypeMask;

export async function resendFromDlq(rpc: AdminRpc, group: string, selection: DlqSelection): Promise<DlqResent[]> {
  const bad = checkGroupName(group);
  if (bad !== undefined) throw new InvalidArgumentError(bad);
  const dlq = dlqTopicOf(group);
  if ('msgId' in selection) {
    const found = await viewMessageById(rpc, selection.msgId, dlq);
    // A message dead-lettered twice (resent, failed again) has a copy per round: the newest is the live one.
    const msg = found.filter((m) => m.topic === dlq).sort((a, b) => Number(b.storeTimestamp - a.storeTimestamp))[0];
    if (msg === undefined) throw new DlqMessageNotFoundError(`message ${selection.msgId} is not in ${dlq}`);
    const brokerName = await brokerNameOf(rpc, msg.storeHost);
    return [await resendOne(rpc, group, msg, msg.storeHost, brokerName)];
  }
  const { brokerName, beginOffset, endOffset } = selection;
  for (const [name, v] of [
    ['beginOffset', beginOffset],
    ['endOffset', endOffset],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new InvalidArgumentError(`${name} must be ≥ 0`);
  }
  const route = await rpc.topicRoute(dlq).catch((err: unknown) => {
    throw new DlqMessageNotFoundError(`group ${group} has no ${dlq} (nothing was dead-lettered)`, { cause: err });
  });
  const out: DlqResent[] = [];
  for (const qd of route.queueDatas) {
    if (brokerName !== undefined && qd.brokerName !== brokerName) continue;
    const bd = route.brokerDatas.find((b) => b.brokerName === qd.brokerName);
    const addr = bd === undefined ? undefined : masterAddrOf(bd);
    if (addr === undefined) continue;
    const stats = decodeTopicStats(
      (await rpc.call(addr, RequestCode.GET_TOPIC_STATS_INFO, encodeTopicHeader({ topic: dlq }))).body,
    );
    for (const q of stats) {
      const queueId = q.queueId;
      // The end is fixed before the first resend, so a copy that is dead-lettered again is not resent again.
      const end = Math.min(endOffset ?? q.maxOffset, q.maxOffset);
      let offset = Math.max(beginOffset ?? q.minOffset, q.minOffset);
      while (offset < end) {
        const page = await pullOnce(rpc, addr, dlq, queueId, offset, Math.min(pullBatchMax, end - offset));
        if (page.messages.length === 0) {
          if (page.nextBeginOffset <= offset) break;
          offset = page.nextBeginOffset;
          continue;
        }
        for (const msg of page.messages) {
          if (Number(msg.queueOffset) >= end) break;
          out.push(await resendOne(rpc, group, msg, addr, qd.brokerName));
        }
        offset = Math.max(page.nextBeginOffset, offset + 1);
      }
    }
  }
  return out;
}

async function resendOne(
  rpc: AdminRpc,
  group: string,
  msg: MessageExt,
  addr: string,
  brokerName: string,
): Promise<DlqResent> {
  const props = new Map(msg.properties);
  for (const p of droppedProps) props.delete(p);
  const resp = await rpc.call(
    addr,
    RequestCode.SEND_MESSAGE_V2,
    encodeSendHeaderV2({
      producerGroup: toolsProducerGroup,
      topic: retryTopicOf(group),
      queueId: -1, // the broker picks one of the retry topic's queues
      sysFlag: msg.sysFlag & keptSysFlag,
      bornTimestamp: msg.bornTimestamp,
      flag: msg.flag,
      properties: encodeProperties(props),
      reconsumeTimes: 0,
      batch: false,
    }),
    msg.body,
  );
  return {
    msgId: props.get(Prop.uniqKey) ?? msg.offsetMsgId,
    topic: props.get(Prop.retryTopic) ?? msg.topic,
    brokerName,
    dlqQueueOffset: Number(msg.queueOffset),
    dlqOffsetMsgId: msg.offsetMsgId,
    retryOffsetMsgId: decodeSendResponseHeader(resp).msgId ?? '',
  };
}

async function brokerNameOf(rpc: AdminRpc, addr: string): Promise<string> {
  const info = await rpc.clusterInfo();
  for (const bd of Object.values(info.brokerAddrTable)) {
    if (Object.values(bd.brokerAddrs).includes(addr)) return bd.brokerName;
  }
  return addr;
}
