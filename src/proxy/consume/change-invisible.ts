/**
 * ChangeInvisibleDuration: the message stays invisible for the new duration from now, and the answer carries the
 * receipt handle that replaces the old one (RocketMQ 5.3.3's ChangeInvisibleDurationActivity; a PushConsumer's
 * nack with back-off). An auto-renewed message stops being renewed: the client now holds the new handle.
 */
import type { Metadata } from '@grpc/grpc-js';
import { clientIdOf, type ProxyContext } from '../context.js';
import { Code, type Status, status } from '../proto.js';
import { statusOfResponse } from '../response-code.js';
import { checkReceiptHandle, expiredStatus } from './ack-message.js';
import { checkedGroup, checkedInvisibleTime, checkedTopic } from './receive-params.js';
import { type ChangeInvisibleDurationRequest, msOfDuration } from './requests.js';

export interface ChangeInvisibleDurationResponse {
  status: Status;
  receiptHandle: string;
}

export async function changeInvisibleDuration(
  ctx: ProxyContext,
  req: ChangeInvisibleDurationRequest,
  metadata: Metadata,
): Promise<ChangeInvisibleDurationResponse> {
  const refuse = (s: Status) => ({ status: s, receiptHandle: '' });
  const group = checkedGroup(req.group);
  if (!group.ok) return refuse(group.status);
  const topic = checkedTopic(req.topic);
  if (!topic.ok) return refuse(topic.status);
  const given = req.receiptHandle ?? '';
  const bad = checkReceiptHandle(given);
  if (bad !== undefined) return refuse(bad);
  const inv = checkedInvisibleTime(msOfDuration(req.invisibleDuration));
  if (!inv.ok) return refuse(inv.status);
  const clientId = clientIdOf(metadata);
  const handle = await ctx.renewals.take(clientId, given);
  const r = await ctx.broker.pop.changeInvisible(group.value, topic.value, handle, inv.value);
  if (r.status === 'ok') return { status: status(Code.OK), receiptHandle: r.handle };
  if (r.status === 'expired') return refuse(expiredStatus());
  return refuse(statusOfResponse(r.code, r.remark));
}
