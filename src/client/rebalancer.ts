/**
 * Rebalance of one consumer group in this client (RocketMQ's RebalanceImpl): for each subscribed topic, find
 * the readable queues and the group's members, allocate, and tell the owner which queues it gained or lost.
 */
import type { Logger } from '../common/log.js';
import type { AllocateStrategy } from './allocate.js';
import type { ClientInstance } from './client-instance.js';
import { MessageModel } from './heartbeat.js';
import { compareQueues, type MessageQueue, queueKey } from './message-queue.js';
import { subscribeQueues } from './route.js';

export interface RebalanceTarget {
  /** Starts consuming a queue; false when it could not (it is retried on the next rebalance). */
  added(mq: MessageQueue): Promise<boolean>;
  /** Stops consuming a queue (persist its offset first). */
  removed(mq: MessageQueue): Promise<void>;
}

export class Rebalancer {
  private readonly owned = new Map<string, MessageQueue>();
  /** Owned queues whose start (an orderly consumer's broker lock, the start offset) is still under way. */
  private readonly starting = new Set<string>();
  private readonly log: Logger;

  constructor(
    private readonly instance: ClientInstance,
    private readonly group: string,
    private readonly model: MessageModel,
    private readonly strategy: AllocateStrategy,
    private readonly target: RebalanceTarget,
  ) {
    this.log = instance.logFor('client.rebalance');
  }

  /** Queues this client consumes now, sorted: not those still starting (an orderly one may yet be refused its lock). */
  assigned(): MessageQueue[] {
    const out: MessageQueue[] = [];
    for (const [key, mq] of this.owned) if (!this.starting.has(key)) out.push(mq);
    return out.sort(compareQueues);
  }

  /** Forgets a queue without the removed() callback (the owner already dropped it). */
  forget(mq: MessageQueue): void {
    this.owned.delete(queueKey(mq));
  }

  async rebalance(topics: readonly string[]): Promise<void> {
    for (const topic of topics) {
      try {
        const mine = await this.allocate(topic);
        if (mine !== undefined) await this.apply(topic, mine);
      } catch (err) {
        this.log.warn('rebalance of topic failed', { group: this.group, topic, err });
      }
    }
    // Topics no longer subscribed lose their queues.
    for (const mq of [...this.owned.values()]) if (!topics.includes(mq.topic)) await this.drop(mq);
  }

  /** Queues of `topic` this client should own; undefined when the facts are not available yet. */
  private async allocate(topic: string): Promise<MessageQueue[] | undefined> {
    const route = this.instance.cachedRoute(topic) ?? (await this.instance.updateRoute(topic));
    if (route === undefined) return undefined;
    const mqAll = subscribeQueues(topic, route).sort(compareQueues);
    if (this.model === MessageModel.BROADCASTING) return mqAll;
    const cidAll = await this.consumerIds(route.brokerDatas.map((b) => b.brokerName));
    if (cidAll === undefined || cidAll.length === 0) return undefined;
    return this.strategy(this.instance.clientId, mqAll, cidAll.sort());
  }

  /** The group's members, from the first broker (random order) that answers. */
  private async consumerIds(brokerNames: string[]): Promise<string[] | undefined> {
    const start = Math.floor(Math.random() * brokerNames.length);
    let lastErr: unknown;
    for (let i = 0; i < brokerNames.length; i++) {
      const addr = this.instance.masterAddr(brokerNames[(start + i) % brokerNames.length] as string);
      if (addr === undefined) continue;
      try {
        await this.instance.ensureHeartbeat(addr);
        return await this.instance.api.getConsumerIds(addr, this.group);
      } catch (err) {
        lastErr = err;
      }
    }
    if (lastErr !== undefined) throw lastErr;
    return undefined;
  }

  private async apply(topic: string, mine: readonly MessageQueue[]): Promise<void> {
    const wanted = new Set(mine.map(queueKey));
    for (const mq of [...this.owned.values()]) {
      if (mq.topic === topic && !wanted.has(queueKey(mq))) await this.drop(mq);
    }
    for (const mq of mine) {
      const key = queueKey(mq);
      if (this.owned.has(key)) continue;
      this.owned.set(key, mq);
      this.starting.add(key);
      let ok = false;
      try {
        ok = await this.target.added(mq);
      } catch (err) {
        this.log.warn('could not start consuming queue', { group: this.group, queue: key, err });
      } finally {
        this.starting.delete(key);
      }
      if (!ok) this.owned.delete(key);
    }
  }

  private async drop(mq: MessageQueue): Promise<void> {
    this.owned.delete(queueKey(mq));
    await this.target.removed(mq);
  }

  /** Drops every queue (shutdown). */
  async dropAll(): Promise<void> {
    for (const mq of [...this.owned.values()]) await this.drop(mq);
  }
}
