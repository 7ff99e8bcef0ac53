/**
 * Request-reply: a responder sends the reply with SEND_REPLY_MESSAGE (324, the send header of `send.ts`) or
 * SEND_REPLY_MESSAGE_V2 (325, its one-letter form); the broker pushes it to the requester with
 * PUSH_REPLY_MESSAGE_TO_CLIENT (326), whose body is the reply's body.
 *
 *   ReplyMessageRequestHeader (* = required by RocketMQ)
 *     producerGroup String *, topic String *, defaultTopic String *, defaultTopicQueueNums Integer *,
 *     queueId Integer *, sysFlag Integer *, bornTimestamp Long *, flag Integer *, properties String,
 *     reconsumeTimes Integer, unitMode boolean, bornHost String * ("ip:port"), storeHost String * ("ip:port"),
 *     storeTimestamp long *
 */
import type { RemotingCommand } from '../command.js';
import { optionalBool, optionalInt, optionalString, requireInt, requireLong, requireString } from '../fields.js';

export interface ReplyMessageRequestHeader {
  producerGroup: string;
  topic: string;
  defaultTopic: string;
  defaultTopicQueueNums: number;
  queueId: number;
  sysFlag: number;
  bornTimestamp: bigint;
  flag: number;
  properties: string;
  reconsumeTimes: number;
  unitMode: boolean;
  bornHost: string;
  storeHost: string;
  storeTimestamp: bigint;
}

export function encodeReplyMessageHeader(h: ReplyMessageRequestHeader): Record<string, string> {
  return {
    producerGroup: h.producerGroup,
    topic: h.topic,
    defaultTopic: h.defaultTopic,
    defaultTopicQueueNums: String(h.defaultTopicQueueNums),
    queueId: String(h.queueId),
    sysFlag: String(h.sysFlag),
    bornTimestamp: String(h.bornTimestamp),
    flag: String(h.flag),
    properties: h.properties,
    reconsumeTimes: String(h.reconsumeTimes),
    unitMode: String(h.unitMode),
    bornHost: h.bornHost,
    storeHost: h.storeHost,
    storeTimestamp: String(h.storeTimestamp),
  };
}

export function decodeReplyMessageHeader(req: RemotingCommand): ReplyMessageRequestHeader {
  return {
    producerGroup: requireString(req, 'producerGroup'),
    topic: requireString(req, 'topic'),
    defaultTopic: requireString(req, 'defaultTopic'),
    defaultTopicQueueNums: requireInt(req, 'defaultTopicQueueNums'),
    queueId: requireInt(req, 'queueId'),
    sysFlag: requireInt(req, 'sysFlag'),
    bornTimestamp: requireLong(req, 'bornTimestamp'),
    flag: requireInt(req, 'flag'),
    properties: optionalString(req, 'properties') ?? '',
    reconsumeTimes: optionalInt(req, 'reconsumeTimes') ?? 0,
    unitMode: optionalBool(req, 'unitMode') ?? false,
    bornHost: requireString(req, 'bornHost'),
    storeHost: requireString(req, 'storeHost'),
    storeTimestamp: requireLong(req, 'storeTimestamp'),
  };
}
