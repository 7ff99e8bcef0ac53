/**
 * QueryAssignment (what a PushConsumer asks every few seconds): the queues of the topic it should receive from, as
 * RocketMQ 5.3.3's RouteActivity answers with POP: one assignment with queue id -1 (every readable queue of this
 * broker) for a normal group, one per readable queue for a FIFO group; FORBIDDEN when no queue is readable.
 */
import { isReadable, isWriteable } from '../../broker/metadata/perm.js';
import type { ProxyContext } from '../context.js';
import { Code, type MessageQueue, type Status, status } from '../proto.js';
import { acceptedTypesOf } from '../route/query-route.js';
import { isFifoGroup } from './group-mode.js';
import { checkedGroup, checkedTopic } from './receive-params.js';
import type { QueryAssignmentRequest } from './requests.js';

export interface QueryAssignmentResponse {
  status: Status;
  assignments: { messageQueue: MessageQueue }[];
}

export async function queryAssignment(
  ctx: ProxyContext,
  req: QueryAssignmentRequest,
): Promise<QueryAssignmentResponse> {
  const topic = checkedTopic(req.topic);
  if (!topic.ok) return { status: topic.status, assignments: [] };
  const groupName = checkedGroup(req.group);
  if (!groupName.ok) return { status: groupName.status, assignments: [] };
  const broker = ctx.broker;
  const tc = broker.topics.get(topic.value);
  if (tc === undefined) {
    return { status: status(Code.TOPIC_NOT_FOUND, broker.topics.missingRemark(topic.value)), assignments: [] };
  }
  const group = broker.groups.findOrCreate(groupName.value);
  if (group === undefined) {
    return {
      status: status(Code.CONSUMER_GROUP_NOT_FOUND, broker.groups.missingRemark(groupName.value)),
      assignments: [],
    };
  }
  const perm = tc.perm & broker.config.brokerPermission;
  if (!isReadable(perm) || tc.readQueueNums <= 0) {
    return {
      status: status(Code.FORBIDDEN, `no readable queue of topic ${topic.value} on this broker`),
      assignments: [],
    };
  }
  const base = {
    topic: { resourceNamespace: req.topic?.resourceNamespace ?? '', name: topic.value },
    permission: isWriteable(perm) ? ('READ_WRITE' as const) : ('READ' as const),
    broker: { name: broker.config.brokerName, id: 0, endpoints: ctx.endpoints() },
    acceptMessageTypes: [...acceptedTypesOf(tc)],
  };
  const ids = isFifoGroup(group) ? Array.from({ length: tc.readQueueNums }, (_, i) => i) : [-1];
  return { status: status(Code.OK), assignments: ids.map((id) => ({ messageQueue: { ...base, id } })) };
}
