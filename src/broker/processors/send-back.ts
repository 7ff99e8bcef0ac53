/**
 * CONSUMER_SEND_MSG_BACK (36): a consumer failed a message; copy it into %RETRY%<group> (reconsumeTimes + 1,
 * RETRY_TOPIC, ORIGIN_MESSAGE_ID) with DELAY = the header's level, or 3 + reconsumeTimes when it is 0 (10 s,
 * 30 s, 1 m, … with the default levels). The put hooks move it to %DLQ%<group> past maxReconsumeTimes (not
 * delayed), or else to SCHEDULE_TOPIC_XXXX until it is due; it is stored before SUCCESS is answered.
 */
import { Prop } from '../../common/properties.js';
import { decodeRecord } from '../../common/record.js';
import { dlqTopicPrefix, retryTopicOf } from '../../common/topics.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { decodeSendMsgBackHeader } from '../../remoting/protocol/send-back.js';
import type { BrokerContext } from '../context.js';
import { isWriteable, Perm } from '../metadata/perm.js';
import { messageInputOf } from '../put/message-input.js';
import { answerOfPutStatus } from '../put/put-status.js';
import type { PutMessage, PutRequest } from '../put/types.js';

export async function consumerSendMsgBack(ctx: BrokerContext, req: RemotingCommand) {
  const h = decodeSendMsgBackHeader(req);
  const answer = await sendMessageBack(ctx, h);
  return createResponse(req, answer.code, answer.remark);
}

/** What a send-back needs: the failed message's CommitLog offset, the group, the level (< 0: DLQ at once). */
export interface SendBackArgs {
  readonly offset: bigint;
  readonly group: string;
  readonly delayLevel: number;
  /** Undefined: the group's retryMaxTimes. */
  readonly maxReconsumeTimes?: number | undefined;
}

/** The send-back itself, shared by CONSUMER_SEND_MSG_BACK and the gRPC endpoint's ForwardMessageToDeadLetterQueue. */
export async function sendMessageBack(
  ctx: BrokerContext,
  h: SendBackArgs,
): Promise<{ code: number; remark: string | undefined }> {
  const { offset, group: groupName, delayLevel } = h;
  const group = ctx.groups.findOrCreate(groupName);
  if (group === undefined) {
    return { code: ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, remark: ctx.groups.missingRemark(groupName) };
  }
  if (!isWriteable(ctx.config.brokerPermission)) {
    return {
      code: ResponseCode.NO_PERMISSION,
      remark: `the broker[${ctx.config.brokerName}] sending message is forbidden`,
    };
  }
  if (group.retryQueueNums <= 0) return { code: ResponseCode.SUCCESS, remark: undefined };
  const maxReconsumeTimes = h.maxReconsumeTimes ?? group.retryMaxTimes;

  const record = offset < 0n ? undefined : await ctx.store.lookMessageByOffset(offset);
  if (record === undefined) {
    return { code: ResponseCode.SYSTEM_ERROR, remark: `look message by offset ${offset} failed: no such message` };
  }
  const { msg } = decodeRecord(record);
  const props = new Map(msg.properties);
  if (!props.has(Prop.retryTopic)) props.set(Prop.retryTopic, msg.topic);
  // As RocketMQ: the stored record's id, not the header's originMsgId (the Java client sends its UNIQ_KEY there).
  props.set(Prop.originMessageId, props.get(Prop.originMessageId) || msg.offsetMsgId);
  // Retry back-off (RocketMQ: level 0 → 3 + reconsumeTimes); the delay hook clamps it to the last level.
  props.set(Prop.delayLevel, String(delayLevel > 0 ? delayLevel : 3 + msg.reconsumeTimes));
  const retryTopic = retryTopicOf(groupName);
  const queueNums = Math.max(1, group.retryQueueNums);
  const input: PutMessage = {
    ...messageInputOf(msg, props, retryTopic, Math.floor(Math.random() * queueNums)),
    reconsumeTimes: msg.reconsumeTimes + 1,
    preparedTransactionOffset: 0n,
    transactionPrepared: props.get(Prop.transactionPrepared)?.toLowerCase() === 'true',
    scheduled: true,
  };
  // Compared before the increment, as RocketMQ's send-back does; delayLevel < 0 asks for the DLQ at once.
  const putReq: PutRequest = { reconsumeTimes: msg.reconsumeTimes, maxReconsumeTimes, deadLetterNow: delayLevel < 0 };
  const refused = ctx.put.rewrite(input, putReq);
  if (refused !== undefined) return { code: refused.code, remark: refused.remark };
  if (!input.topic.startsWith(dlqTopicPrefix)) ctx.topics.ensureTopic(retryTopic, queueNums, Perm.read | Perm.write);
  const r = await ctx.put.putRewritten(input);
  const answer = answerOfPutStatus(r.status, r.remark);
  return { code: answer.stored ? ResponseCode.SUCCESS : answer.code, remark: answer.remark };
}
