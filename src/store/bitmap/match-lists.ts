/**
 * A selective subscription's matches kept in memory: for each side queue of its topic, the entries whose bits hold
 * its mask (queue offset, log offset, size, and whether the bits were evaluated), appended by the dispatcher as it
 * writes the side queue. A pull of a 1 %-selective filter then takes its 32 candidates from here instead of reading
 * and scanning ~3,200 side-queue entries (~64 KB) per pull. An accelerator only: a list covers the side queue from
 * where it began (`from`) up to its end (`to`, equal to the side queue's `maxOffset` while in step); a pull outside
 * that, or a list out of step, scans the side queue as before. A list begins with the first entry dispatched after
 * the start (or a recovery, or a reset), and a pull below its `from` starts a backfill (`backfill`) that reads the
 * side queue from that pull's offset in the background and joins the older matches to the list's front. Bounded: `matchListEntriesMax` per list (the older half dropped when full), `listedEntriesMax`
 * for the process, and none for a filter that matches more than one entry in `denseRatio` (its pulls scan few
 * entries anyway).
 */
import { cqEntryBytes } from '../consume-queue.js';
import type { Picked } from '../read-path.js';
import { type BloomMask, bloomHit } from './bloom.js';

/** Entries one list holds at most (21 bytes each). */
export const matchListEntriesMax = 128 * 1024;
/** Entries all lists of the process hold at most (~21 MB). */
export const listedEntriesMax = 1024 * 1024;
/** A list whose filter matches more than one entry in this many (after `denseAfter` entries) is dropped. */
const denseRatio = 16;
const denseAfter = 4096;
const initialEntries = 256;

let listed = 0;

/** Entries held by every list now (tests, stats). */
export function listedEntries(): number {
  return listed;
}

export class MatchList {
  /** Every entry from `from` to `to` (exclusive) whose bits hold the mask is listed. */
  from: number;
  to: number;
  /** Entries dispatched since `from` (holding the mask or not): the density check. */
  private seen = 0;
  private head = 0;
  private end = 0;
  private queueOffsets = new Float64Array(initialEntries);
  private phys = new Float64Array(initialEntries);
  private sizes = new Int32Array(initialEntries);
  /** 1: the bits were evaluated (not every bit set because the filters could not be): an exact verdict may hold. */
  private sure = new Uint8Array(initialEntries);

  constructor(from: number) {
    this.from = from;
    this.to = from;
  }

  get count(): number {
    return this.end - this.head;
  }

  /**
   * The side queue's entry `queueOffset`, the next after `to`; `holds`: its bits hold the mask. False when the list
   * must go: too dense, or the process's budget is spent.
   */
  append(queueOffset: number, phy: number, size: number, holds: boolean, sure: boolean): boolean {
    this.seen++;
    this.to = queueOffset + 1;
    if (!holds) return true;
    if (this.seen >= denseAfter && this.count * denseRatio > this.seen) return false;
    if (this.end === this.queueOffsets.length && !this.makeRoom()) return false;
    if (listed >= listedEntriesMax) return false;
    const i = this.end++;
    this.queueOffsets[i] = queueOffset;
    this.phys[i] = phy;
    this.sizes[i] = size;
    this.sure[i] = sure ? 1 : 0;
    listed++;
    return true;
  }

  /**
   * Up to `want` candidates from queue offset `offset` (at most `bytesMax` of records, one at least), the ones
   * below `minPhy` counted as removed: as the side-queue scan picks them, `next` after the last one (the list's end
   * when it runs out). Undefined when the list does not cover `offset`. `exact` when every candidate's bits were
   * evaluated (the caller checks the subscription's exact window).
   */
  pick(offset: number, want: number, minPhy: number, bytesMax: number): Picked | undefined {
    if (offset < this.from || offset > this.to) return undefined;
    const out: Picked = { phys: [], sizes: [], queueOffsets: [], next: this.to, removed: 0 };
    let exact = true;
    let bytes = 0;
    for (let i = this.lowerBound(offset); i < this.end; i++) {
      const size = this.sizes[i] as number;
      if (out.phys.length >= want || (out.phys.length > 0 && bytes + size > bytesMax)) {
        out.next = this.queueOffsets[i] as number;
        break;
      }
      const phy = this.phys[i] as number;
      if (phy < minPhy) {
        out.removed++;
        continue;
      }
      out.phys.push(phy);
      out.sizes.push(size);
      out.queueOffsets.push(this.queueOffsets[i] as number);
      if (this.sure[i] === 0) exact = false;
      bytes += size;
    }
    if (out.phys.length > 0) out.exact = exact;
    return out;
  }

  /** Drops the entries whose records lie below `minPhy` (retention). */
  trimBelow(minPhy: number): void {
    let i = this.head;
    while (i < this.end && (this.phys[i] as number) < minPhy) i++;
    this.dropTo(i);
  }

  /** Gives the list's entries back to the process's budget. */
  release(): void {
    listed -= this.count;
    this.head = this.end = 0;
  }

