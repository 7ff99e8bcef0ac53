/**
 * INVOKE_BROKER_TO_RESET_OFFSET (222): rewind or skip a group's offsets on one topic by time. The broker finds
 * each queue's offset (first message stored at or after the time; the end for timestamp -1), stores it (RocketMQ
 * 5's server-side reset, so it holds with no consumer online), and pushes RESET_CONSUMER_CLIENT_OFFSET (220) with
 * the new offsets to every live consumer of the group (RocketMQ 4's Broker2Client), which drops what it has
 * pulled and reads on from there. A pull or commit that crossed the push is caught by the pending reset
 * (`ConsumerOffsetManager.takeReset`). Without isForce a queue only moves back, as in RocketMQ.
 */
import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { createRequest, createResponse, type RemotingCommand } from '../../remoting/command.js';
import {
  decodeResetOffsetHeader,
  encodeResetOffsetBody,
  encodeResetOffsetHeader,
  type QueueOffset,
} from '../../remoting/protocol/reset-offset.js';
import type { BrokerContext } from '../context.js';

export async function invokeBrokerToResetOffset(ctx: BrokerContext, req: RemotingCommand) {
  const h = decodeResetOffsetHeader(req);
  const fail = (code: number, remark: string) => createResponse(req, code, remark);
  const tc = ctx.topics.get(h.topic);
  if (tc === undefined) {
    return fail(ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist on broker ${ctx.config.brokerName}`);
  }
  if (ctx.groups.get(h.group) === undefined) {
    return fail(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, ctx.groups.missingRemark(h.group));
  }
  const queueId = h.queueId ?? -1;
  if (queueId >= tc.readQueueNums) {
    return fail(
      ResponseCode.INVALID_PARAMETER,
      `queueId[${queueId}] is illegal, topic ${h.topic} has ${tc.readQueueNums} read queues`,
    );
  }
  const queueIds = queueId >= 0 ? [queueId] : Array.from({ length: tc.readQueueNums }, (_, i) => i);
  const brokerName = ctx.config.brokerName;
  const result: QueueOffset[] = [];
  const moved: QueueOffset[] = [];
  for (const q of queueIds) {
    let target: bigint;
    if (queueId >= 0 && h.offset !== undefined && h.offset >= 0n) {
      const min = ctx.store.getMinOffsetInQueue(h.topic, q);
      const max = ctx.store.getMaxOffsetInQueue(h.topic, q);
      if (h.offset < min || h.offset > max) {
        return fail(ResponseCode.SYSTEM_ERROR, `target offset ${h.offset} not in consume queue range [${min}-${max}]`);
      }
      target = h.offset;
    } else if (h.timestamp < 0) {
      target = ctx.store.getMaxOffsetInQueue(h.topic, q);
    } else {
      target = await ctx.store.getOffsetInQueueByTime(h.topic, q, BigInt(h.timestamp));
    }
    const committed = ctx.offsets.query(h.group, h.topic, q);
    const entry = { topic: h.topic, brokerName, queueId: q, offset: target };
    if (!h.isForce && committed !== undefined && target >= committed) {
      result.push({ ...entry, offset: committed });
      continue;
    }
    ctx.offsets.assignReset(h.group, h.topic, q, target);
    result.push(entry);
    moved.push(entry);
  }
  if (moved.length > 0) pushToConsumers(ctx, h.topic, h.group, h.timestamp, moved);
  return createResponse(req, ResponseCode.SUCCESS, undefined, undefined, encodeResetOffsetBody(result));
}

/** RESET_CONSUMER_CLIENT_OFFSET (oneway, as RocketMQ) to each connection of the group's live consumers. */
function pushToConsumers(
  ctx: BrokerContext,
  topic: string,
  group: string,
  timestamp: number,
  moved: readonly QueueOffset[],
): void {
  const clients = ctx.clients.consumers.get(group)?.clients;
  if (clients === undefined || clients.size === 0) return;
  const fields = encodeResetOffsetHeader({ topic, group, timestamp, isForce: false });
  const body = encodeResetOffsetBody(moved);
  for (const c of clients.values()) {
    c.conn.invokeOneway(createRequest(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, fields, body));
  }
}
