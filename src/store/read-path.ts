/**
 * Reads a ConsumeQueue range and the records it points to. Records that lie back to back in the CommitLog form a
 * run; runs separated by a small gap share one pread; the result's `bodyParts` are slices of those reads (one per
 * run), so a PULL response is written without copying records into one buffer. Cold reads are slices of the
 * CommitLog's shared blocks (a run across blocks is one part per block; only a record across a block end is
 * copied): the result's `release` gives them back once the response is written. Every record
 * served is checked first (magic, size, queue offset: `servedRecordFault`; BODYCRC too unless it is a page-cache
 * read of a record this process wrote); a damaged one is skipped, counted, and the pull moves past it.
 */

import type { PinnedPieces } from './block-cache.js';
import type { CommitLog } from './commit-log.js';
import type { ConsumeQueue } from './consume-queue.js';
import { cqEntryBytes } from './consume-queue.js';
import { type StoreDamage, servedRecordFault } from './damage.js';
import type { ReadAhead } from './read-ahead.js';
import { readByBitmap } from './read-bitmap.js';
import { readByProperties } from './read-filtered.js';
import { arenaBytes, giveArena, takeArena } from './read-worker.js';
import { emptyGet } from './results.js';
import type { GetResult, MessageFilter } from './types.js';
import { GetStatus } from './types.js';

/** Entries looked at per pull when a filter skips messages (RocketMQ scans up to 16,000; we stay smaller). */
const filteredScanEntriesMax = 2000;
/**
 * Two runs share one pread when at most this many unwanted bytes lie between them: from the page cache a small
 * gap costs less than another pread, while on a cold log every gap byte is disk bandwidth taken from readers.
 */
const readGapBytesMax = 16 * 1024;
/** Largest single pread (a run longer than this is still read whole). */
const readBytesMax = 4 * 1024 * 1024;
const two32 = 2 ** 32;

/** What a read needs: the log, the read-ahead of consumers far behind, and where refused records are counted. */
export interface ReadSource {
  readonly commitLog: CommitLog;
  readonly readAhead: ReadAhead;
  readonly damage: StoreDamage;
  /**
   * Log offset from which this process wrote the records (the log end at start). Their hot reads come from the
   * page cache it wrote them into, so BODYCRC is checked on every cold read and on every record older than this.
   */
  readonly writtenSinceStartFrom: number;
  segmentFileOf(phyOffset: number): string;
  /** The SQL92 filter bitmap's side queue of a ConsumeQueue (file store with enableCalcFilterBitMap). */
  bitmapQueueOf?(topic: string, queueId: number): ConsumeQueue | undefined;
}

