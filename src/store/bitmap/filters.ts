/**
 * The SQL92 subscriptions the bitmap is computed for (RocketMQ's ConsumerFilterManager as the store sees it):
 * topic → group → filter. A filter's bits are trusted only for records from `bornPhyOffset` (the log offset
 * dispatched when it was registered: every record from there was judged by it) up to `deadPhyOffset` (when it was
 * replaced or dropped). Log offsets, not store times: a record in the same millisecond as the registration is
 * either before or after it, never both. The table is saved with each checkpoint (before the bitmap queues are
 * flushed), so after a crash every filter it names covers the entries below the checkpoint, and replay recomputes
 * the rest with it.
 *
 * Exact verdicts: a filter whose mask has a bit no other filter of its topic sets (its "own" bit) is the only one
 * that can have set all of its bits, so over the log offsets where that holds — from its registration
 * (`exactFromPhy`) until another filter of the topic comes that covers its own bits (`exactBelowPhy`) — an entry
 * holding its mask says "matched", not "maybe": the pull serves the record without judging its properties again.
 * An entry whose filters could not be evaluated (properties unknown, a filter that threw) holds all 64 bits
 * (`maybeAll`), which no verdict trusts. Windows are saved with the table; a filter saved without one has none.
 */

import { createLogger } from '../../common/log.js';
import { type BloomMask, bloomHit, bloomMaskOf } from './bloom.js';
import { backfill, MatchList, type SideQueue } from './match-lists.js';

const log = createLogger('filter-bitmap');

/** A compiled subscription evaluated on a record's encoded properties (`key\u0001value\u0002…`). */
export type PropertiesPredicate = (properties: string | Buffer) => boolean;
/** Compiles an expression for the dispatcher (the broker's SQL92 compiler); undefined when it does not compile. */
export type PredicateCompiler = (expression: string) => PropertiesPredicate | undefined;

export class BitmapFilter implements BloomMask {
  readonly maskHi: number;
  readonly maskLo: number;
  readonly mask: bigint;
  /** Set when replaced or dropped: entries from here on were not computed with it. */
  deadPhyOffset = Number.POSITIVE_INFINITY;
  /** Entries in [exactFromPhy, exactBelowPhy) that hold the mask matched it (see the file's comment); none: ∞. */
  exactFromPhy = Number.POSITIVE_INFINITY;
  exactBelowPhy = Number.POSITIVE_INFINITY;

  /** Whether it keeps its matches in memory (`filterMatchListEnable`). */
  listing = true;
  /** Its matches per side queue of its topic (match-lists.ts), and the side queues it has none for (dense). */
  private readonly lists = new Map<object, MatchList>();
  private readonly unlisted = new Set<object>();

  constructor(
    readonly topic: string,
    readonly group: string,
    readonly expression: string,
    readonly bornPhyOffset: number,
    readonly matches: PropertiesPredicate,
  ) {
    const m = bloomMaskOf(group, topic);
    this.maskHi = m.maskHi;
    this.maskLo = m.maskLo;
    this.mask = m.mask;
  }

  /**
   * The dispatcher appended entry `queueOffset` to side queue `q` with bits `hi lo` (`sure`: evaluated, not
   * `maybeAll`): listed when they hold this filter's mask.
   */
  noteEntry(q: object, queueOffset: number, phy: number, size: number, hi: number, lo: number, sure: boolean): void {
    if (!this.listing || this.unlisted.has(q)) return;
    let list = this.lists.get(q);
    if (list !== undefined && list.to !== queueOffset) {
      list.release();
      list = undefined;
    }
    if (list === undefined) {
      list = new MatchList(queueOffset);
      this.lists.set(q, list);
    }
    const holds = !sure || bloomHit(hi, lo, this);
    if (!list.append(queueOffset, phy, size, holds, sure)) {
      list.release();
      this.lists.delete(q);
      this.unlisted.add(q);
    }
  }

