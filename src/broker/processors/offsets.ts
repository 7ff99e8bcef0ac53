/**
 * Offset requests: QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15), SEARCH_OFFSET_BY_TIMESTAMP (29),
 * GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), GET_EARLIEST_MSG_STORETIME (32).
 */
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import {
  decodeQueryConsumerOffsetHeader,
  decodeQueueHeader,
  decodeSearchOffsetHeader,
  decodeUpdateConsumerOffsetHeader,
  encodeOffsetResponseHeader,
  encodeTimestampResponseHeader,
} from '../../remoting/protocol/offsets.js';
import type { BrokerContext } from '../context.js';

interface QueueRef {
  topic: string;
  queueId: number;
}

/** The topic/queue of a request, or an error response when the topic or queue does not exist. */
function queueOf(
  ctx: BrokerContext,
  req: RemotingCommand,
  { topic, queueId }: QueueRef = decodeQueueHeader(req),
): QueueRef | RemotingCommand {
  const tc = ctx.topics.get(topic);
  if (tc === undefined) {
    return createResponse(
      req,
      ResponseCode.TOPIC_NOT_EXIST,
      `topic[${topic}] not exist on broker ${ctx.config.brokerName}`,
    );
  }
  const queues = Math.max(tc.readQueueNums, tc.writeQueueNums);
  if (queueId < 0 || queueId >= queues) {
    return createResponse(
      req,
      ResponseCode.INVALID_PARAMETER,
      `queueId[${queueId}] is illegal, topic ${topic} has ${queues} queues`,
    );
  }
  return { topic, queueId };
}

function offsetAnswer(req: RemotingCommand, offset: bigint | number): RemotingCommand {
  const resp = createResponse(req, ResponseCode.SUCCESS);
  resp.extFields = encodeOffsetResponseHeader(offset);
  return resp;
}

export function queryConsumerOffset(ctx: BrokerContext, req: RemotingCommand) {
  const h = decodeQueryConsumerOffsetHeader(req);
  const group = h.consumerGroup;
  const q = queueOf(ctx, req, h);
  if (!('topic' in q) || !('queueId' in q)) return q;
  const offset = ctx.offsets.query(group, q.topic, q.queueId);
  if (offset !== undefined) return offsetAnswer(req, offset);
  // RocketMQ: a group that never committed starts at 0 while the queue still holds its first message.
  if (ctx.store.getMinOffsetInQueue(q.topic, q.queueId) <= 0n) {
    return offsetAnswer(req, 0);
  }
  return createResponse(
    req,
    ResponseCode.QUERY_NOT_FOUND,
    `no committed offset of group ${group} for ${q.topic}:${q.queueId}`,
  );
}

export function updateConsumerOffset(ctx: BrokerContext, req: RemotingCommand) {
  const h = decodeUpdateConsumerOffsetHeader(req);
  const { consumerGroup: group, commitOffset: offset } = h;
  const q = queueOf(ctx, req, h);
  if (!('topic' in q) || !('queueId' in q)) return q;
  // Offsets are kept only for known groups (auto-created within its limit), so their number stays bounded.
  if (ctx.groups.findOrCreate(group) === undefined) {
    return createResponse(req, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, ctx.groups.missingRemark(group));
  }
  // Clients send -1 for "nothing consumed yet": never overwrite a real offset with it. A commit while a reset
  // waits for the group's next pull was sent before the consumer heard of the reset: it would undo it.
  if (offset >= 0n && !ctx.offsets.hasReset(group, q.topic, q.queueId))
    ctx.offsets.commit(group, q.topic, q.queueId, offset);
  return createResponse(req, ResponseCode.SUCCESS);
}

export function getMaxOffset(ctx: BrokerContext, req: RemotingCommand) {
  const q = queueOf(ctx, req);
  if (!('topic' in q) || !('queueId' in q)) return q;
  return offsetAnswer(req, ctx.store.getMaxOffsetInQueue(q.topic, q.queueId));
}

export function getMinOffset(ctx: BrokerContext, req: RemotingCommand) {
  const q = queueOf(ctx, req);
  if (!('topic' in q) || !('queueId' in q)) return q;
  return offsetAnswer(req, ctx.store.getMinOffsetInQueue(q.topic, q.queueId));
}

export async function searchOffsetByTimestamp(ctx: BrokerContext, req: RemotingCommand) {
  const h = decodeSearchOffsetHeader(req);
  const timestamp = BigInt(h.timestamp);
  const q = queueOf(ctx, req, h);
  if (!('topic' in q) || !('queueId' in q)) return q;
  return offsetAnswer(req, await ctx.store.getOffsetInQueueByTime(q.topic, q.queueId, timestamp));
}

export async function getEarliestMsgStoreTime(ctx: BrokerContext, req: RemotingCommand) {
  const q = queueOf(ctx, req);
  if (!('topic' in q) || !('queueId' in q)) return q;
  const t = await ctx.store.getEarliestMessageTime(q.topic, q.queueId);
  const resp = createResponse(req, ResponseCode.SUCCESS);
  resp.extFields = encodeTimestampResponseHeader(t ?? -1n);
  return resp;
}