export async function readMessages(
  store: ReadSource,
  q: ConsumeQueue,
  offset: number,
  maxMsgNums: number,
  maxTotalBytes: number,
  filter: MessageFilter | undefined,
): Promise<GetResult> {
  const min = q.minOffset;
  const max = q.maxOffset;
  const minB = BigInt(min);
  const maxB = BigInt(max);
  if (max === 0) return emptyGet(GetStatus.NO_MESSAGE_IN_QUEUE, 0n, minB, maxB);
  if (offset < min) return emptyGet(GetStatus.OFFSET_TOO_SMALL, minB, minB, maxB);
  if (offset === max) return emptyGet(GetStatus.OFFSET_OVERFLOW_ONE, BigInt(offset), minB, maxB);
  if (offset > max) return emptyGet(GetStatus.OFFSET_OVERFLOW_BADLY, min === 0 ? minB : maxB, minB, maxB);

  const want = Math.max(1, maxMsgNums);
  if (filter?.bitmap !== undefined && filter.isMatchedByProperties !== undefined) {
    const bq = store.bitmapQueueOf?.(q.topic, q.queueId);
    if (bq !== undefined)
      return readByBitmap(store, q, bq, offset, want, maxTotalBytes, filter, filter.bitmap, minB, maxB);
  }
  const scan = filter === undefined ? want : Math.max(want, filteredScanEntriesMax);
  const ahead = store.readAhead;
  const entries = await (ahead.takeEntries(q, offset, scan) ?? q.read(offset, scan));
  if (entries.length === 0) return emptyGet(GetStatus.OFFSET_FOUND_NULL, BigInt(offset + 1), minB, maxB);
  if (filter?.isMatchedByProperties !== undefined) {
    return readByProperties(store, entries, offset, want, maxTotalBytes, filter, minB, maxB);
  }

  const picked = pick(entries, 0, offset, want, maxTotalBytes, filter, store.commitLog.minOffset());
  const { phys, sizes, queueOffsets } = picked;
  let next = picked.next;
  const spanFirst = spansOf(phys, sizes, store.commitLog.segmentBytes);
  // All preads start at once: on a cold log they queue on the disk together instead of one after another.
  const reads: Promise<PinnedPieces | undefined>[] = [];
  for (let s = 0; s + 1 < spanFirst.length; s++) {
    const first = spanFirst[s] as number;
    const last = (spanFirst[s + 1] as number) - 1;
    const start = phys[first] as number;
    const len = (phys[last] as number) + (sizes[last] as number) - start;
    reads.push(store.commitLog.readPieces(start, len));
  }
  // A consumer reading cold bytes will want the next range soon: start reading it now.
  const firstPhy = phys[0];
  if (filter === undefined && firstPhy !== undefined && !store.commitLog.isHot(firstPhy) && next < max) {
    readAheadFrom(store, q, next, want);
  }
  const settled = await Promise.allSettled(reads);

  const out = new Collected();
  for (const r of settled) if (r.status === 'fulfilled' && r.value !== undefined) out.pin(r.value);
  for (let s = 0; s < settled.length; s++) {
    const r = settled[s] as PromiseSettledResult<PinnedPieces | undefined>;
    if (r.status === 'rejected') {
      out.release();
      throw r.reason;
    }
    const pieces = r.value?.pieces;
    const first = spanFirst[s] as number;
    const after = spanFirst[s + 1] as number;
    if (pieces === undefined) {
      // Not readable (deleted or cut under us): answer what was read; with nothing yet, skip past (as before).
      if (out.count > 0) {
        next = queueOffsets[first] as number;
        break;
      }
      continue;
    }
    const start = phys[first] as number;
    const checkCrc = start < store.writtenSinceStartFrom || !store.commitLog.isHot(start);
    // The span's bytes are consecutive pieces (block slices): find each record's piece, walking forward.
    let p = 0;
    let piece = pieces[0] as Buffer;
    let pieceStart = start;
    for (let k = first; k < after; k++) {
      const phy = phys[k] as number;
      const size = sizes[k] as number;
      while (phy >= pieceStart + piece.length) {
        pieceStart += piece.length;
        piece = pieces[++p] as Buffer;
      }
      let buf = piece;
      let at = phy - pieceStart;
      if (at + size > piece.length) {
        // A record across a block end: the one copy left.
        buf = joinedRecord(pieces, p, at, size);
        at = 0;
      }
      // Never serve a damaged record: skip it (the consumer moves past it) with a warning and a count.
      const fault = servedRecordFault(buf, at, size, queueOffsets[k] as number, checkCrc);
      if (fault !== undefined) {
        store.damage.refusedRead(phy, fault, () => store.segmentFileOf(phy));
        continue;
      }
      out.add(buf, at, size, queueOffsets[k] as number);
    }
  }
  let status: GetResult['status'] = GetStatus.FOUND;
  if (out.count === 0)
    status = picked.removed > 0 && phys.length === 0 ? GetStatus.MESSAGE_WAS_REMOVING : GetStatus.NO_MATCHED_MESSAGE;
  return out.result(status, BigInt(next), minB, maxB);
}

/** `size` bytes from `at` of `pieces[p]` on, through the pieces after it, in one buffer of their own. */
function joinedRecord(pieces: Buffer[], p: number, at: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let done = 0;
  for (let from = at; done < size; p++, from = 0) {
    const piece = pieces[p] as Buffer;
    done += piece.copy(out, done, from, Math.min(piece.length, from + size - done));
  }
  return out;
}

export interface Picked {
  phys: number[];
  sizes: number[];
  queueOffsets: number[];
  /** Queue offset after the last entry looked at. */
  next: number;
  /** Entries skipped because their CommitLog bytes were deleted. */
  removed: number;
  /** Every candidate matched by an exact bitmap verdict (read-bitmap.ts): served without judging its properties. */
  exact?: boolean;
}

/**
 * The entries a pull answers, from entry index `from` (parallel number arrays: no object or BigInt per
 * message). `offset` is the queue offset of entry 0.
 */
export function pick(
  entries: Buffer,
  from: number,
  offset: number,
  want: number,
  maxTotalBytes: number,
  filter: MessageFilter | undefined,
  minPhy: number,
): Picked {
  const out: Picked = { phys: [], sizes: [], queueOffsets: [], next: offset + from, removed: 0 };
  let bytes = 0;
  const count = entries.length / cqEntryBytes;
  for (let i = from; i < count; i++) {
    const at = i * cqEntryBytes;
    const size = entries.readInt32BE(at + 8);
    if (out.phys.length >= want || (out.phys.length > 0 && bytes + size > maxTotalBytes)) break;
    out.next = offset + i + 1;
    if (size === 0) continue;
    const phy = entries.readUInt32BE(at) * two32 + entries.readUInt32BE(at + 4);
    if (phy < minPhy) {
      out.removed++;
      continue;
    }
    if (filter !== undefined && !filter.isMatchedByTagsCode(entries.readBigInt64BE(at + 12))) continue;
    out.phys.push(phy);
    out.sizes.push(size);
    out.queueOffsets.push(offset + i);
    bytes += size;
  }
  return out;
}

/**
 * Spans to read: runs of records, joined across small gaps, never across a segment end. Returns the index of
 * each span's first record, then `phys.length`.
 */
