/**
 * Topics on every broker of `tsrocket start --brokers N`. A topic that appears on one broker (auto-created by a
 * send through the default topic's route, or `updateTopic -b`) is created on the other brokers with the same
 * queue counts and perm, so producers spread over every broker's queues and consumers rebalance across them —
 * what `updateTopic -c <cluster>` gives (that path creates it everywhere at once, and is then a no-op here).
 * Without it an auto-created topic stays on whichever broker took its first send: our producer asks for the new
 * topic's route right after that send.
 *
 * Only a topic new in a broker's registration is spread (not one a broker has had since its first registration),
 * so a delete (`deleteTopic -c`, broker by broker) is never undone. System, retry, DLQ and reply topics and the
 * brokers' own name topics stay per broker.
 */

import type { Logger } from '../common/log.js';
import type { QueueData } from '../common/route-data.js';
import { isDlqTopic, isRetryTopic, isSystemTopic, replyTopicSuffix } from '../common/topics.js';
import type { RouteInfoManager } from '../namesrv/route-info-manager.js';

/** Creates `topic` on the broker at `brokerAddr` like `like` (UPDATE_AND_CREATE_TOPIC). */
export type CreateTopic = (brokerAddr: string, topic: string, like: QueueData) => Promise<void>;

export class TopicSpread {
  /** Topics routed to each broker after its last registration; absent = not registered yet. */
  private readonly seen = new Map<string, Set<string>>();

  constructor(
    private readonly routes: RouteInfoManager,
    private readonly create: CreateTopic,
    private readonly log: Logger,
  ) {}

  /**
   * `brokerName` registered; `members` are the serving brokers (name → address). Its topics new since its last
   * registration and missing on another member are created there.
   */
  afterRegistration(brokerName: string, members: ReadonlyMap<string, string>, clusterName: string): void {
    const now = new Map<string, QueueData>();
    const missing = new Map<string, string[]>();
    for (const topic of this.routes.getAllTopicList().topicList) {
      const queues = this.routes.pickupTopicRouteData(topic)?.queueDatas ?? [];
      const mine = queues.find((q) => q.brokerName === brokerName);
      if (mine === undefined) continue;
      now.set(topic, mine);
      const lacking = [...members.keys()].filter((m) => !queues.some((q) => q.brokerName === m));
      if (lacking.length > 0) missing.set(topic, lacking);
    }
    const before = this.seen.get(brokerName);
    this.seen.set(brokerName, new Set(now.keys()));
    if (before === undefined) return;
    for (const [topic, lacking] of missing) {
      if (before.has(topic) || !spreadable(topic, clusterName, members)) continue;
      const like = now.get(topic) as QueueData;
      for (const name of lacking) {
        const addr = members.get(name) as string;
        this.log.info('topic spread to the other broker', { topic, from: brokerName, to: name });
        this.create(addr, topic, like).catch((err: unknown) =>
          this.log.warn('topic spread failed', { topic, to: name, err }),
        );
      }
    }
  }

  /** A broker restarted: its first registration is again only a baseline. */
  forget(brokerName: string): void {
    this.seen.delete(brokerName);
  }
}

function spreadable(topic: string, clusterName: string, members: ReadonlyMap<string, string>): boolean {
  return !(
    isSystemTopic(topic) ||
    isRetryTopic(topic) ||
    isDlqTopic(topic) ||
    topic.endsWith(replyTopicSuffix) ||
    topic === clusterName ||
    members.has(topic)
  );
}
