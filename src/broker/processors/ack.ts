/**
 * ACK_MESSAGE (200051), BATCH_ACK_MESSAGE (200151) and CHANGE_MESSAGE_INVISIBLETIME (200053): the remoting face of
 * PopService.ack / changeInvisible. A handle past its deadline, already acked or changed is answered NO_MESSAGE
 * (nothing done); a malformed extraInfo or batch body INVALID_PARAMETER naming what is wrong.
 */
import { keySeparator } from '../../common/properties.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import {
  decodeAckMessageHeader,
  decodeBatchAckBody,
  decodeChangeInvisibleTimeHeader,
  encodeChangeInvisibleTimeResponseHeader,
} from '../../remoting/protocol/pop.js';
import type { BrokerContext } from '../context.js';
import { buildExtraInfo } from '../pop/extra-info.js';

const expiredRemark = 'the receipt handle expired or was already acked or changed; nothing done';

export async function ackMessage(ctx: BrokerContext, req: RemotingCommand) {
  const h = decodeAckMessageHeader(req);
  const r = await ctx.pop.ack(h.consumerGroup, h.topic, withOffset(h.extraInfo, h.offset));
  if (r.status === 'ok') return createResponse(req, ResponseCode.SUCCESS);
  if (r.status === 'expired') return createResponse(req, ResponseCode.NO_MESSAGE, expiredRemark);
  return createResponse(req, r.code, r.remark);
}

export async function batchAckMessage(ctx: BrokerContext, req: RemotingCommand) {
  const decoded = decodeBatchAckBody(req.body);
  if (!decoded.ok) return createResponse(req, ResponseCode.INVALID_PARAMETER, decoded.error);
  const brokerName = decoded.body.brokerName || ctx.config.brokerName;
  let expired = 0;
  for (const a of decoded.body.acks) {
    for (const offset of a.offsets) {
      const extraInfo = buildExtraInfo({
        ckOffset: a.startOffset,
        popTimeMs: a.popTime,
        invisibleTimeMs: a.invisibleTime,
        reviveQid: a.reviveQueueId,
        retry: a.retry,
        brokerName,
        queueId: a.queueId,
        queueOffset: offset,
      });
      const r = await ctx.pop.ack(a.consumerGroup, a.topic, extraInfo);
      if (r.status === 'refused') return createResponse(req, r.code, r.remark);
      if (r.status === 'expired') expired++;
    }
  }
  return createResponse(
    req,
    ResponseCode.SUCCESS,
    expired > 0 ? `${expired} of the acks were too late: ${expiredRemark}` : undefined,
  );
}

export async function changeInvisibleTime(ctx: BrokerContext, req: RemotingCommand) {
  const h = decodeChangeInvisibleTimeHeader(req);
  const ms = h.invisibleTime > BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(h.invisibleTime);
  const r = await ctx.pop.changeInvisible(h.consumerGroup, h.topic, withOffset(h.extraInfo, h.offset), ms);
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
