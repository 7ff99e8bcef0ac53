/**
 * Commits or rolls back one stored half message (RocketMQ's EndTransactionProcessor after its checks): commit puts
 * the real message through the put hooks (so a committed delayed message is delayed) and the store; either way an
 * op record marks the half done. Only the first answer for a transaction (any copy of its half message) commits:
 * a later one just closes its copy (closed-halves.ts). Shared by END_TRANSACTION (37) and gRPC EndTransaction.
 */
import { createLogger } from '../../common/log.js';
import type { MessageExt } from '../../common/message.js';
import { decodeRecord } from '../../common/record.js';
import { ResponseCode } from '../../remoting/codes.js';
import type { BrokerContext } from '../context.js';
import { answerOfPutStatus } from '../put/put-status.js';
import { committedMessageOf, offsetsToMarkDone, opRecordOf, originOffsetOf, realTargetOf } from './half-message.js';

const log = createLogger('broker.transaction');

/** A half message found at a CommitLog offset, with where it goes on commit. */
export interface FoundHalf {
  readonly half: MessageExt;
  readonly target: { topic: string; queueId: number };
}

/** The half message at `commitLogOffset`, or the remark of why there is none. */
export async function findHalf(ctx: BrokerContext, commitLogOffset: bigint): Promise<FoundHalf | string> {
  const record = commitLogOffset < 0n ? undefined : await ctx.store.lookMessageByOffset(commitLogOffset);
  if (record === undefined) return 'Find prepared transaction message failed';
  const half = decodeRecord(record).msg;
  const target = realTargetOf(half);
  // A record that is not a half message must not be re-put.
  if (target === undefined) return `the message at commitLogOffset ${commitLogOffset} is not a half message`;
  return { half, target };
}

/** The outcome as a remoting response code and remark. */
export interface Resolved {
  readonly code: number;
  readonly remark?: string | undefined;
}

export async function resolveHalf(ctx: BrokerContext, found: FoundHalf, commit: boolean): Promise<Resolved> {
  const { half, target } = found;
  const origin = originOffsetOf(half);
  const first = ctx.closedHalves.claim(origin);
  if (first && commit) {
    const msg = committedMessageOf(half, target);
    const refused = ctx.put.rewrite(msg, { reconsumeTimes: msg.reconsumeTimes, maxReconsumeTimes: undefined });
    if (refused !== undefined) {
      ctx.closedHalves.release(origin);
      return { code: refused.code, remark: refused.remark };
    }
    const r = await ctx.put.putRewritten(msg);
    const answer = answerOfPutStatus(r.status, r.remark);
    if (!answer.stored) {
      // Not stored: no op record, so the check service asks the producer again.
      ctx.closedHalves.release(origin);
      return { code: answer.code, remark: answer.remark ?? 'commit failed' };
    }
    ctx.stats.recordPut(msg.topic, 1, r.wroteBytes);
  }
  const op = await ctx.put.putRewritten(opRecordOf(offsetsToMarkDone(half), ctx.brokerAddr()));
  const opAnswer = answerOfPutStatus(op.status, op.remark);
  if (!opAnswer.stored) {
    // Committed but not marked done: a later check may commit it again (at least once, as RocketMQ).
    log.warn('writing the transaction op record failed; the half message will be checked again', {
      offsetMsgId: half.offsetMsgId,
      status: op.status,
    });
    return { code: opAnswer.code, remark: opAnswer.remark ?? 'op record not stored' };
  }
  return { code: ResponseCode.SUCCESS };
}
