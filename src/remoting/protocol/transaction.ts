/**
 * Transactions: END_TRANSACTION (37, producer → broker, oneway) and CHECK_TRANSACTION_STATE (39, broker →
 * producer, oneway; body = the half message as a v1 record with its real topic and queue).
 *
 * EndTransactionRequestHeader (* = required by RocketMQ 4.9.8):
 *   producerGroup         String  *
 *   tranStateTableOffset  Long    *  queue offset of the half message (the send's queueOffset)
 *   commitLogOffset       Long    *  CommitLog offset of the half message (from the send's offsetMsgId)
 *   commitOrRollback      Integer *  0 unknown (ignored), 8 commit, 12 rollback
 *   fromTransactionCheck  Boolean    default false; true when answering a CHECK_TRANSACTION_STATE
 *   msgId                 String  *  UNIQ_KEY
 *   transactionId         String
 *   topic                 String     5.x; written when known, not read
 *
 * CheckTransactionStateRequestHeader:
 *   tranStateTableOffset  Long    *
 *   commitLogOffset       Long    *
 *   msgId                 String     UNIQ_KEY
 *   transactionId         String     UNIQ_KEY
 *   offsetMsgId           String
 */
import type { RemotingCommand } from '../command.js';
import { HeaderFieldError, optionalBool, optionalString, requireInt, requireLong, requireString } from '../fields.js';

/** commitOrRollback values: RocketMQ's MessageSysFlag transaction types. */
export const EndTransactionType = { unknown: 0x0, commit: 0x8, rollback: 0xc } as const;
export type EndTransactionType = (typeof EndTransactionType)[keyof typeof EndTransactionType];

export interface EndTransactionRequestHeader {
  producerGroup: string;
  tranStateTableOffset: bigint;
  commitLogOffset: bigint;
  commitOrRollback: EndTransactionType;
  fromTransactionCheck: boolean;
  msgId: string;
  transactionId?: string | undefined;
  topic?: string | undefined;
}

export function encodeEndTransactionHeader(h: EndTransactionRequestHeader): Record<string, string> {
  const out: Record<string, string> = {
    producerGroup: h.producerGroup,
    tranStateTableOffset: String(h.tranStateTableOffset),
    commitLogOffset: String(h.commitLogOffset),
    commitOrRollback: String(h.commitOrRollback),
    fromTransactionCheck: String(h.fromTransactionCheck),
    msgId: h.msgId,
  };
  if (h.transactionId !== undefined) out['transactionId'] = h.transactionId;
  if (h.topic !== undefined) out['topic'] = h.topic;
  return out;
}

export function decodeEndTransactionHeader(req: RemotingCommand): EndTransactionRequestHeader {
  const type = requireInt(req, 'commitOrRollback');
  // As RocketMQ's checkFields: any other value is a malformed header.
  if (
    type !== EndTransactionType.unknown &&
    type !== EndTransactionType.commit &&
    type !== EndTransactionType.rollback
  ) {
    throw new HeaderFieldError('commitOrRollback', `must be 0, 8 or 12, got ${type}`);
  }
  return {
    producerGroup: requireString(req, 'producerGroup'),
    tranStateTableOffset: requireLong(req, 'tranStateTableOffset'),
    commitLogOffset: requireLong(req, 'commitLogOffset'),
    commitOrRollback: type,
    fromTransactionCheck: optionalBool(req, 'fromTransactionCheck') ?? false,
    msgId: requireString(req, 'msgId'),
    transactionId: optionalString(req, 'transactionId'),
    topic: optionalString(req, 'topic'),
  };
}

export interface CheckTransactionStateRequestHeader {
  tranStateTableOffset: bigint;
  commitLogOffset: bigint;
  msgId?: string | undefined;
  transactionId?: string | undefined;
  offsetMsgId?: string | undefined;
}

export function encodeCheckTransactionStateHeader(h: CheckTransactionStateRequestHeader): Record<string, string> {
  const out: Record<string, string> = {
    tranStateTableOffset: String(h.tranStateTableOffset),
    commitLogOffset: String(h.commitLogOffset),
  };
  if (h.msgId !== undefined) out['msgId'] = h.msgId;
  if (h.transactionId !== undefined) out['transactionId'] = h.transactionId;
  if (h.offsetMsgId !== undefined) out['offsetMsgId'] = h.offsetMsgId;
  return out;
}

export function decodeCheckTransactionStateHeader(req: RemotingCommand): CheckTransactionStateRequestHeader {
  return {
    tranStateTableOffset: requireLong(req, 'tranStateTableOffset'),
    commitLogOffset: requireLong(req, 'commitLogOffset'),
    msgId: optionalString(req, 'msgId'),
    transactionId: optionalString(req, 'transactionId'),
    offsetMsgId: optionalString(req, 'offsetMsgId'),
  };
}
