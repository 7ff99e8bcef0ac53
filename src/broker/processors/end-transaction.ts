/**
 * END_TRANSACTION (37, oneway from RocketMQ clients): a producer commits or rolls back a half message, after its
 * local transaction or in answer to CHECK_TRANSACTION_STATE. As RocketMQ's EndTransactionProcessor: the half is
 * found by commitLogOffset and must match the header's group and offsets; the broker's batch of transaction ends
 * (transaction/end-batch.ts) reads, checks and commits or rolls back the halves of a turn together. "Unknown" (0) is left for the check service.
 */
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, isOneway, type RemotingCommand } from '../../remoting/command.js';
import { decodeEndTransactionHeader, EndTransactionType } from '../../remoting/protocol/transaction.js';
import { BrokerRole } from '../config.js';
import type { BrokerContext } from '../context.js';
import { endBatchOf } from '../transaction/resolve-half.js';

export function endTransaction(
  ctx: BrokerContext,
  req: RemotingCommand,
): RemotingCommand | Promise<RemotingCommand> | undefined {
  const fail = (code: number, remark: string) => createResponse(req, code, remark);
  if (ctx.config.brokerRole === BrokerRole.SLAVE) {
    return fail(ResponseCode.SLAVE_NOT_AVAILABLE, 'the broker is a replica: END_TRANSACTION goes to the master');
  }
  const h = decodeEndTransactionHeader(req);
  // RocketMQ answers nothing; an answer to a oneway request is dropped anyway, and a two-way caller is not left waiting.
  if (h.commitOrRollback === EndTransactionType.unknown) {
    return createResponse(req, ResponseCode.SUCCESS, 'transaction state unknown: left to the check-back');
  }
  // The half is read and checked (group, offsets) with the other ends of this turn; a oneway request waits for none.
  const ended = endBatchOf(ctx).endByHeader(h, !isOneway(req));
  // Oneway: an answer would be dropped unwritten, so none is made (a turn brings a producer's 64 of these).
  if (ended === undefined) return undefined;
  return ended.then((r) =>
    r.code === ResponseCode.SUCCESS ? createResponse(req, ResponseCode.SUCCESS) : fail(r.code, r.remark ?? ''),
  );
}
