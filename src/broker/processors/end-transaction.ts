/**
 * END_TRANSACTION (37, oneway from RocketMQ clients): a producer commits or rolls back a half message, after its
 * local transaction or in answer to CHECK_TRANSACTION_STATE. As RocketMQ's EndTransactionProcessor: the half is
 * found by commitLogOffset and must match the header's group and offsets; commit puts the real message through
 * the put hooks (so a committed delayed message is delayed) and the store; either way an op record marks the half
 * done. "Unknown" (0) is left for the check service. Only the first answer for a transaction
 * (any copy of its half message) commits: a later one just closes its copy (closed-halves.ts).
 */
import { createLogger } from '../../common/log.js';
import { Prop } from '../../common/properties.js';
import { decodeRecord } from '../../common/record.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { decodeEndTransactionHeader, EndTransactionType } from '../../remoting/protocol/transaction.js';
import { BrokerRole } from '../config.js';
import type { BrokerContext } from '../context.js';
import { answerOfPutStatus } from '../put/put-status.js';
import {
  committedMessageOf,
  offsetsToMarkDone,
  opRecordOf,
  originOffsetOf,
  realTargetOf,
} from '../transaction/half-message.js';

const log = createLogger('broker.transaction');

export async function endTransaction(ctx: BrokerContext, req: RemotingCommand) {
  const fail = (code: number, remark: string) => createResponse(req, code, remark);
  if (ctx.config.brokerRole === BrokerRole.SLAVE) {
    return fail(ResponseCode.SLAVE_NOT_AVAILABLE, 'the broker is a replica: END_TRANSACTION goes to the master');
  }
  const h = decodeEndTransactionHeader(req);
  // RocketMQ answers nothing; an answer to a oneway request is dropped anyway, and a two-way caller is not left waiting.
  if (h.commitOrRollback === EndTransactionType.unknown) {
    return createResponse(req, ResponseCode.SUCCESS, 'transaction state unknown: left to the check-back');
  }
  const record = h.commitLogOffset < 0n ? undefined : await ctx.store.lookMessageByOffset(h.commitLogOffset);
  if (record === undefined) return fail(ResponseCode.SYSTEM_ERROR, 'Find prepared transaction message failed');
  const half = decodeRecord(record).msg;
  const target = realTargetOf(half);
  // RocketMQ checks group and offsets only; a record that is not a half message must not be re-put either.
  if (target === undefined) {
    return fail(ResponseCode.SYSTEM_ERROR, `the message at commitLogOffset ${h.commitLogOffset} is not a half message`);
  }
  const pgroup = half.properties.get(Prop.producerGroup);
  if (pgroup !== h.producerGroup) return fail(ResponseCode.SYSTEM_ERROR, 'The producer group wrong');
  if (half.queueOffset !== h.tranStateTableOffset) {
    return fail(ResponseCode.SYSTEM_ERROR, 'The transaction state table offset wrong');
  }
  if (half.commitLogOffset !== h.commitLogOffset) {
    return fail(ResponseCode.SYSTEM_ERROR, 'The commit log offset wrong');
  }
  // The first answer for a transaction decides it; a later one (for another copy) only closes its copy.
  const origin = originOffsetOf(half);
  const first = ctx.closedHalves.claim(origin);
  if (first && h.commitOrRollback === EndTransactionType.commit) {
    const msg = committedMessageOf(half, target);
    const refused = ctx.put.rewrite(msg, { reconsumeTimes: msg.reconsumeTimes, maxReconsumeTimes: undefined });
    if (refused !== undefined) {
      ctx.closedHalves.release(origin);
      return fail(refused.code, refused.remark);
    }
    const r = await ctx.put.putRewritten(msg);
    const answer = answerOfPutStatus(r.status, r.remark);
    if (!answer.stored) {
      // Not stored: no op record, so the check service asks the producer again.
      ctx.closedHalves.release(origin);
      return fail(answer.code, answer.remark ?? 'commit failed');
    }
    ctx.stats.recordPut(msg.topic, 1, r.wroteBytes);
  }
  const op = await ctx.put.putRewritten(opRecordOf(offsetsToMarkDone(half), ctx.brokerAddr()));
  const opAnswer = answerOfPutStatus(op.status, op.remark);
  if (!opAnswer.stored) {
    // Committed but not marked done: a later check may commit it again (at least once, as RocketMQ).
    log.warn('writing the transaction op record failed; the half message will be checked again', {
      msgId: h.msgId,
      status: op.status,
    });
    return fail(opAnswer.code, opAnswer.remark ?? 'op record not stored');
  }
  return createResponse(req, ResponseCode.SUCCESS);
}
