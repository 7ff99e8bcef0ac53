/**
 * One de-duplicated topic's table (tsrocket, beyond RocketMQ): UNIQ_KEY → what the first send of that key was
 * answered, for the keys stored within the window; plus the keys whose first put is still under way, so a
 * duplicate arriving meanwhile waits for that put instead of storing a second copy.
 */

/** The answer a first send got; a resend of its UNIQ_KEY within the window gets the same. */
export interface DedupEntry {
  readonly queueId: number;
  readonly queueOffset: bigint;
  /** offsetMsgId: store host + CommitLog offset of the stored record. */
  readonly offsetMsgId: string;
  readonly storeTimeMs: number;
}

/** Counters shared by the tables of one broker (brokerStatus `dedup*` figures). */
export interface DedupCounters {
  /** Sends answered with an earlier result instead of being stored. */
  duplicates: number;
  /** Sends that waited for the put of an earlier send of the same key. */
  inFlightWaits: number;
  /** Keys that left a table past dedupKeysPerTopicMax while still inside the window. */
  evicted: number;
  /** Keys that left a table because their window had passed. */
  expired: number;
}

export function newDedupCounters(): DedupCounters {
  return { duplicates: 0, inFlightWaits: 0, evicted: 0, expired: 0 };
}

/** Settles a key's in-flight put: the entry it stored, or undefined when nothing was stored. */
export type InFlightDone = (stored: DedupEntry | undefined) => void;

export class DedupTable {
  /** In insertion order, which is store order give or take concurrent puts: the oldest are first. */
  private readonly entries = new Map<string, DedupEntry>();
  private readonly inFlight = new Map<string, Promise<DedupEntry | undefined>>();

  constructor(
    public windowMs: number,
    readonly keysMax: number,
    readonly counters: DedupCounters,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** The entry of `key` when it was stored within the window before `nowMs`. */
  lookup(key: string, nowMs: number): DedupEntry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.storeTimeMs >= nowMs - this.windowMs) return e;
    this.entries.delete(key);
    this.counters.expired++;
    return undefined;
  }

  /** The put of `key` under way, if any: it settles with what it stored. */
  pending(key: string): Promise<DedupEntry | undefined> | undefined {
    return this.inFlight.get(key);
  }

  /** Marks `key` as being put; the caller must call the returned function exactly once, stored or not. */
  begin(key: string): InFlightDone {
    let settle: (e: DedupEntry | undefined) => void = () => {};
    const p = new Promise<DedupEntry | undefined>((resolve) => {
      settle = resolve;
    });
    this.inFlight.set(key, p);
    return (stored) => {
      if (this.inFlight.get(key) !== p) return;
      this.inFlight.delete(key);
      if (stored !== undefined) this.add(key, stored, stored.storeTimeMs);
      settle(stored);
    };
  }

  /**
   * Records `key` (a key already held keeps its first answer). Drops entries past the window from the front,
   * then the oldest past keysMax (counted as evicted: a resend of those is stored again).
   */
  add(key: string, e: DedupEntry, nowMs: number): void {
    if (this.entries.has(key)) return;
    this.entries.set(key, e);
    this.expire(nowMs);
    while (this.entries.size > this.keysMax) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.counters.evicted++;
    }
  }

  /** Drops the entries at the front whose window has passed before `nowMs`. */
  expire(nowMs: number): void {
    const from = nowMs - this.windowMs;
    for (const [k, e] of this.entries) {
      if (e.storeTimeMs >= from) return;
      this.entries.delete(k);
      this.counters.expired++;
    }
  }
}
