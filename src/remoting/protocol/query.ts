/**
 * QUERY_MESSAGE (12, by key in the IndexFile) and VIEW_MESSAGE_BY_ID (33, by CommitLog offset).
 *
 * QueryMessageRequestHeader (all required, 4.9.8):
 *   topic String, key String, maxNum Integer, beginTimestamp Long, endTimestamp Long
 *   plus `_UNIQUE_KEY_QUERY` = "true" (MixAll.UNIQUE_MSG_QUERY_FLAG) when `key` is a UNIQ_KEY msgId.
 *   We default maxNum to 32, beginTimestamp to 0 and endTimestamp to now.
 * QueryMessageResponseHeader: indexLastUpdateTimestamp Long *, indexLastUpdatePhyoffset Long *.
 * ViewMessageRequestHeader: offset Long *.
 */
import type { RemotingCommand } from '../command.js';
import { optionalInt, optionalLong, optionalString, requireLong, requireString } from '../fields.js';

/** MixAll.UNIQUE_MSG_QUERY_FLAG: an extFields key telling QUERY_MESSAGE the key is a UNIQ_KEY msgId. */
export const uniqueKeyQueryFlag = '_UNIQUE_KEY_QUERY';
export const queryMaxNumDefault = 32;

export interface QueryMessageRequestHeader {
  topic: string;
  key: string;
  maxNum: number;
  beginTimestamp: bigint | number;
  endTimestamp: bigint | number;
  uniqKey?: boolean | undefined;
}

export function encodeQueryMessageHeader(h: QueryMessageRequestHeader): Record<string, string> {
  const out: Record<string, string> = {
    topic: h.topic,
    key: h.key,
    maxNum: String(h.maxNum),
    beginTimestamp: String(h.beginTimestamp),
    endTimestamp: String(h.endTimestamp),
  };
  if (h.uniqKey === true) out[uniqueKeyQueryFlag] = 'true';
  return out;
}

export function decodeQueryMessageHeader(req: RemotingCommand): QueryMessageRequestHeader {
  return {
    topic: requireString(req, 'topic'),
    key: requireString(req, 'key'),
    maxNum: optionalInt(req, 'maxNum') ?? queryMaxNumDefault,
    beginTimestamp: optionalLong(req, 'beginTimestamp') ?? 0n,
    endTimestamp: optionalLong(req, 'endTimestamp') ?? BigInt(Date.now()),
    // Not parsed as a boolean: RocketMQ only looks for "true", anything else is a plain key query.
    uniqKey: optionalString(req, uniqueKeyQueryFlag) === 'true' ? true : undefined,
  };
}

export interface QueryMessageResponseHeader {
  indexLastUpdateTimestamp: bigint | number;
  indexLastUpdatePhyoffset: bigint | number;
}

export function encodeQueryMessageResponseHeader(h: QueryMessageResponseHeader): Record<string, string> {
  return {
    indexLastUpdateTimestamp: String(h.indexLastUpdateTimestamp),
    indexLastUpdatePhyoffset: String(h.indexLastUpdatePhyoffset),
  };
}

export function decodeQueryMessageResponseHeader(resp: RemotingCommand): Partial<QueryMessageResponseHeader> {
  return {
    indexLastUpdateTimestamp: optionalLong(resp, 'indexLastUpdateTimestamp'),
    indexLastUpdatePhyoffset: optionalLong(resp, 'indexLastUpdatePhyoffset'),
  };
}

export interface ViewMessageRequestHeader {
  offset: bigint;
}

export function encodeViewMessageHeader(h: ViewMessageRequestHeader): Record<string, string> {
  return { offset: String(h.offset) };
}

export function decodeViewMessageHeader(req: RemotingCommand): ViewMessageRequestHeader {
  return { offset: requireLong(req, 'offset') };
}