  /**
   * Its matches in side queue `q` when they are in step with it (up to its end); else undefined (scan it). When
   * they do not reach back to `from` (a pull's offset), a backfill from there starts, unless one runs.
   */
  matchesIn(q: SideQueue, from?: number): MatchList | undefined {
    if (!this.listing) return undefined;
    let list = this.lists.get(q);
    if (list !== undefined && list.to !== q.maxOffset) return undefined;
    if (from !== undefined && (list === undefined || from < list.from) && !this.unlisted.has(q)) {
      if (list === undefined) {
        list = new MatchList(q.maxOffset);
        this.lists.set(q, list);
      }
      this.startBackfill(q, list, from);
    }
    return list;
  }

  private readonly backfilling = new Set<object>();

  private startBackfill(q: SideQueue, list: MatchList, from: number): void {
    if (this.backfilling.has(q) || from >= list.from) return;
    this.backfilling.add(q);
    const current = () => this.lists.get(q) === list;
    backfill(list, q, from, this, this.bornPhyOffset, current)
      .then(
        (listable) => {
          if (listable || !current()) return;
          list.release();
          this.lists.delete(q);
          this.unlisted.add(q);
        },
        (err) => {
          // A store stopping drops its lists first: a read failing after that says nothing.
          if (current()) log.warn('filter match list not backfilled; its pulls scan the side queue', { err });
        },
      )
      .finally(() => this.backfilling.delete(q));
  }

  /** Drops its lists (of side queue `q` only, when given): the side queue changed otherwise than by appends. */
  dropMatchLists(q?: object): void {
    for (const [k, list] of this.lists) {
      if (q !== undefined && k !== q) continue;
      list.release();
      this.lists.delete(k);
    }
    if (q === undefined) this.unlisted.clear();
    else this.unlisted.delete(q);
  }

  /** Drops listed records below `minPhy` (retention). */
  trimMatchLists(minPhy: number): void {
    for (const list of this.lists.values()) list.trimBelow(minPhy);
  }
}

interface SavedFilter {
  topic: string;
  group: string;
  expression: string;
  bornPhyOffset: number;
  /** The exact window; absent: none (∞), or open (`exactBelowPhy`). */
  exactFromPhy?: number;
  exactBelowPhy?: number;
}

/** An entry's bits when its filters could not be evaluated: every mask held, no exact verdict. */
export const maybeAll = -1n;

export class BitmapFilters {
  /** A topic stays here once it had a filter: its bitmap queues are kept in step with its ConsumeQueues. */
  private readonly byTopic = new Map<string, Map<string, BitmapFilter>>();
  /** Bumped on every change; the checkpoint saves the table when it moved. */
  version = 0;

  constructor(
    private readonly compile: PredicateCompiler,
    /** Filters keep their matches in memory (`filterMatchListEnable`). */
    readonly listMatches = true,
  ) {}

  groupsOf(topic: string): ReadonlyMap<string, BitmapFilter> | undefined {
    return this.byTopic.get(topic);
  }

  get(topic: string, group: string): BitmapFilter | undefined {
    return this.byTopic.get(topic)?.get(group);
  }

  topics(): IterableIterator<string> {
    return this.byTopic.keys();
  }

  /** Every filter registered now. */
  *all(): IterableIterator<BitmapFilter> {
    for (const groups of this.byTopic.values()) yield* groups.values();
  }

  /**
   * Registers (or replaces with another expression) a group's filter from log offset `atPhy`; the same expression
   * again keeps the filter and its history. False when the expression does not compile.
   */
  register(topic: string, group: string, expression: string, atPhy: number): boolean {
    return this.put(topic, group, expression, atPhy, true);
  }

  /** `register`; `judgeExact`: open the new filter's exact window and close those it covers (not when loading). */
  private put(topic: string, group: string, expression: string, atPhy: number, judgeExact: boolean): boolean {
    const prev = this.get(topic, group);
    if (prev?.expression === expression) return true;
    const matches = this.compile(expression);
    if (matches === undefined) return false;
    if (prev !== undefined) {
      prev.deadPhyOffset = atPhy;
      prev.dropMatchLists();
    }
    let groups = this.byTopic.get(topic);
    if (groups === undefined) {
      groups = new Map();
      this.byTopic.set(topic, groups);
    }
    const f = new BitmapFilter(topic, group, expression, atPhy, matches);
    f.listing = this.listMatches;
    groups.set(group, f);
    if (judgeExact) judgeExactWindows(groups, f, atPhy);
    this.version++;
    return true;
  }

