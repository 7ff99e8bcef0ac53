/**
 * Runtime and statistics: GET_BROKER_RUNTIME_INFO (28, no header), GET_TOPIC_STATS_INFO (202, topic: see
 * topic-admin.ts), GET_CONSUME_STATS (208), GET_BROKER_CONFIG (26).
 *
 *   GetConsumeStatsRequestHeader    consumerGroup String *, topic String (absent or empty: every topic)
 *   GetBrokerConfigResponseHeader   version String * (the topic table's DataVersion as JSON)
 */
import type { RemotingCommand } from '../command.js';
import { optionalString, requireString } from '../fields.js';

export interface GetConsumeStatsRequestHeader {
  consumerGroup: string;
  topic?: string | undefined;
}

export function encodeConsumeStatsHeader(h: GetConsumeStatsRequestHeader): Record<string, string> {
  const out: Record<string, string> = { consumerGroup: h.consumerGroup };
  if (h.topic !== undefined) out['topic'] = h.topic;
  return out;
}

export function decodeConsumeStatsHeader(req: RemotingCommand): GetConsumeStatsRequestHeader {
  return { consumerGroup: requireString(req, 'consumerGroup'), topic: optionalString(req, 'topic') };
}

export interface GetBrokerConfigResponseHeader {
  version: string;
}

export function encodeBrokerConfigResponseHeader(h: GetBrokerConfigResponseHeader): Record<string, string> {
  return { version: h.version };
}

export function decodeBrokerConfigResponseHeader(resp: RemotingCommand): GetBrokerConfigResponseHeader {
  return { version: requireString(resp, 'version') };
}
