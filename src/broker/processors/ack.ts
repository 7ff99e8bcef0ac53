/**
 * ACK_MESSAGE (200051), BATCH_ACK_MESSAGE (200151) and CHANGE_MESSAGE_INVISIBLETIME (200053): the remoting face of
 * PopService.ack / changeInvisible. A handle past its deadline, already acked or changed is answered NO_MESSAGE
 * (nothing done); a malformed extraInfo or batch body INVALID_PARAMETER naming what is wrong.
 */
import { keySeparator } from '../../common/properties.js';
import { popRetryTopicOf } from '../../common/topics.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import {
  type BatchAckExpired,
  decodeAckMessageHeader,
  decodeBatchAckBody,
  decodeChangeInvisibleTimeHeader,
  encodeBatchAckResponseHeader,
  encodeChangeInvisibleTimeResponseHeader,
} from '../../remoting/protocol/pop.js';
import type { BrokerContext } from '../context.js';

const expiredRemark = 'the receipt handle expired or was already acked or changed; nothing done';

export async function ackMessage(ctx: BrokerContext, req: RemotingCommand) {
  const h = decodeAckMessageHeader(req);
  const r = await ctx.pop.ack(h.consumerGroup, topicOfHeader(h), withOffset(h.extraInfo, h.offset));
  if (r.status === 'ok') return createResponse(req, ResponseCode.SUCCESS);
  if (r.status === 'expired') return createResponse(req, ResponseCode.NO_MESSAGE, expiredRemark);
  return createResponse(req, r.code, r.remark);
}

export async function batchAckMessage(ctx: BrokerContext, req: RemotingCommand) {
  const decoded = decodeBatchAckBody(req.body);
  if (!decoded.ok) return createResponse(req, ResponseCode.INVALID_PARAMETER, decoded.error);
  const { brokerName, acks } = decoded.body;
  if (brokerName !== '' && brokerName !== ctx.config.brokerName) {
    return createResponse(
      req,
      ResponseCode.INVALID_PARAMETER,
      `the batch ack is of broker ${brokerName}, this is ${ctx.config.brokerName}`,
    );
  }
  const expired: BatchAckExpired[] = [];
  let count = 0;
  for (let i = 0; i < acks.length; i++) {
    const a = acks[i] as (typeof acks)[number];
    // One check point per entry: one revive-log record for all its offsets.
    const r = await ctx.pop.ackBatch({
      group: a.consumerGroup,
      topic: a.topic,
      retry: a.retry,
      queueId: a.queueId,
      ckOffset: a.startOffset,
      popTimeMs: a.popTime,
      invisibleTimeMs: a.invisibleTime,
      reviveQid: a.reviveQueueId,
      offsets: a.offsets,
    });
    if (r.status === 'refused') return createResponse(req, r.code, r.remark);
    if (r.expired.length > 0) {
      expired.push({ ack: i, offsets: r.expired });
      count += r.expired.length;
    }
  }
  const resp = createResponse(
    req,
    ResponseCode.SUCCESS,
    count > 0 ? `${count} of the acks were too late: ${expiredRemark}` : undefined,
  );
  // Which ones, so a client can fail just those (RocketMQ's answer has no header: its clients ignore this).
  if (count > 0) resp.extFields = encodeBatchAckResponseHeader({ expired });
  return resp;
}

export async function changeInvisibleTime(ctx: BrokerContext, req: RemotingCommand) {
  const h = decodeChangeInvisibleTimeHeader(req);
  const ms = h.invisibleTime > BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(h.invisibleTime);
  const r = await ctx.pop.changeInvisible(h.consumerGroup, topicOfHeader(h), withOffset(h.extraInfo, h.offset), ms);
  if (r.status === 'expired') return createResponse(req, ResponseCode.NO_MESSAGE, expiredRemark);
  if (r.status === 'refused') return createResponse(req, r.code, r.remark);
  const resp = createResponse(req, ResponseCode.SUCCESS);
  resp.extFields = encodeChangeInvisibleTimeResponseHeader({
    popTime: r.popTimeMs,
    invisibleTime: r.invisibleTimeMs,
    reviveQid: Number(r.handle.split(keySeparator)[3]),
  });
  return resp;
}

/** An extraInfo of 7 fields (without the message's queue offset, as older clients build it) gets the header's. */
function withOffset(extraInfo: string, offset: bigint): string {
  return extraInfo.trim().split(keySeparator).length === 7 ? `${extraInfo.trim()}${keySeparator}${offset}` : extraInfo;
}

/**
 * RocketMQ's clients name the real topic in ACK / CHANGE: `%RETRY%<group>_<topic>` for a revived message
 * (ExtraInfoUtil.getRealTopic); PopService takes the original topic and reads the retry mark from the handle.
 */
function topicOfHeader(h: { consumerGroup: string; topic: string }): string {
  const retryPrefix = popRetryTopicOf(h.consumerGroup, '');
  return h.topic.startsWith(retryPrefix) ? h.topic.slice(retryPrefix.length) : h.topic;
}