export function spansOf(phys: number[], sizes: number[], segBytes: number): number[] {
  const spanFirst: number[] = [];
  for (let i = 0; i < phys.length; ) {
    const start = phys[i] as number;
    const seg = Math.floor(start / segBytes);
    let end = start + (sizes[i] as number);
    let j = i + 1;
    while (j < phys.length) {
      const p = phys[j] as number;
      const pEnd = p + (sizes[j] as number);
      if (p < end || p - end > readGapBytesMax || pEnd - start > readBytesMax) break;
      if (Math.floor(p / segBytes) !== seg) break;
      end = pEnd;
      j++;
    }
    spanFirst.push(i);
    i = j;
  }
  spanFirst.push(phys.length);
  return spanFirst;
}

/** Starts the ConsumeQueue read of the pull that would follow and caches it. */
function readAheadFrom(store: ReadSource, q: ConsumeQueue, offset: number, want: number) {
  const ahead = store.readAhead;
  if (ahead.has(q, offset) || !ahead.hasRoom(want * cqEntryBytes)) return;
  ahead.putEntries(q, offset, want, q.read(offset, want));
}

/** Records kept for a response: slices per contiguous run now, per-record views only when asked for. */
export class Collected {
  count = 0;
  total = 0;
  /** Sparse records are read into this buffer back to back (read-filtered.ts `collectNow`), up to `arenaEnd`. */
  arena: Buffer | undefined;
  arenaEnd = 0;
  /** Arenas of the shared size taken for this response: given back for reuse by `release`. */
  private pooled: Buffer[] | undefined;
  private readonly parts: Buffer[] = [];
  private readonly spans: Buffer[] = [];
  private readonly ats: number[] = [];
  private readonly sizes: number[] = [];
  private readonly queueOffsets: number[] = [];
  private runSpan: Buffer | undefined;
  private runStart = 0;
  private runEnd = 0;
  private readonly pins: { release(): void }[] = [];

  /** Keeps a read's bytes from reuse until `release`. */
  pin(p: { release(): void }): void {
    this.pins.push(p);
  }

  /**
   * Releases what the response's bytes lie in: pinned blocks, and arenas back to the free list (so only once the
   * response was written: `GetResult.release` is its `onWritten`). Safe to call more than once.
   */
  release(): void {
    for (const p of this.pins) p.release();
    this.pins.length = 0;
    const pooled = this.pooled;
    this.pooled = undefined;
    this.arena = undefined;
    if (pooled !== undefined) for (const b of pooled) giveArena(b);
  }

  /**
   * A new `arena` of at least `bytes`: one of the shared slab's (read-worker.ts; reused once the response was
   * written, so a stream of filtered pulls allocates none) when that is enough and one is free.
   */
  newArena(bytes: number): Buffer {
    let buf = bytes <= arenaBytes ? takeArena() : undefined;
    if (buf !== undefined) {
      if (this.pooled === undefined) this.pooled = [buf];
      else this.pooled.push(buf);
    } else buf = Buffer.allocUnsafe(bytes);
    this.arena = buf;
    this.arenaEnd = 0;
    return buf;
  }

  /** Makes `arena` (of the shared slab, already filled by a read ahead) this response's arena, given back by `release`. */
  adoptArena(arena: Buffer): void {
    if (this.pooled === undefined) this.pooled = [arena];
    else this.pooled.push(arena);
    this.arena = arena;
    this.arenaEnd = 0;
  }

  add(span: Buffer, at: number, size: number, queueOffset: number): void {
    if (span !== this.runSpan || at !== this.runEnd) {
      this.closeRun();
      this.runSpan = span;
      this.runStart = at;
    }
    this.runEnd = at + size;
    this.spans.push(span);
    this.ats.push(at);
    this.sizes.push(size);
    this.queueOffsets.push(queueOffset);
    this.count++;
    this.total += size;
  }

  result(status: GetResult['status'], next: bigint, minOffset: bigint, maxOffset: bigint): GetResult {
    this.closeRun();
    const self = this;
    let records: Buffer[] | undefined;
    let queueOffsets: bigint[] | undefined;
    return {
      status,
      nextBeginOffset: next,
      minOffset,
      maxOffset,
      get records(): Buffer[] {
        records ??= self.spans.map((s, k) =>
          s.subarray(self.ats[k], (self.ats[k] as number) + (self.sizes[k] as number)),
        );
        return records;
      },
      get queueOffsets(): bigint[] {
        queueOffsets ??= self.queueOffsets.map((o) => BigInt(o));
        return queueOffsets;
      },
      bufferTotalBytes: this.total,
      bodyParts: this.parts,
      recordCount: this.count,
      suggestPullingFromSlave: false,
      release: () => self.release(),
    };
  }

  private closeRun(): void {
    const span = this.runSpan;
    if (span === undefined) return;
    // A read of exactly the run (one record read on its own) is the part itself: no view to make.
    this.parts.push(
      this.runStart === 0 && this.runEnd === span.length ? span : span.subarray(this.runStart, this.runEnd),
    );
    this.runSpan = undefined;
  }
}
