/**
 * Queue allocation strategies of a clustering consumer group. Every member runs the same pure function over the
 * same sorted inputs, so the group agrees on who reads which queue without talking. Facts from RocketMQ's
 * AllocateMessageQueueAveragely, AllocateMessageQueueAveragelyByCircle and AllocateMessageQueueConsistentHash.
 */
import { createHash } from 'node:crypto';
import type { MessageQueue } from './message-queue.js';

/**
 * Picks the queues of `currentCid`. `mqAll` and `cidAll` must be sorted the same way on every client
 * (see compareQueues); a client missing from `cidAll` gets nothing.
 */
export type AllocateStrategy = (
  currentCid: string,
  mqAll: readonly MessageQueue[],
  cidAll: readonly string[],
) => MessageQueue[];

/** Contiguous blocks: the first `queues % clients` members take one extra queue. */
export const allocateAveragely: AllocateStrategy = (currentCid, mqAll, cidAll) => {
  const index = cidAll.indexOf(currentCid);
  if (index < 0 || mqAll.length === 0) return [];
  const mod = mqAll.length % cidAll.length;
  const base = Math.floor(mqAll.length / cidAll.length);
  const averageSize = mqAll.length <= cidAll.length ? 1 : mod > 0 && index < mod ? base + 1 : base;
  const startIndex = mod > 0 && index < mod ? index * averageSize : index * averageSize + mod;
  const range = Math.min(averageSize, mqAll.length - startIndex);
  const out: MessageQueue[] = [];
  for (let i = 0; i < range; i++) out.push(mqAll[(startIndex + i) % mqAll.length] as MessageQueue);
  return out;
};

/** Round-robin: queue i goes to member i % members. */
export const allocateAveragelyByCircle: AllocateStrategy = (currentCid, mqAll, cidAll) => {
  const index = cidAll.indexOf(currentCid);
  if (index < 0) return [];
  const out: MessageQueue[] = [];
  for (let i = index; i < mqAll.length; i += cidAll.length) out.push(mqAll[i] as MessageQueue);
  return out;
};

/** Virtual nodes per client on the consistent-hash ring (RocketMQ's default). */
export const virtualNodesPerClientDefault = 10;

/** First 4 bytes of the MD5 digest as an unsigned int, as RocketMQ's ConsistentHashRouter hashes keys. */
export function ringHash(key: string): number {
  return createHash('md5').update(key, 'utf8').digest().readUInt32BE(0);
}

/** The queue's key on the ring: Java's MessageQueue.toString(). */
export function queueRingKey(mq: MessageQueue): string {
  return `MessageQueue [topic=${mq.topic}, brokerName=${mq.brokerName}, queueId=${mq.queueId}]`;
}

/** Consistent hash: a client joining or leaving moves only the queues next to its ring points. */
export function allocateConsistentHash(virtualNodesPerClient = virtualNodesPerClientDefault): AllocateStrategy {
  return (currentCid, mqAll, cidAll) => {
    if (!cidAll.includes(currentCid)) return [];
    const ring = new Map<number, string>();
    for (const cid of cidAll) {
      // Later insertions win on a hash collision, as with a Java TreeMap.put.
      for (let i = 0; i < virtualNodesPerClient; i++) ring.set(ringHash(`${cid}-${i}`), cid);
    }
    const points = [...ring.keys()].sort((a, b) => a - b);
    const out: MessageQueue[] = [];
    for (const mq of mqAll) {
      const h = ringHash(queueRingKey(mq));
      const at = firstAtLeast(points, h);
      const owner = ring.get(points[at < points.length ? at : 0] as number);
      if (owner === currentCid) out.push(mq);
    }
    return out;
  };
}

function firstAtLeast(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Strategy names accepted by the consumer option `allocateStrategy`. */
export const AllocateStrategyName = {
  averagely: 'averagely',
  circle: 'circle',
  consistentHash: 'consistentHash',
} as const;
export type AllocateStrategyName = (typeof AllocateStrategyName)[keyof typeof AllocateStrategyName];

export function strategyByName(name: AllocateStrategyName | AllocateStrategy): AllocateStrategy {
  if (typeof name === 'function') return name;
  switch (name) {
    case 'averagely':
      return allocateAveragely;
    case 'circle':
      return allocateAveragelyByCircle;
    case 'consistentHash':
      return allocateConsistentHash();
  }
}
