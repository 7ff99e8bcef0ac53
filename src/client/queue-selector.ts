/** Queue selection for ordered messages: the same sharding key always lands on the same queue. */
import { javaStringHashCode } from '../common/hash.js';
import type { Message } from './message.js';
import type { MessageQueue } from './message-queue.js';

/** Picks the queue for a message; `arg` is what the caller passed along with the selector. */
export type QueueSelector = (queues: readonly MessageQueue[], msg: Message, arg: unknown) => MessageQueue;

/** RocketMQ's SelectMessageQueueByHash: |hashCode(arg)| mod queue count (strings hash like Java). */
export const selectByHash: QueueSelector = (queues, _msg, arg) => {
  const key = typeof arg === 'number' ? arg | 0 : javaStringHashCode(String(arg));
  return queues[Math.abs(key % queues.length)] as MessageQueue;
};

/** Random queue (SelectMessageQueueByRandom). */
export const selectRandom: QueueSelector = (queues) =>
  queues[Math.floor(Math.random() * queues.length)] as MessageQueue;
