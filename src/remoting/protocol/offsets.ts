/**
 * Offset requests: QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15), SEARCH_OFFSET_BY_TIMESTAMP (29),
 * GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), GET_EARLIEST_MSG_STORETIME (32). All fields required (4.9.8).
 *
 *   QueryConsumerOffsetRequestHeader   consumerGroup String, topic String, queueId Integer
 *   UpdateConsumerOffsetRequestHeader  consumerGroup String, topic String, queueId Integer, commitOffset Long
 *   SearchOffsetRequestHeader          topic String, queueId Integer, timestamp Long
 *   GetMaxOffsetRequestHeader, GetMinOffsetRequestHeader, GetEarliestMsgStoretimeRequestHeader
 *                                      topic String, queueId Integer
 * Responses: `offset` Long (14, 29, 30, 31); `timestamp` Long (32).
 */
import type { RemotingCommand } from '../command.js';
import { optionalLong, requireInt, requireLong, requireString } from '../fields.js';

/** topic + queueId: GET_MAX_OFFSET, GET_MIN_OFFSET, GET_EARLIEST_MSG_STORETIME. */
export interface QueueRequestHeader {
  topic: string;
  queueId: number;
}

export function encodeQueueHeader(h: QueueRequestHeader): Record<string, string> {
  return { topic: h.topic, queueId: String(h.queueId) };
}

export function decodeQueueHeader(req: RemotingCommand): QueueRequestHeader {
  return { topic: requireString(req, 'topic'), queueId: requireInt(req, 'queueId') };
}

export interface QueryConsumerOffsetRequestHeader extends QueueRequestHeader {
  consumerGroup: string;
}

export function encodeQueryConsumerOffsetHeader(h: QueryConsumerOffsetRequestHeader): Record<string, string> {
  return { consumerGroup: h.consumerGroup, topic: h.topic, queueId: String(h.queueId) };
}

export function decodeQueryConsumerOffsetHeader(req: RemotingCommand): QueryConsumerOffsetRequestHeader {
  return {
    consumerGroup: requireString(req, 'consumerGroup'),
    topic: requireString(req, 'topic'),
    queueId: requireInt(req, 'queueId'),
  };
}

export interface UpdateConsumerOffsetRequestHeader extends QueryConsumerOffsetRequestHeader {
  commitOffset: bigint;
}

export function encodeUpdateConsumerOffsetHeader(h: UpdateConsumerOffsetRequestHeader): Record<string, string> {
  return {
    consumerGroup: h.consumerGroup,
    topic: h.topic,
    queueId: String(h.queueId),
    commitOffset: String(h.commitOffset),
  };
}

export function decodeUpdateConsumerOffsetHeader(req: RemotingCommand): UpdateConsumerOffsetRequestHeader {
  return {
    consumerGroup: requireString(req, 'consumerGroup'),
    topic: requireString(req, 'topic'),
    queueId: requireInt(req, 'queueId'),
    commitOffset: requireLong(req, 'commitOffset'),
  };
}

export interface SearchOffsetRequestHeader extends QueueRequestHeader {
  timestamp: bigint | number;
}

export function encodeSearchOffsetHeader(h: SearchOffsetRequestHeader): Record<string, string> {
  return { topic: h.topic, queueId: String(h.queueId), timestamp: String(h.timestamp) };
}

export function decodeSearchOffsetHeader(req: RemotingCommand): SearchOffsetRequestHeader {
  return {
    topic: requireString(req, 'topic'),
    queueId: requireInt(req, 'queueId'),
    timestamp: requireLong(req, 'timestamp'),
  };
}

/** `offset` of 14, 29, 30 and 31 answers. */
export function encodeOffsetResponseHeader(offset: bigint | number): Record<string, string> {
  return { offset: String(offset) };
}

export function decodeOffsetResponseHeader(resp: RemotingCommand): bigint | undefined {
  return optionalLong(resp, 'offset');
}

/** `timestamp` of the GET_EARLIEST_MSG_STORETIME answer. */
export function encodeTimestampResponseHeader(timestamp: bigint | number): Record<string, string> {
  return { timestamp: String(timestamp) };
}

export function decodeTimestampResponseHeader(resp: RemotingCommand): bigint | undefined {
  return optionalLong(resp, 'timestamp');
}
