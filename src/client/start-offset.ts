/** Where a consumer starts reading a queue it was just given (RocketMQ's computePullFromWhere). */
import { isRetryTopic } from '../common/topics.js';
import type { ClientInstance } from './client-instance.js';
import { BrokerNotFoundError } from './errors.js';
import { ConsumeFromWhere } from './heartbeat.js';
import type { MessageQueue } from './message-queue.js';
import type { OffsetStore } from './offset-store.js';

/** The stored offset when there is one, else per `from`: end, start, or first message at/after `timestampMs`. */
export async function computeStartOffset(
  instance: ClientInstance,
  store: OffsetStore,
  mq: MessageQueue,
  from: ConsumeFromWhere,
  timestampMs: number,
): Promise<bigint> {
  const stored = await store.storedOffset(mq);
  if (stored !== undefined && stored >= 0n) return stored;
  // Retry queues hold only this group's redeliveries: always read them from the start.
  if (isRetryTopic(mq.topic)) return 0n;
  if (from === ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET) return 0n;
  let addr = instance.masterAddr(mq.brokerName);
  if (addr === undefined) {
    await instance.updateRoute(mq.topic);
    addr = instance.masterAddr(mq.brokerName);
  }
  if (addr === undefined) throw new BrokerNotFoundError(mq.brokerName, mq.topic);
  if (from === ConsumeFromWhere.CONSUME_FROM_TIMESTAMP) {
    return instance.api.searchOffset(addr, mq.topic, mq.queueId, timestampMs);
  }
  return instance.api.getMaxOffset(addr, mq.topic, mq.queueId);
}
