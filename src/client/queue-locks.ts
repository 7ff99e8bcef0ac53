/**
 * The broker locks of an orderly push consumer (RocketMQ's RebalanceImpl.lock / lockAll / unlock): a queue is
 * locked before it is pulled, every held queue is renewed every 20 s, and a queue given up is unlocked once its
 * in-flight message is done. The lease the client trusts (30 s) is shorter than the broker's (60 s), so a
 * client whose renewals fail stops consuming before the broker hands the queue to another member.
 */
import type { Logger } from '../common/log.js';
import type { ClientInstance } from './client-instance.js';
import { type MessageQueue, queueKey } from './message-queue.js';

/** RocketMQ's rebalanceLockInterval: held locks are renewed this often. */
export const lockRenewIntervalMsDefault = 20_000;
/** RocketMQ's rebalanceLockMaxLiveTime (client side): a lock not renewed for this long is not trusted. */
export const lockLeaseMsDefault = 30_000;

/** The lock fields of a ProcessQueue. */
export interface LockState {
  locked: boolean;
  lastLockMs: number;
  readonly dropped: boolean;
}

export class QueueLocks {
  constructor(
    private readonly instance: ClientInstance,
    private readonly group: string,
    private readonly log: Logger,
  ) {}

  /** Locks one queue at its broker; true when granted. On success `pq` (if given) is marked locked. */
  async lock(mq: MessageQueue, pq?: LockState): Promise<boolean> {
    const addr = this.instance.masterAddr(mq.brokerName);
    if (addr === undefined) return false;
    try {
      const locked = await this.instance.api.lockBatchMQ(addr, this.body([mq]));
      const ok = locked.some((q) => queueKey(q) === queueKey(mq));
      if (pq !== undefined) {
        pq.locked = ok;
        if (ok) pq.lastLockMs = Date.now();
      }
      return ok;
    } catch (err) {
      this.log.warn('lock of queue failed', { group: this.group, queue: queueKey(mq), err });
      return false;
    }
  }

  /** Renews every held queue, one request per broker; queues the broker did not grant are marked unlocked. */
  async lockAll(queues: ReadonlyMap<string, { mq: MessageQueue; pq: LockState }>): Promise<void> {
    const byBroker = new Map<string, Array<{ mq: MessageQueue; pq: LockState }>>();
    for (const entry of queues.values()) {
      const list = byBroker.get(entry.mq.brokerName) ?? [];
      list.push(entry);
      byBroker.set(entry.mq.brokerName, list);
    }
    for (const [brokerName, entries] of byBroker) {
      const addr = this.instance.masterAddr(brokerName);
      if (addr === undefined) continue;
      let granted: Set<string>;
      try {
        const locked = await this.instance.api.lockBatchMQ(addr, this.body(entries.map((e) => e.mq)));
        granted = new Set(locked.map(queueKey));
      } catch (err) {
        // Keep the current state: the lease runs out on its own if renewals keep failing.
        this.log.warn('renewing queue locks failed', { group: this.group, broker: brokerName, err });
        continue;
      }
      const nowMs = Date.now();
      for (const { mq, pq } of entries) {
        if (pq.dropped) continue;
        const ok = granted.has(queueKey(mq));
        if (!ok && pq.locked) this.log.warn('queue lock lost', { group: this.group, queue: queueKey(mq) });
        pq.locked = ok;
        if (ok) pq.lastLockMs = nowMs;
      }
    }
  }

  /** Releases one queue at its broker (best effort: an unreleased lock expires at the broker). */
  async unlock(mq: MessageQueue): Promise<void> {
    const addr = this.instance.masterAddr(mq.brokerName);
    if (addr === undefined) return;
    try {
      await this.instance.api.unlockBatchMQ(addr, this.body([mq]));
    } catch (err) {
      this.log.warn('unlock of queue failed; the broker frees it when its lease ends', {
        group: this.group,
        queue: queueKey(mq),
        err,
      });
    }
  }

  private body(mqSet: MessageQueue[]) {
    return { consumerGroup: this.group, clientId: this.instance.clientId, mqSet };
  }
}
