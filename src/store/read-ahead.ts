/**
 * ConsumeQueue read-ahead for consumers far behind the write position. When a pull was served from cold
 * CommitLog bytes, the ConsumeQueue read that the same consumer's next pull will need starts at once (its
 * CommitLog bytes come through the shared BlockCache), so the next pull does not wait for two thread-pool reads
 * in turn. Each cached read is used once, and the cache is bounded in bytes and in age.
 */
import { type ConsumeQueue, cqEntryBytes } from './consume-queue.js';

interface Ahead<T> {
  value: Promise<T>;
  bytes: number;
  at: number;
}

export interface ReadAheadStats {
  scheduled: number;
  entryHits: number;
  dropped: number;
}

export class ReadAhead {
  private readonly entries = new Map<string, Ahead<Buffer> & { count: number }>();
  private readonly ids = new WeakMap<ConsumeQueue, number>();
  private nextId = 1;
  private bytes = 0;
  readonly stats: ReadAheadStats = { scheduled: 0, entryHits: 0, dropped: 0 };

  constructor(
    readonly bytesMax: number,
    private readonly ttlMs: number,
  ) {}

  /** Cached ConsumeQueue entries from `offset` (at least `count` asked for when cached), taken out of the cache. */
  takeEntries(q: ConsumeQueue, offset: number, count: number): Promise<Buffer> | undefined {
    if (this.entries.size === 0) return undefined;
    const key = this.entryKey(q, offset);
    const a = this.entries.get(key);
    if (a === undefined || a.count < count) return undefined;
    this.entries.delete(key);
    this.bytes -= a.bytes;
    this.stats.entryHits++;
    return a.value;
  }

  has(q: ConsumeQueue, offset: number): boolean {
    return this.entries.has(this.entryKey(q, offset));
  }

  /** True when `bytes` more fit the budget (after dropping expired reads). */
  hasRoom(bytes: number): boolean {
    this.expire(performance.now());
    return this.bytes + bytes <= this.bytesMax;
  }

  /** Caches a started read; a read already cached for the same queue and offset is kept instead. */
  putEntries(q: ConsumeQueue, offset: number, count: number, value: Promise<Buffer>): void {
    const key = this.entryKey(q, offset);
    if (this.entries.has(key)) return;
    const bytes = count * cqEntryBytes;
    value.catch(() => undefined); // a failed read-ahead is reported to the pull that takes it, if any
    this.entries.set(key, { value, bytes, at: performance.now(), count });
    this.bytes += bytes;
    this.stats.scheduled++;
  }

  cachedBytes(): number {
    return this.bytes;
  }

  private entryKey(q: ConsumeQueue, offset: number): string {
    let id = this.ids.get(q);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(q, id);
    }
    return `${id}:${offset}`;
  }

  /** Drops reads nobody took within the time limit (maps iterate oldest first). */
  private expire(now: number): void {
    for (const [k, a] of this.entries) {
      if (now - a.at <= this.ttlMs) break;
      this.entries.delete(k);
      this.bytes -= a.bytes;
      this.stats.dropped++;
    }
  }
}
