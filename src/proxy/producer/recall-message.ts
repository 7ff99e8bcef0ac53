/**
 * RecallMessage (RocketMQ 5.3): cancels a DELAY message before it is due. The recall handle SendMessage gave
 * (broker/timer/recall.ts) names topic, deliver time and message id; the broker's timer service then keeps that
 * message from being delivered. A handle of another topic or broker, or a message already due, is refused.
 */
import type { Metadata } from '@grpc/grpc-js';
import { ipv4HostOf } from '../../broker/host.js';
import { decodeRecallHandle } from '../../broker/timer/recall.js';
import type { ProxyContext } from '../context.js';
import { Code, type Resource, type Status, status } from '../proto.js';
import { checkTopicResource } from '../resources.js';

export interface RecallMessageRequest {
  topic: Resource | null;
  recallHandle: string;
}

export interface RecallMessageResponse {
  status: Status;
  messageId: string;
}

export async function recallMessage(
  ctx: ProxyContext,
  req: RecallMessageRequest,
  _metadata: Metadata,
  peer: string,
): Promise<RecallMessageResponse> {
  const refused = (s: Status) => ({ status: s, messageId: '' });
  const bad = checkTopicResource(req.topic);
  if (bad !== undefined) return refused(bad);
  const topic = (req.topic as Resource).name;
  const target = decodeRecallHandle(req.recallHandle);
  if (target === undefined) return refused(status(Code.BAD_REQUEST, 'recall handle is not one this broker gave'));
  if (target.topic !== topic) {
    return refused(status(Code.BAD_REQUEST, `recall handle is for topic ${target.topic}, not ${topic}`));
  }
  const brokerName = ctx.broker.config.brokerName;
  if (target.brokerName !== brokerName) {
    return refused(status(Code.BAD_REQUEST, `recall handle is for broker ${target.brokerName}, this is ${brokerName}`));
  }
  const r = await ctx.recallTimer(topic, target.messageId, target.deliverMs, ipv4HostOf(peer));
  switch (r.status) {
    case 'recalled':
      return { status: status(Code.OK), messageId: target.messageId };
    case 'due':
      return refused(status(Code.MESSAGE_NOT_FOUND, `message ${target.messageId} is due already: too late to recall`));
    default:
      return refused(status(Code.INTERNAL_SERVER_ERROR, `recall not stored: ${r.remark}`));
  }
}
