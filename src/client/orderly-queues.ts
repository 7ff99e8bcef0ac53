/**
 * The queue side of an orderly push consumer (RocketMQ's RebalanceImpl for orderly groups): a queue is locked at
 * its broker before it is pulled (clustering), held locks are renewed every 20 s, a queue refused because its old
 * owner still holds it is tried again 500 ms later, and a queue given up is released only once its in-flight
 * message is done: offset committed, then unlocked for the next owner. Owns the ConsumeOrderlyService.
 */
import type { Logger } from '../common/log.js';
import { PeriodicTask } from '../common/periodic-task.js';
import type { ClientInstance } from './client-instance.js';
import { type MessageQueue, queueKey } from './message-queue.js';
import type { OffsetStore } from './offset-store.js';
import { ConsumeOrderlyService, type OrderlyConsumeOptions } from './orderly-consume-service.js';
import type { ProcessQueue } from './process-queue.js';
import { lockLeaseMsDefault, lockRenewIntervalMsDefault, QueueLocks } from './queue-locks.js';
import type { ReceivedMessage } from './received-message.js';

/** After a rebalance that could not lock every queue it was given, the next one comes this soon (RocketMQ 5). */
const lockRetryRebalanceMs = 500;

export interface OrderlyQueuesOptions {
  instance: ClientInstance;
  group: string;
  clustering: boolean;
  offsets: OffsetStore;
  /** The consumer's queues now (renewed every 20 s). */
  queues: ReadonlyMap<string, { mq: MessageQueue; pq: ProcessQueue<ReceivedMessage> }>;
  isRunning: () => boolean;
  /** The consume service's options other than the locks (set here). */
  consume: Omit<OrderlyConsumeOptions, 'locks' | 'lockLeaseMs' | 'offsets'>;
  log: Logger;
  lockLog: Logger;
}

export class OrderlyQueues {
  readonly service: ConsumeOrderlyService;
  /** Clustering only: broadcasting consumers lock nothing. */
  readonly locks: QueueLocks | undefined;
  private readonly renew: PeriodicTask | undefined;
  /** Queues given up whose in-flight message, offset commit and unlock are still under way. */
  private readonly releasing = new Map<string, Promise<void>>();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: OrderlyQueuesOptions) {
    const locks = opts.clustering ? new QueueLocks(opts.instance, opts.group, opts.lockLog) : undefined;
    this.locks = locks;
    if (locks !== undefined) {
      this.renew = new PeriodicTask({
        name: 'orderly-lock-renew',
        periodMs: lockRenewIntervalMsDefault,
        run: () => locks.lockAll(opts.queues),
        log: opts.log,
      });
    }
    this.service = new ConsumeOrderlyService({
      ...opts.consume,
      offsets: opts.offsets,
      locks,
      lockLeaseMs: lockLeaseMsDefault,
    });
  }

  start(): void {
    this.renew?.start();
  }

  /** Shutdown, before the queues are dropped: no renewal, no new message. */
  async stop(): Promise<void> {
    clearTimeout(this.retryTimer);
    await this.renew?.stop();
    this.service.stop();
  }

  /**
   * Before `mq` is pulled: waits for its release if it was given up a moment ago, then locks it (clustering).
   * False when the broker refused (another member still holds it); a rebalance then comes soon.
   */
  async acquire(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>): Promise<boolean> {
    await this.releasing.get(queueKey(mq));
    if (this.locks === undefined || (await this.locks.lock(mq, pq))) return true;
    this.rebalanceLater();
    return false;
  }

  /** A queue locked by acquire() that will not be consumed after all. */
  async abandon(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>): Promise<void> {
    if (pq.locked) await this.locks?.unlock(mq);
  }

  /** A queue given up (rebalance or shutdown; `pq` already dropped): released once its message is done. */
  release(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>): void {
    this.track(queueKey(mq), this.releaseAfterInFlight(mq, pq));
  }

  /** A queue whose offset the broker moved: taken again only after its in-flight message is done. */
  settleBeforeReuse(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>): void {
    this.track(queueKey(mq), this.service.settled(pq));
  }

  /** Resolves when every release under way is done. */
  async released(): Promise<void> {
    await Promise.allSettled([...this.releasing.values()]);
  }

  private track(key: string, release: Promise<void>): void {
    this.releasing.set(key, release);
    release.finally(() => {
      if (this.releasing.get(key) === release) this.releasing.delete(key);
    });
  }

  private async releaseAfterInFlight(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>): Promise<void> {
    await this.service.settled(pq);
    const offsets = this.opts.offsets;
    await offsets
      .persistAll([mq])
      .catch((err) => this.opts.log.warn('offset commit failed', { queue: queueKey(mq), err }));
    offsets.remove(mq);
    await this.abandon(mq, pq);
  }

  private rebalanceLater(): void {
    if (this.retryTimer !== undefined || !this.opts.isRunning()) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.opts.isRunning()) this.opts.instance.rebalanceSoon();
    }, lockRetryRebalanceMs);
    this.retryTimer.unref();
  }
}
