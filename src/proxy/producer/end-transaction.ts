/**
 * EndTransaction (RocketMQ's EndTransactionActivity → END_TRANSACTION, in-process): the transaction id is the
 * half message's offsetMsgId (SendMessage and RecoverOrphanedTransactionCommand hand it out), so the half is found
 * by its CommitLog offset and checked against the request's message id and topic before it is committed or rolled
 * back (broker/transaction/resolve-half.ts, shared with the remoting path).
 */

import { BrokerRole } from '../../broker/config.js';
import { findHalf, resolveHalf } from '../../broker/transaction/resolve-half.js';
import { Prop } from '../../common/properties.js';
import { decodeOffsetMsgId } from '../../common/record.js';
import { ResponseCode } from '../../remoting/codes.js';
import type { ProxyContext } from '../context.js';
import { Code, type Resource, type Status, status } from '../proto.js';
import { checkTopicResource } from '../resources.js';
import { statusOfResponse } from '../response-code.js';

export interface EndTransactionRequest {
  topic: Resource | null;
  messageId: string;
  transactionId: string;
  resolution: 'TRANSACTION_RESOLUTION_UNSPECIFIED' | 'COMMIT' | 'ROLLBACK';
  source: 'SOURCE_UNSPECIFIED' | 'SOURCE_CLIENT' | 'SOURCE_SERVER_CHECK';
  traceContext: string;
}

export async function endTransaction(ctx: ProxyContext, req: EndTransactionRequest): Promise<{ status: Status }> {
  const b = ctx.broker;
  const bad = checkTopicResource(req.topic);
  if (bad !== undefined) return { status: bad };
  if (req.messageId === '') return { status: status(Code.ILLEGAL_MESSAGE_ID, 'message id cannot be empty') };
  if (req.resolution !== 'COMMIT' && req.resolution !== 'ROLLBACK') {
    return { status: status(Code.BAD_REQUEST, `resolution ${req.resolution} is neither COMMIT nor ROLLBACK`) };
  }
  if (b.config.brokerRole === BrokerRole.SLAVE) {
    return { status: status(Code.FORBIDDEN, 'the broker is a replica: EndTransaction goes to the master') };
  }
  let commitLogOffset: bigint;
  try {
    commitLogOffset = decodeOffsetMsgId(req.transactionId).commitLogOffset;
  } catch {
    return {
      status: status(Code.INVALID_TRANSACTION_ID, `transaction id '${req.transactionId}' is not one this broker gave`),
    };
  }
  const found = await findHalf(b, commitLogOffset);
  if (typeof found === 'string') return { status: status(Code.INVALID_TRANSACTION_ID, found) };
  const topic = (req.topic as Resource).name;
  if (found.half.properties.get(Prop.uniqKey) !== req.messageId || found.target.topic !== topic) {
    return {
      status: status(
        Code.INVALID_TRANSACTION_ID,
        `transaction ${req.transactionId} is not message ${req.messageId} of topic ${topic}`,
      ),
    };
  }
  const r = await resolveHalf(b, found, req.resolution === 'COMMIT');
  return { status: r.code === ResponseCode.SUCCESS ? status(Code.OK) : statusOfResponse(r.code, r.remark) };
}
