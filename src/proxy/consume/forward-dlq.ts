/**
 * ForwardMessageToDeadLetterQueue: a consumer gave up on a message (its attempts used up); it is stored in
 * %DLQ%<group> and then acked (RocketMQ 5.3.3: CONSUMER_SEND_MSG_BACK with delay level -1, then ack). The handle is
 * first checked alive by extending its invisible time, so an expired one is refused before any DLQ copy exists
 * (else the message would both come back and sit in the DLQ).
 */
import type { Metadata } from '@grpc/grpc-js';
import { parseExtraInfo } from '../../broker/pop/extra-info.js';
import { sendMessageBack } from '../../broker/processors/send-back.js';
import { ResponseCode } from '../../remoting/codes.js';
import { clientIdOf, type ProxyContext } from '../context.js';
import { Code, type Status, status } from '../proto.js';
import { statusOfResponse } from '../response-code.js';
import { checkReceiptHandle, expiredStatus } from './ack-message.js';
import { checkedGroup, checkedTopic } from './receive-params.js';
import type { ForwardMessageToDeadLetterQueueRequest } from './requests.js';

/** The handle is held this long while the DLQ copy is written; a failed write lets the message come back after it. */
export const forwardHoldMs = 10_000;

export async function forwardMessageToDeadLetterQueue(
  ctx: ProxyContext,
  req: ForwardMessageToDeadLetterQueueRequest,
  metadata: Metadata,
): Promise<{ status: Status }> {
  const group = checkedGroup(req.group);
  if (!group.ok) return { status: group.status };
  const topic = checkedTopic(req.topic);
  if (!topic.ok) return { status: topic.status };
  const given = req.receiptHandle ?? '';
  const bad = checkReceiptHandle(given);
  if (bad !== undefined) return { status: bad };
  const handle = await ctx.renewals.take(clientIdOf(metadata), given);
  const pop = ctx.broker.pop;
  const held = await pop.changeInvisible(group.value, topic.value, handle, forwardHoldMs);
  if (held.status === 'expired') return { status: expiredStatus() };
  if (held.status === 'refused') return { status: statusOfResponse(held.code, held.remark) };
  const info = parseExtraInfo(held.handle);
  const offset = typeof info === 'string' ? undefined : info.commitLogOffset;
  if (offset === undefined)
    return { status: status(Code.INTERNAL_SERVER_ERROR, `POP answered a bad handle: ${held.handle}`) };
  const sent = await sendMessageBack(ctx.broker, { offset, group: group.value, delayLevel: -1 });
  if (sent.code !== ResponseCode.SUCCESS) return { status: statusOfResponse(sent.code, sent.remark) };
  const acked = await pop.ack(group.value, topic.value, held.handle);
  if (acked.status === 'refused') return { status: statusOfResponse(acked.code, acked.remark) };
  // 'expired' here would mean the hold ran out while the copy was written: the DLQ has it, the message may come back once.
  return { status: status(Code.OK) };
}