  /** The first listed entry at or after `offset`. */
  private lowerBound(offset: number): number {
    let lo = this.head;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.queueOffsets[mid] as number) < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Joins `older` (which ends where this list begins) to its front; entries past `matchListEntriesMax` are left
   * out from the oldest on. False when `older` does not end at `from`.
   */
  prepend(older: MatchList): boolean {
    if (older.to !== this.from) return false;
    const n = this.count;
    const keep = Math.min(older.count, matchListEntriesMax - n);
    const skip = older.count - keep;
    const total = n + keep;
    const size = Math.max(initialEntries, total);
    const join = <T extends Float64Array | Int32Array | Uint8Array>(a: T, b: T, into: T): T => {
      into.set(a.subarray(older.head + skip, older.end) as never);
      into.set(b.subarray(this.head, this.end) as never, keep);
      return into;
    };
    this.queueOffsets = join(older.queueOffsets, this.queueOffsets, new Float64Array(size));
    this.phys = join(older.phys, this.phys, new Float64Array(size));
    this.sizes = join(older.sizes, this.sizes, new Int32Array(size));
    this.sure = join(older.sure, this.sure, new Uint8Array(size));
    this.from = skip === 0 ? older.from : (older.queueOffsets[older.head + skip - 1] as number) + 1;
    this.seen += older.seen;
    older.release();
    listed += keep;
    this.head = 0;
    this.end = total;
    return true;
  }

  /** Drops entries before index `i`: the list then covers from just after the last one dropped. */
  private dropTo(i: number): void {
    if (i === this.head) return;
    this.from = Math.max(this.from, (this.queueOffsets[i - 1] as number) + 1);
    listed -= i - this.head;
    this.head = i;
  }

  /** Room for one more: the dropped head reclaimed, else the arrays doubled, else the older half dropped. */
  private makeRoom(): boolean {
    if (this.head > 0) {
      const n = this.count;
      this.queueOffsets.copyWithin(0, this.head, this.end);
      this.phys.copyWithin(0, this.head, this.end);
      this.sizes.copyWithin(0, this.head, this.end);
      this.sure.copyWithin(0, this.head, this.end);
      this.head = 0;
      this.end = n;
      if (n < this.queueOffsets.length) return true;
    }
    if (this.queueOffsets.length < matchListEntriesMax) {
      const grown = Math.min(matchListEntriesMax, this.queueOffsets.length * 2);
      this.queueOffsets = grownCopy(this.queueOffsets, new Float64Array(grown));
      this.phys = grownCopy(this.phys, new Float64Array(grown));
      this.sizes = grownCopy(this.sizes, new Int32Array(grown));
      this.sure = grownCopy(this.sure, new Uint8Array(grown));
      return true;
    }
    this.dropTo(this.head + (this.count >> 1));
    return this.makeRoom();
  }
}

function grownCopy<T extends Float64Array | Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

/** What a backfill reads: a side queue (consume-queue.ts). */
export interface SideQueue {
  readonly minOffset: number;
  readonly maxOffset: number;
  read(offset: number, count: number): Promise<Buffer>;
}

/** Side-queue entries a backfill reads at a time. */
const backfillChunkEntries = 4096;

/**
 * The matches of side queue `q` from queue offset `from` up to where `list` begins, read from the side queue and
 * joined to `list`'s front: `mask` is the filter's, `bornPhy` its registration (entries of records
 * before it were computed without it: the backfill begins after them), `current()` false once the list was
 * dropped or replaced meanwhile (the backfill then stops). Returns false when the matches are too many to list.
 */
export async function backfill(
  list: MatchList,
  q: SideQueue,
  from: number,
  mask: Pick<BloomMask, 'maskHi' | 'maskLo'>,
  bornPhy: number,
  current: () => boolean,
): Promise<boolean> {
  let older = new MatchList(Math.max(from, q.minOffset));
  while (older.to < list.from) {
    const chunk = await q.read(older.to, Math.min(backfillChunkEntries, list.from - older.to));
    if (!current()) {
      older.release();
      return true;
    }
    // Cut short by retention or a file's end read as empty: the list stays as it is.
    if (chunk.length === 0) break;
    for (let at = 0; at + cqEntryBytes <= chunk.length; at += cqEntryBytes) {
      const queueOffset = older.to;
      const phy = chunk.readUInt32BE(at) * 2 ** 32 + chunk.readUInt32BE(at + 4);
      const size = chunk.readInt32BE(at + 8);
      if (size === 0 || phy < bornPhy) {
        // A blank entry (judged on its ConsumeQueue entry) or one from before the filter: the list starts after it.
        older.release();
        older = new MatchList(queueOffset + 1);
        continue;
      }
      const hi = chunk.readUInt32BE(at + 12);
      const lo = chunk.readUInt32BE(at + 16);
      const sure = hi !== 0xffffffff || lo !== 0xffffffff;
      const holds = bloomHit(hi, lo, mask);
      if (!older.append(queueOffset, phy, size, holds, sure)) {
        older.release();
        return false;
      }
    }
  }
  if (!list.prepend(older)) older.release();
  return true;
}
