/**
 * Client membership: HEART_BEAT (34, no header: the HeartbeatData body), UNREGISTER_CLIENT (35),
 * GET_CONSUMER_LIST_BY_GROUP (38), NOTIFY_CONSUMER_IDS_CHANGED (40, broker → consumer).
 *
 *   UnregisterClientRequestHeader          clientID String *, producerGroup String, consumerGroup String
 *   GetConsumerListByGroupRequestHeader    consumerGroup String *
 *   NotifyConsumerIdsChangedRequestHeader  consumerGroup String *
 */
import type { RemotingCommand } from '../command.js';
import { optionalString, requireString } from '../fields.js';

/** RocketMQ's ExpressionType: how a subscription's `subString` is read (tag list or SQL92 condition). */
export const ExpressionType = { tag: 'TAG', sql92: 'SQL92' } as const;
export type ExpressionType = (typeof ExpressionType)[keyof typeof ExpressionType];

/** One subscription in a HEART_BEAT body's `consumerDataSet[].subscriptionDataSet` (RocketMQ's SubscriptionData). */
export interface SubscriptionData {
  topic: string;
  subString: string;
  tagsSet: string[];
  /** Java `String.hashCode` of each tag. */
  codeSet: number[];
  /** Version of this subscription (ms); the broker keeps the newest. */
  subVersion: number;
  /** TAG (or absent) or SQL92. */
  expressionType?: string | undefined;
  classFilterMode?: boolean | undefined;
}

export interface UnregisterClientRequestHeader {
  clientID: string;
  producerGroup?: string | undefined;
  consumerGroup?: string | undefined;
}

export function encodeUnregisterClientHeader(h: UnregisterClientRequestHeader): Record<string, string> {
  const out: Record<string, string> = { clientID: h.clientID };
  if (h.producerGroup !== undefined) out['producerGroup'] = h.producerGroup;
  if (h.consumerGroup !== undefined) out['consumerGroup'] = h.consumerGroup;
  return out;
}

export function decodeUnregisterClientHeader(req: RemotingCommand): UnregisterClientRequestHeader {
  return {
    clientID: requireString(req, 'clientID'),
    producerGroup: optionalString(req, 'producerGroup'),
    consumerGroup: optionalString(req, 'consumerGroup'),
  };
}

/** GET_CONSUMER_LIST_BY_GROUP and NOTIFY_CONSUMER_IDS_CHANGED: one consumer group. */
export interface ConsumerGroupRequestHeader {
  consumerGroup: string;
}

export function encodeConsumerGroupHeader(h: ConsumerGroupRequestHeader): Record<string, string> {
  return { consumerGroup: h.consumerGroup };
}

export function decodeConsumerGroupHeader(req: RemotingCommand): ConsumerGroupRequestHeader {
  return { consumerGroup: requireString(req, 'consumerGroup') };
}
