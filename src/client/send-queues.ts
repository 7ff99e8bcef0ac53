/** Which queues a producer may send a topic to, and which one it picks for a send. */
import { TsRocketError } from '../common/errors.js';
import { ResponseCode } from '../remoting/codes.js';
import { defaultTopic, defaultTopicQueueNums } from './client-api.js';
import type { ClientInstance } from './client-instance.js';
import type { FaultStrategy } from './fault-strategy.js';
import type { MessageQueue } from './message-queue.js';
import { publishQueues } from './route.js';

/** The writable queues of `topic` from the cached route, without waiting; undefined when none is cached. */
export function cachedPublishQueues(inst: ClientInstance, topic: string): MessageQueue[] | undefined {
  const route = inst.cachedRoute(topic);
  if (route === undefined) return undefined;
  const queues = publishQueues(topic, route);
  return queues.length === 0 ? undefined : queues;
}

/**
 * The writable queues of `topic`, asking the NameServer when the route is not cached. An unknown topic is sent
 * through the brokers that offer the default topic (they create it on first send); none at all throws
 * TOPIC_NOT_EXIST.
 */
export async function publishQueuesOf(inst: ClientInstance, topic: string): Promise<MessageQueue[]> {
  let route = await inst.route(topic);
  if (route === undefined) {
    const fallback = await inst.updateRoute(defaultTopic);
    route = fallback && {
      ...fallback,
      queueDatas: fallback.queueDatas.map((q) => ({
        ...q,
        writeQueueNums: Math.min(q.writeQueueNums, defaultTopicQueueNums),
      })),
    };
  }
  const queues = route === undefined ? [] : publishQueues(topic, route);
  if (queues.length === 0) {
    throw new TsRocketError(`no route info of topic ${topic}: create it first (or enable auto-create on the broker)`, {
      code: ResponseCode.TOPIC_NOT_EXIST,
    });
  }
  return queues;
}

/**
 * Round-robin from `start` over `queues`, skipping brokers the fault strategy avoids and the broker that just
 * failed while others remain; with every broker avoided, the least bad one.
 */
export function selectQueue(
  queues: readonly MessageQueue[],
  start: number,
  lastBroker: string | undefined,
  fault: FaultStrategy,
): MessageQueue {
  const at = (i: number) => queues[(start + i) % queues.length] as MessageQueue;
  for (let i = 0; i < queues.length; i++) {
    const mq = at(i);
    if (mq.brokerName !== lastBroker && fault.isAvailable(mq.brokerName)) return mq;
  }
  for (let i = 0; i < queues.length; i++) if (fault.isAvailable(at(i).brokerName)) return at(i);
  const least = fault.leastBad(new Set(queues.filter((q) => q.brokerName !== lastBroker).map((q) => q.brokerName)));
  for (let i = 0; i < queues.length; i++) if (at(i).brokerName === least) return at(i);
  return at(0);
}
