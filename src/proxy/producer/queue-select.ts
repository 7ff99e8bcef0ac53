/**
 * Which queue a gRPC send goes to: the proxy picks it, not the client (Apache's clients route every send to
 * queue 0 of the route). A message group hashes to one queue as RocketMQ's proxy does (Guava's consistentHash of
 * the group's Java hashCode), so a group's messages share one queue in order; other sends take turns.
 */
import { javaStringHashCode } from '../../common/hash.js';

let roundRobin = 0;

export function queueForSend(messageGroup: string | undefined, writeQueues: number): number {
  if (writeQueues <= 1) return 0;
  if (messageGroup !== undefined && messageGroup !== '') {
    return consistentHash(BigInt(javaStringHashCode(messageGroup)), writeQueues);
  }
  roundRobin = (roundRobin + 1) % writeQueues;
  return roundRobin;
}

const mask64 = (1n << 64n) - 1n;

/** Guava's Hashing.consistentHash(long, buckets): a linear congruential generator walks up the buckets. */
export function consistentHash(input: bigint, buckets: number): number {
  let state = BigInt.asUintN(64, input);
  let candidate = 0;
  for (;;) {
    state = (2862933555777941757n * state + 1n) & mask64;
    const next = Math.floor((candidate + 1) / ((Number(BigInt.asIntN(32, state >> 33n)) + 1) / 2 ** 31));
    if (next >= 0 && next < buckets) candidate = next;
    else return candidate;
  }
}
