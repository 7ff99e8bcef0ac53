/**
 * CONSUMER_SEND_MSG_BACK (36): a consumer hands a failed message back for redelivery.
 *
 * ConsumerSendMsgBackRequestHeader (* = required by RocketMQ 4.9.8):
 *   offset            Long    *  CommitLog offset of the message
 *   group             String  *
 *   delayLevel        Integer *  we default to 0; < 0 sends it straight to the DLQ
 *   originMsgId       String
 *   originTopic       String
 *   unitMode          boolean    default false
 *   maxReconsumeTimes Integer
 *   bname             String     5.x broker name; written, not read
 */
import type { RemotingCommand } from '../command.js';
import { optionalBool, optionalInt, optionalString, requireLong, requireString } from '../fields.js';

export interface SendMsgBackRequestHeader {
  offset: bigint;
  group: string;
  delayLevel: number;
  originMsgId?: string | undefined;
  originTopic?: string | undefined;
  unitMode?: boolean | undefined;
  maxReconsumeTimes?: number | undefined;
}

export function encodeSendMsgBackHeader(h: SendMsgBackRequestHeader): Record<string, string> {
  const out: Record<string, string> = { offset: String(h.offset), group: h.group, delayLevel: String(h.delayLevel) };
  if (h.originMsgId !== undefined) out['originMsgId'] = h.originMsgId;
  if (h.originTopic !== undefined) out['originTopic'] = h.originTopic;
  out['unitMode'] = String(h.unitMode ?? false);
  if (h.maxReconsumeTimes !== undefined) out['maxReconsumeTimes'] = String(h.maxReconsumeTimes);
  return out;
}

export function decodeSendMsgBackHeader(req: RemotingCommand): SendMsgBackRequestHeader {
  return {
    offset: requireLong(req, 'offset'),
    group: requireString(req, 'group'),
    delayLevel: optionalInt(req, 'delayLevel') ?? 0,
    originMsgId: optionalString(req, 'originMsgId'),
    originTopic: optionalString(req, 'originTopic'),
    unitMode: optionalBool(req, 'unitMode') ?? false,
    maxReconsumeTimes: optionalInt(req, 'maxReconsumeTimes'),
  };
}
