/**
 * END_TRANSACTION (37, oneway from RocketMQ clients): a producer commits or rolls back a half message, after its
 * local transaction or in answer to CHECK_TRANSACTION_STATE. As RocketMQ's EndTransactionProcessor: the half is
 * found by commitLogOffset and must match the header's group and offsets; then transaction/resolve-half.ts
 * commits or rolls it back. "Unknown" (0) is left for the check service.
 */
import { Prop } from '../../common/properties.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { decodeEndTransactionHeader, EndTransactionType } from '../../remoting/protocol/transaction.js';
import { BrokerRole } from '../config.js';
import type { BrokerContext } from '../context.js';
import { findHalf, resolveHalf } from '../transaction/resolve-half.js';

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
  const found = await findHalf(ctx, h.commitLogOffset);
  if (typeof found === 'string') return fail(ResponseCode.SYSTEM_ERROR, found);
  const { half } = found;
  // RocketMQ checks group and offsets only.
  const pgroup = half.properties.get(Prop.producerGroup);
  if (pgroup !== h.producerGroup) return fail(ResponseCode.SYSTEM_ERROR, 'The producer group wrong');
  if (half.queueOffset !== h.tranStateTableOffset) {
    return fail(ResponseCode.SYSTEM_ERROR, 'The transaction state table offset wrong');
  }
  if (half.commitLogOffset !== h.commitLogOffset) {
    return fail(ResponseCode.SYSTEM_ERROR, 'The commit log offset wrong');
  }
  const r = await resolveHalf(ctx, found, h.commitOrRollback === EndTransactionType.commit);
  return r.code === ResponseCode.SUCCESS ? createResponse(req, ResponseCode.SUCCESS) : fail(r.code, r.remark ?? '');
}
