/**
 * The SQL92 filter data of each group and topic (RocketMQ's ConsumerFilterManager): the expression a group's
 * heartbeat registered, compiled, with the subscription version it came with. Pulls without their own
 * subscription use it, and compare versions as RocketMQ's PullMessageProcessor does (FILTER_DATA_NOT_EXIST /
 * FILTER_DATA_NOT_LATEST). A new expression is handed to the store's filter bitmap, which judges records by it from
 * then on; a topic the group no longer subscribes with SQL92, or a group with no consumer left, is dropped there.
 */
import type { SubscriptionData } from '../../remoting/protocol/clients.js';
import type { FilterBitmap } from '../../store/types.js';
import { isTagType } from './expression-type.js';
import type { Sql92Filter } from './sql92/sql-filter.js';
import { compiledSql92 } from './sql92-filter.js';

export interface ConsumerFilterData {
  readonly group: string;
  readonly topic: string;
  readonly expression: string;
  /** The subscription version (subVersion) it was registered with, raised when the same expression returns newer. */
  version: number;
  readonly filter: Sql92Filter;
}

export class ConsumerFilterManager {
  /** group → topic → filter data */
  private readonly byGroup = new Map<string, Map<string, ConsumerFilterData>>();

  /** `bitmap`: the store's filter bitmap, when it keeps one (known once the store started). */
  constructor(private readonly bitmap: () => FilterBitmap | undefined) {}

  get(group: string, topic: string): ConsumerFilterData | undefined {
    return this.byGroup.get(group)?.get(topic);
  }

  /**
   * A heartbeat's subscriptions of `group`: SQL92 ones that compile are registered unless older than what is
   * there (a bad one keeps the previous data, as RocketMQ's build fails); topics no longer subscribed with SQL92
   * are dropped.
   */
  registerAll(group: string, subs: readonly SubscriptionData[]): void {
    let topics = this.byGroup.get(group);
    const sql = new Set<string>();
    for (const sub of subs) {
      if (isTagType(sub.expressionType)) continue;
      sql.add(sub.topic);
      const prev = topics?.get(sub.topic);
      if (prev !== undefined && prev.version > sub.subVersion) continue;
      if (prev?.expression === sub.subString) {
        prev.version = sub.subVersion;
        continue;
      }
      const c = compiledSql92(sub.subString);
      if (!c.ok) continue;
      if (topics === undefined) {
        topics = new Map();
        this.byGroup.set(group, topics);
      }
      topics.set(sub.topic, {
        group,
        topic: sub.topic,
        expression: sub.subString,
        version: sub.subVersion,
        filter: c.filter,
      });
      this.bitmap()?.register(sub.topic, group, sub.subString);
    }
    for (const topic of [...(topics?.keys() ?? [])]) {
      if (!sql.has(topic)) this.drop(group, topic);
    }
  }

  /** The group has no consumer left. */
  unregisterGroup(group: string): void {
    for (const topic of [...(this.byGroup.get(group)?.keys() ?? [])]) this.drop(group, topic);
  }

  private drop(group: string, topic: string): void {
    const topics = this.byGroup.get(group);
    if (topics?.delete(topic) !== true) return;
    if (topics.size === 0) this.byGroup.delete(group);
    this.bitmap()?.unregister(topic, group);
  }
}