  unregister(topic: string, group: string, atPhy: number): void {
    const groups = this.byTopic.get(topic);
    const f = groups?.get(group);
    if (groups === undefined || f === undefined) return;
    f.deadPhyOffset = atPhy;
    f.dropMatchLists();
    groups.delete(group);
    this.version++;
  }

  /** Drops a deleted topic. */
  forget(topic: string, atPhy: number): void {
    for (const f of this.byTopic.get(topic)?.values() ?? []) {
      f.deadPhyOffset = atPhy;
      f.dropMatchLists();
    }
    if (this.byTopic.delete(topic)) this.version++;
  }

  toJson(): string {
    const filters: SavedFilter[] = [];
    for (const groups of this.byTopic.values()) {
      for (const f of groups.values()) {
        const saved: SavedFilter = {
          topic: f.topic,
          group: f.group,
          expression: f.expression,
          bornPhyOffset: f.bornPhyOffset,
        };
        if (Number.isFinite(f.exactFromPhy)) saved.exactFromPhy = f.exactFromPhy;
        if (Number.isFinite(f.exactBelowPhy)) saved.exactBelowPhy = f.exactBelowPhy;
        filters.push(saved);
      }
    }
    return JSON.stringify({ filters });
  }

  /** Loads a saved table; returns what could not be used (unreadable file, expressions that no longer compile). */
  load(json: string): string[] {
    const problems: string[] = [];
    let saved: unknown;
    try {
      saved = JSON.parse(json);
    } catch (err) {
      return [`unreadable: ${(err as Error).message}`];
    }
    const list = (saved as { filters?: unknown } | null)?.filters;
    if (!Array.isArray(list)) return ['no filters array'];
    for (const s of list as Partial<SavedFilter>[]) {
      const { topic, group, expression, bornPhyOffset, exactFromPhy, exactBelowPhy } = s;
      if (
        typeof topic !== 'string' ||
        typeof group !== 'string' ||
        typeof expression !== 'string' ||
        typeof bornPhyOffset !== 'number' ||
        (exactFromPhy !== undefined && typeof exactFromPhy !== 'number') ||
        (exactBelowPhy !== undefined && typeof exactBelowPhy !== 'number')
      ) {
        problems.push(`malformed entry ${JSON.stringify(s)}`);
        continue;
      }
      if (!this.put(topic, group, expression, bornPhyOffset, false)) {
        problems.push(`${group}/${topic} does not compile`);
        continue;
      }
      // The saved window, as it was: entries below the checkpoint were computed under it, replay recomputes the rest.
      const f = this.get(topic, group) as BitmapFilter;
      f.exactFromPhy = exactFromPhy ?? Number.POSITIVE_INFINITY;
      f.exactBelowPhy = exactBelowPhy ?? Number.POSITIVE_INFINITY;
    }
    return problems;
  }
}

/**
 * `added` (just put in `groups`, from log offset `atPhy`) gets an exact window from there when it has an own bit;
 * every other filter of the topic whose own bits `added` covers loses its window from there on.
 */
function judgeExactWindows(groups: ReadonlyMap<string, BitmapFilter>, added: BitmapFilter, atPhy: number): void {
  for (const f of groups.values()) {
    let others = 0n;
    for (const g of groups.values()) if (g !== f) others |= g.mask;
    const own = (f.mask & ~others) !== 0n;
    if (f === added) {
      if (own) f.exactFromPhy = atPhy;
    } else if (!own && f.exactBelowPhy > atPhy) f.exactBelowPhy = atPhy;
  }
}

/**
 * The entry value of a record: the OR of the masks of the filters that matched it. A filter that throws, or a
 * record whose properties are unknown, makes it `maybeAll` (every filter's "maybe": the pull judges the record).
 */
export function bitsOf(groups: ReadonlyMap<string, BitmapFilter>, properties: string | Buffer | undefined): bigint {
  if (properties === undefined) return maybeAll;
  let bits = 0n;
  for (const f of groups.values()) {
    let hit: boolean;
    try {
      hit = f.matches(properties);
    } catch {
      return maybeAll;
    }
    if (hit) bits = bits === 0n ? f.mask : bits | f.mask;
  }
  return bits;
}
