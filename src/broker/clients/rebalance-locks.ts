/**
 * Queue locks of orderly consumers (RocketMQ's RebalanceLockManager): per group and queue one owner client.
 * A lock is granted when the queue is free, already held by the same client (which renews it), or its owner
 * has not renewed it for `lockMaxLiveTimeMs`; only the owner releases it. A closed connection releases
 * nothing (as in RocketMQ): the queue waits for its lease to run out.
 */

/** RocketMQ's `rocketmq.broker.rebalance.lockMaxLiveTime` default: a lock not renewed for this long is free. */
export const lockMaxLiveTimeMsDefault = 60_000;

export interface LockedQueue {
  readonly topic: string;
  readonly brokerName: string;
  readonly queueId: number;
}

interface LockEntry {
  clientId: string;
  lastRenewMs: number;
}

function keyOf(q: LockedQueue): string {
  return `${q.topic}@${q.brokerName}@${q.queueId}`;
}

export class RebalanceLocks {
  /** group → queue key → lock. */
  private readonly table = new Map<string, Map<string, LockEntry>>();

  constructor(
    private readonly lockMaxLiveTimeMs = lockMaxLiveTimeMsDefault,
    private readonly now: () => number = Date.now,
  ) {}

  /** Locks or renews each queue for `clientId`; returns those it now holds (the others have a live owner). */
  tryLockBatch<Q extends LockedQueue>(group: string, queues: readonly Q[], clientId: string): Q[] {
    if (queues.length === 0) return [];
    let locks = this.table.get(group);
    if (locks === undefined) {
      locks = new Map();
      this.table.set(group, locks);
    }
    const nowMs = this.now();
    const granted: Q[] = [];
    for (const q of queues) {
      const key = keyOf(q);
      const entry = locks.get(key);
      if (entry === undefined) {
        locks.set(key, { clientId, lastRenewMs: nowMs });
      } else if (entry.clientId === clientId || this.expired(entry, nowMs)) {
        entry.clientId = clientId;
        entry.lastRenewMs = nowMs;
      } else {
        continue;
      }
      granted.push(q);
    }
    return granted;
  }

  /** Releases the queues `clientId` holds; a queue held by another client stays locked. */
  unlockBatch(group: string, queues: readonly LockedQueue[], clientId: string): void {
    const locks = this.table.get(group);
    if (locks === undefined) return;
    for (const q of queues) {
      const key = keyOf(q);
      if (locks.get(key)?.clientId === clientId) locks.delete(key);
    }
    if (locks.size === 0) this.table.delete(group);
  }

  /** The live owner of a queue, if any (admin and tests). */
  ownerOf(group: string, q: LockedQueue): string | undefined {
    const entry = this.table.get(group)?.get(keyOf(q));
    return entry !== undefined && !this.expired(entry, this.now()) ? entry.clientId : undefined;
  }

  private expired(entry: LockEntry, nowMs: number): boolean {
    return nowMs - entry.lastRenewMs > this.lockMaxLiveTimeMs;
  }
}
