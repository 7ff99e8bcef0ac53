/**
 * GetOffset / UpdateOffset / QueryOffset (RocketMQ 5's pull-consumer offsets over gRPC): a group's committed
 * offset of one queue, its commit, and a queue's min / max / by-time offset, all from the broker's own tables
 * (the same as QUERY_CONSUMER_OFFSET 14, UPDATE_CONSUMER_OFFSET 15, GET_MIN/MAX_OFFSET 31/30, SEARCH 29).
 */
import type { ProxyContext } from '../context.js';
import {
  Code,
  type MessageQueue,
  type Resource,
  type Status,
  status,
  type Timestamp,
  timestampMsOf,
} from '../proto.js';
import { checkGroupResource, checkTopicResource } from '../resources.js';

interface OffsetResponse {
  status: Status;
  offset: string;
}

/** The queue a request names, or the Status refusing it. */
function queueOf(ctx: ProxyContext, mq: MessageQueue | null): { topic: string; queueId: number } | Status {
  if (mq == null) return status(Code.BAD_REQUEST, 'message_queue is required');
  const bad = checkTopicResource(mq.topic);
  if (bad !== undefined) return bad;
  const topic = (mq.topic as Resource).name;
  const queueId = mq.id;
  const tc = ctx.broker.topics.get(topic);
  if (tc === undefined) return status(Code.TOPIC_NOT_FOUND, ctx.broker.topics.missingRemark(topic));
  const queues = Math.max(tc.readQueueNums, tc.writeQueueNums);
  if (!Number.isInteger(queueId) || queueId < 0 || queueId >= queues) {
    return status(Code.BAD_REQUEST, `queue id ${queueId} is illegal, topic ${topic} has ${queues} queues`);
  }
  return { topic, queueId };
}

const answer = (offset: bigint): OffsetResponse => ({ status: status(Code.OK), offset: String(offset) });
const refused = (s: Status): OffsetResponse => ({ status: s, offset: '0' });

export async function getOffset(
  ctx: ProxyContext,
  req: { group: Resource | null; messageQueue: MessageQueue | null },
): Promise<OffsetResponse> {
  const bad = checkGroupResource(req.group);
  if (bad !== undefined) return refused(bad);
  const q = queueOf(ctx, req.messageQueue);
  if ('code' in q) return refused(q);
  const group = (req.group as Resource).name;
  const offset = ctx.broker.offsets.query(group, q.topic, q.queueId);
  if (offset !== undefined) return answer(offset);
  // As QUERY_CONSUMER_OFFSET: a group that never committed starts at 0 while the queue still holds its first message.
  if (ctx.broker.store.getMinOffsetInQueue(q.topic, q.queueId) <= 0n) return answer(0n);
  return refused(status(Code.OFFSET_NOT_FOUND, `no committed offset of group ${group} for ${q.topic}:${q.queueId}`));
}

export async function updateOffset(
  ctx: ProxyContext,
  req: { group: Resource | null; messageQueue: MessageQueue | null; offset: string },
): Promise<{ status: Status }> {
  const bad = checkGroupResource(req.group);
  if (bad !== undefined) return { status: bad };
  const q = queueOf(ctx, req.messageQueue);
  if ('code' in q) return { status: q };
  const group = (req.group as Resource).name;
  const offset = BigInt(req.offset);
  if (offset < 0n) return { status: status(Code.ILLEGAL_OFFSET, `offset ${offset} is negative`) };
  const max = ctx.broker.store.getMaxOffsetInQueue(q.topic, q.queueId);
  if (offset > max) return { status: status(Code.ILLEGAL_OFFSET, `offset ${offset} is past the queue's max ${max}`) };
  // Offsets are kept only for known groups (auto-created within its limit), so their number stays bounded.
  if (ctx.broker.groups.findOrCreate(group) === undefined) {
    return { status: status(Code.CONSUMER_GROUP_NOT_FOUND, ctx.broker.groups.missingRemark(group)) };
  }
  ctx.broker.offsets.commit(group, q.topic, q.queueId, offset);
  return { status: status(Code.OK) };
}

export async function queryOffset(
  ctx: ProxyContext,
  req: {
    messageQueue: MessageQueue | null;
    queryOffsetPolicy: 'BEGINNING' | 'END' | 'TIMESTAMP';
    timestamp?: Timestamp | null;
  },
): Promise<OffsetResponse> {
  const q = queueOf(ctx, req.messageQueue);
  if ('code' in q) return refused(q);
  const store = ctx.broker.store;
  switch (req.queryOffsetPolicy) {
    case 'BEGINNING':
      return answer(store.getMinOffsetInQueue(q.topic, q.queueId));
    case 'END':
      return answer(store.getMaxOffsetInQueue(q.topic, q.queueId));
    case 'TIMESTAMP': {
      const ms = timestampMsOf(req.timestamp);
      if (ms === undefined) return refused(status(Code.BAD_REQUEST, 'query_offset_policy TIMESTAMP needs a timestamp'));
      return answer(await store.getOffsetInQueueByTime(q.topic, q.queueId, BigInt(ms)));
    }
    default:
      return refused(status(Code.BAD_REQUEST, `unknown query_offset_policy ${String(req.queryOffsetPolicy)}`));
  }
}
