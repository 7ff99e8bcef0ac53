/**
 * Producer de-duplication (tsrocket, beyond RocketMQ): one DedupTable per topic whose config carries the
 * `dedup.window.ms` attribute, kept in step with topic changes, and rebuilt at start from the store so the window
 * survives a restart (rebuild.ts).
 */
import { dedupWindowMsOf } from '../../common/topic-attributes.js';
import type { MessageStore } from '../../store/types.js';
import type { TopicConfig } from '../metadata/topic-config.js';
import { type DedupCounters, DedupTable, newDedupCounters } from './dedup-table.js';
import { rebuildDedupTables } from './rebuild.js';

export class DedupService {
  private readonly tables = new Map<string, DedupTable>();
  readonly counters: DedupCounters = newDedupCounters();
  /** Keys put back into the tables by the last start, and records it could not read (skipped). */
  rebuiltKeys = 0;
  rebuildUnreadable = 0;

  constructor(readonly keysPerTopicMax: number) {}

  /** The table of a de-duplicated topic; undefined (one lookup in a map, usually empty) for any other. */
  tableOf(topic: string): DedupTable | undefined {
    return this.tables.size === 0 ? undefined : this.tables.get(topic);
  }

  get topicCount(): number {
    return this.tables.size;
  }

  /** Follows a topic's config: opens, resizes the window of, or drops its table. */
  sync(topic: string, tc: TopicConfig | undefined): void {
    const windowMs = dedupWindowMsOf(tc?.attributes);
    const t = this.tables.get(topic);
    if (windowMs === undefined) {
      this.tables.delete(topic);
    } else if (t === undefined) {
      this.tables.set(topic, new DedupTable(windowMs, this.keysPerTopicMax, this.counters));
    } else {
      t.windowMs = windowMs;
    }
  }

  /** At start, before requests are served: a table per de-duplicated topic, filled from the store. */
  async start(store: MessageStore, topics: readonly TopicConfig[], nowMs = Date.now()): Promise<void> {
    for (const tc of topics) this.sync(tc.topicName, tc);
    if (this.tables.size === 0) return;
    const counts = await rebuildDedupTables(store, this.tables, nowMs);
    this.rebuiltKeys = counts.keys;
    this.rebuildUnreadable = counts.unreadable;
  }

  /** brokerStatus figures. */
  stats(): Record<string, number> {
    let keys = 0;
    for (const t of this.tables.values()) keys += t.size;
    return {
      dedupTopics: this.tables.size,
      dedupKeys: keys,
      dedupDuplicates: this.counters.duplicates,
      dedupInFlightWaits: this.counters.inFlightWaits,
      dedupEvicted: this.counters.evicted,
      dedupExpired: this.counters.expired,
      dedupRebuiltKeys: this.rebuiltKeys,
      dedupRebuildUnreadable: this.rebuildUnreadable,
    };
  }
}
