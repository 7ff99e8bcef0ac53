/**
 * QueryRoute: every queue of the topic on this broker, as RocketMQ's proxy builds them from the topic config
 * (read and write queue counts → READ / WRITE / READ_WRITE per id), with this endpoint as the broker's address
 * and the message types the topic accepts. An unknown topic is TOPIC_NOT_FOUND unless auto-creation makes it.
 */
import type { BrokerContext } from '../../broker/context.js';
import { isReadable, isWriteable } from '../../broker/metadata/perm.js';
import type { TopicConfig } from '../../broker/metadata/topic-config.js';
import { restrictedMessageTypeOf } from '../../common/topic-attributes.js';
import { TopicMessageType } from '../../common/topics.js';
import type { ProxyContext } from '../context.js';
import {
  Code,
  type Endpoints,
  type MessageQueue,
  MessageType,
  type Permission,
  type Resource,
  type Status,
  status,
} from '../proto.js';
import { checkTopicResource } from '../resources.js';

export interface QueryRouteRequest {
  topic: Resource | null;
  endpoints: Endpoints | null;
}

export interface QueryRouteResponse {
  status: Status;
  messageQueues: MessageQueue[];
}

const everyType: readonly MessageType[] = [
  MessageType.NORMAL,
  MessageType.FIFO,
  MessageType.DELAY,
  MessageType.TRANSACTION,
];

export async function queryRoute(ctx: ProxyContext, req: QueryRouteRequest): Promise<QueryRouteResponse> {
  const bad = checkTopicResource(req.topic);
  if (bad !== undefined) return { status: bad, messageQueues: [] };
  const topic = (req.topic as Resource).name;
  const tc = topicForRoute(ctx.broker, topic);
  if (tc === undefined) {
    return { status: status(Code.TOPIC_NOT_FOUND, ctx.broker.topics.missingRemark(topic)), messageQueues: [] };
  }
  return { status: status(Code.OK), messageQueues: messageQueuesOf(ctx, tc) };
}

/** The topic's config; created as a send would create it when auto-creation is on. */
export function topicForRoute(broker: BrokerContext, topic: string): TopicConfig | undefined {
  return broker.topics.get(topic) ?? broker.topics.createOnSend(topic, '', broker.config.defaultTopicQueueNums);
}

export function messageQueuesOf(ctx: ProxyContext, tc: TopicConfig): MessageQueue[] {
  const perm = tc.perm & ctx.broker.config.brokerPermission;
  const accept = acceptedTypesOf(tc);
  const broker = { name: ctx.broker.config.brokerName, id: 0, endpoints: ctx.endpoints() };
  const topic = { resourceNamespace: '', name: tc.topicName };
  const out: MessageQueue[] = [];
  const n = Math.max(tc.readQueueNums, tc.writeQueueNums);
  for (let id = 0; id < n; id++) {
    const read = id < tc.readQueueNums && isReadable(perm);
    const write = id < tc.writeQueueNums && isWriteable(perm);
    out.push({ topic, id, permission: permissionOf(read, write), broker, acceptMessageTypes: [...accept] });
  }
  return out;
}

function permissionOf(read: boolean, write: boolean): Permission {
  if (read && write) return 'READ_WRITE';
  if (read) return 'READ';
  if (write) return 'WRITE';
  return 'NONE';
}

/** An untyped topic accepts every type (RocketMQ would say NORMAL only); a typed one its type. */
export function acceptedTypesOf(tc: TopicConfig): readonly MessageType[] {
  const t = restrictedMessageTypeOf(tc.attributes);
  switch (t) {
    case undefined:
      return everyType;
    case TopicMessageType.NORMAL:
    case TopicMessageType.FIFO:
    case TopicMessageType.DELAY:
    case TopicMessageType.TRANSACTION:
      return [t];
    default:
      return everyType;
  }
}
