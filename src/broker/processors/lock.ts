/**
 * LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42): orderly consumers lock the queues they own before pulling them
 * and renew the locks every 20 s (RocketMQ's AdminBrokerProcessor.lockBatchMQ / unlockBatchMQ). A lock is
 * granted only on a queue of a known group and topic (so the lock table stays bounded by real queues); the
 * answer lists the queues locked, the others are held by a live owner.
 */
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { decodeLockBatchBody, encodeLockBatchResponse, type LockQueue } from '../../remoting/protocol/lock.js';
import type { BrokerContext } from '../context.js';

export function lockBatchMQ(ctx: BrokerContext, req: RemotingCommand): RemotingCommand {
  const decoded = decodeLockBatchBody(req.body);
  if (!decoded.ok) return createResponse(req, ResponseCode.SYSTEM_ERROR, `lock batch: ${decoded.problem}`);
  const { consumerGroup, clientId, mqSet } = decoded.body;
  const known = ctx.groups.get(consumerGroup) === undefined ? [] : mqSet.filter((q) => queueExists(ctx, q));
  const locked = ctx.locks.tryLockBatch(consumerGroup, known, clientId);
  return createResponse(req, ResponseCode.SUCCESS, undefined, undefined, encodeLockBatchResponse(locked));
}

export function unlockBatchMQ(ctx: BrokerContext, req: RemotingCommand): RemotingCommand {
  const decoded = decodeLockBatchBody(req.body);
  if (!decoded.ok) return createResponse(req, ResponseCode.SYSTEM_ERROR, `unlock batch: ${decoded.problem}`);
  const { consumerGroup, clientId, mqSet } = decoded.body;
  ctx.locks.unlockBatch(consumerGroup, mqSet, clientId);
  return createResponse(req, ResponseCode.SUCCESS);
}

function queueExists(ctx: BrokerContext, q: LockQueue): boolean {
  const tc = ctx.topics.get(q.topic);
  return tc !== undefined && q.queueId >= 0 && q.queueId < Math.max(tc.readQueueNums, tc.writeQueueNums);
}
