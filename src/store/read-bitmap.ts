/**
 * Reads for a SQL92 subscription with a filter bitmap (bitmap/bitmap-index.ts): the ConsumeQueue range and its
 * side queue are read together, and an entry the bitmap says this subscription did not match is skipped without
 * reading its record. Entries the bitmap cannot judge — written before the subscription was registered (below
 * its `bornPhyOffset`) or after it was replaced, not in step with the ConsumeQueue, or a "maybe" (a match, or
 * another group's bits) — are read and judged on their properties as without a bitmap: never a wrong delivery,
 * never a miss. Skipped entries cost no record read, so a pull scans up to `bitmapScanEntriesMax` entries and a
 * selective filter still answers a full pull. Where the subscription's verdict is exact (bitmap/filters.ts: its
 * mask has a bit no other filter of the topic sets), a pick whose candidates all hold its mask in step with the
 * ConsumeQueue is served without judging their properties again (`Picked.exact`).
 */
import { bloomHit } from './bitmap/bloom.js';
import type { ConsumeQueue } from './consume-queue.js';
import { cqEntryBytes } from './consume-queue.js';
import { type Ahead, afterFull, aheadStats, drop, readAhead, takeAhead } from './read-bitmap-ahead.js';
import {
  type ByProperties,
  candidateBytesMax,
  candidateEntriesMax,
  collect,
  collectSparse,
  filteredStatus,
  keepJobSpans,
  matchedByBitmap,
} from './read-filtered.js';
import { Collected, type Picked, type ReadSource } from './read-path.js';
import { Settled, slotOf } from './read-worker.js';
import type { BitmapProbe, GetResult, MessageFilter } from './types.js';

/** Entries looked at per pull (36 bytes each of ConsumeQueue and bitmap): 0.1 %-selective pulls still fill up. */
export const bitmapScanEntriesMax = 32_768;
/** Entries read per turn of the scan. */
const chunkEntries = 4096;
/** Records judged on their properties per pull where the bitmap had no verdict (as a pull without a bitmap). */
const judgedEntriesMax = 2048;
const two32 = 2 ** 32;

export async function readByBitmap(
  store: ReadSource,
  q: ConsumeQueue,
  bq: ConsumeQueue,
  offset: number,
  want: number,
  maxTotalBytes: number,
  filter: MessageFilter,
  probe: BitmapProbe,
  minOffset: bigint,
  maxOffset: bigint,
): Promise<GetResult> {
  const byProperties = filter.isMatchedByProperties as ByProperties;
  const judge = (p: Picked): ByProperties => (p.exact === true ? matchedByBitmap : byProperties);
  const m0 = nativeWord(probe.maskHi);
  const m1 = nativeWord(probe.maskLo);
  const out = new Collected();
  let next = offset;
  let removed = 0;
  let judged = 0;
  let filled = false;
  const pickNext = (from: number, spanned: number | undefined) =>
    firstPick(store, bq, from, want, probe, m0, m1, spanned);
  try {
    const ahead = takeAhead(q, probe, offset, want, store.commitLog.minOffset());
    if (ahead !== undefined) {
      if (ahead.worker.takeBack(slotOf(ahead.arena))) {
        // The worker has not begun it (no core for it yet): reading the picks here beats waiting for it.
        drop(ahead);
        aheadStats.takenBack++;
        const p = ahead.picked;
        removed += p.removed;
        judged += p.phys.length;
        let stoppedAt = collectSparse(store, p, ahead.spanFirst, out, judge(p), want, maxTotalBytes);
        if (stoppedAt instanceof Promise) stoppedAt = await stoppedAt;
        next = stoppedAt ?? p.next;
        filled = stoppedAt !== undefined;
      } else if (await settledAhead(ahead)) {
        const p = ahead.picked;
        out.adoptArena(ahead.arena);
        removed += p.removed;
        judged += p.phys.length;
        const stoppedAt = keepJobSpans(
          ahead.worker,
          store,
          p,
          ahead.spanFirst,
          ahead.arena,
          0,
          out,
          judge(p),
          want,
          maxTotalBytes,
        );
        next = stoppedAt ?? p.next;
        filled = stoppedAt !== undefined;
      } else drop(ahead);
    }
    while (
      !filled &&
      next < q.maxOffset &&
      next - offset < bitmapScanEntriesMax &&
      judged < judgedEntriesMax &&
      out.count < want &&
      out.total < maxTotalBytes
    ) {
      const minPhy = store.commitLog.minOffset();
      // The subscription's listed matches when they cover `next`, else a chunk of the side queue scanned.
      let picked = listedPick(probe, bq, next, Math.min(judgedEntriesMax - judged, want - out.count), minPhy);
      let withBits = picked !== undefined;
      if (picked === undefined) {
        const n = Math.min(chunkEntries, offset + bitmapScanEntriesMax - next);
        const now = chunkNow(bq, next, n);
        const { entries, bits } = now === undefined ? await chunkLater(q, bq, next, n) : { entries: now, bits: now };
        if (entries.length === 0) break;
        // With bits, as many candidates as matches still wanted (with one group's bits each of them matches);
        // without (before the side queue), chunks of candidates as a pull without a bitmap reads them.
        const candidatesMax = bits.length === 0 ? judgedEntriesMax - judged : want - out.count;
        picked = pickByBitmap(
          entries,
          bits,
          next,
          probe,
          minPhy,
          Math.min(judgedEntriesMax - judged, candidatesMax),
          m0,
          m1,
        );
        withBits = bits.length > 0;
      } else if (picked.next === next && picked.phys.length === 0) break;
      removed += picked.removed;
      judged += picked.phys.length;
      const first = ahead === undefined && out.count === 0 && next === offset && withBits;
      let stoppedAt =
        picked.phys.length === 0
          ? undefined
          : collect(store, picked, out, judge(picked), want, maxTotalBytes, sparse(picked));
      // A pull with nothing read ahead for it (a stream's first, or after a reset or a miss) whose first chunk's
      // candidates (with bits: as many as it wants) fill it: its successors are read ahead now, posted after its own
      // job (one wake of the worker for all), so that the next pull finds its records read instead of the worker not
      // yet begun.
      if (first) {
        const from = afterFull(picked, want);
        if (from !== undefined) readAhead(store, q, probe, from, want, pickNext, from - offset);
      }
      if (stoppedAt instanceof Promise) stoppedAt = await stoppedAt;
      next = stoppedAt ?? picked.next;
      if (stoppedAt !== undefined) break;
    }
  } catch (err) {
    out.release();
    throw err;
  }
  // A pull that filled up: its consumer's next pull starts at `next`; read its records ahead in the worker (those
  // posted by its first chunk already, when it ended where they begin).
  if (out.count >= want) readAhead(store, q, probe, next, want, pickNext, next - offset);
  const r = out.result(filteredStatus(out.count, removed, judged), BigInt(next), minOffset, maxOffset);
  // Records far apart are one part each: joined, one copy costs less than a socket write per part.
  const parts = r.bodyParts;
  if (parts !== undefined && parts.length >= joinPartsMin && r.bufferTotalBytes <= joinBytesMax) {
    r.bodyParts = [Buffer.concat(parts as Buffer[], r.bufferTotalBytes)];
  }
  return r;
}

/**
 * A taken read ahead's job, settled at once when the worker has done it (its done ring is looked at now rather than
 * after its message, which the event loop may get to only after other pulls); counts whether the pull had to wait.
 */
function settledAhead(ahead: Ahead): Promise<boolean> {
  const settled = ahead.worker.poll(slotOf(ahead.arena));
  if (settled !== Settled.not) {
    if (settled === Settled.now) aheadStats.polled++;
    else aheadStats.ready++;
    return ahead.job;
  }
  const t0 = performance.now();
  return ahead.job.then((done) => {
    aheadStats.waited++;
    aheadStats.waitedMs += performance.now() - t0;
    return done;
  });
}

/**
 * The candidates a pull of `want` from `from` picks in its first chunk when the side queue's entries can be read
 * now (as `readByBitmap`'s loop picks them, with the bits); undefined otherwise, or when they are not sparse.
 * `spanned`: entries the stream's last full pick spanned. The chunk is then read in parts: about as many entries as
 * that (an eighth and 64 more), then, only when a part runs out before the pull's candidates do, as many more as
 * the candidates still wanted took so far (a quarter and 64 more), up to the chunk. A 1 % filter's pull of 32 spans
 * ~3,200 of the chunk's 4,096 entries (80 KiB, read at ~0.15 µs per KiB), a 10 % filter's ~320.
 */
function firstPick(
  store: ReadSource,
  bq: ConsumeQueue,
  from: number,
  want: number,
  probe: BitmapProbe,
  m0: number,
  m1: number,
  spanned?: number,
): Picked | undefined {
  const chunk = Math.min(chunkEntries, bitmapScanEntriesMax);
  const minPhy = store.commitLog.minOffset();
  const wanted = Math.min(judgedEntriesMax, want);
  const listed = listedPick(probe, bq, from, wanted, minPhy);
  if (listed !== undefined) return listed.phys.length > 0 && sparse(listed) ? listed : undefined;
  let part = spanned === undefined ? chunk : Math.min(chunk, spanned + (spanned >> 3) + 64);
  let at = from;
  let picked: Picked | undefined;
  for (;;) {
    const bits = chunkNow(bq, at, part);
    if (bits === undefined) break;
    const read = bits.length / cqEntryBytes;
    const p = pickByBitmap(bits, bits, at, probe, minPhy, wanted - (picked?.phys.length ?? 0), m0, m1);
    if (picked === undefined) picked = p;
    else {
      if (p.phys.length > 0) picked.exact = (picked.phys.length === 0 || picked.exact === true) && p.exact === true;
      for (let k = 0; k < p.phys.length; k++) {
        picked.phys.push(p.phys[k] as number);
        picked.sizes.push(p.sizes[k] as number);
        picked.queueOffsets.push(p.queueOffsets[k] as number);
      }
      picked.removed += p.removed;
      picked.next = p.next;
    }
    const done = at + read - from;
    const have = picked.phys.length;
    // On only when every entry read was looked at (not a file's end, a blank or the byte limit) and more are wanted.
    if (read !== part || p.next !== at + read || have >= wanted || done >= chunk) break;
    at += read;
    part = Math.min(chunk - done, Math.ceil(((wanted - have) * done * 1.25) / Math.max(have, 1)) + 64);
  }
  return picked !== undefined && sparse(picked) ? picked : undefined;
}

/**
 * The candidates of a pull of `want` from `from` taken from the subscription's listed matches (match-lists.ts),
 * undefined when it keeps none in step with `bq` covering `from`; exact only within its exact window.
 */
function listedPick(
  probe: BitmapProbe,
  bq: ConsumeQueue,
  from: number,
  want: number,
  minPhy: number,
): Picked | undefined {
  const p = probe.matchesIn?.(bq, from)?.pick(from, want, minPhy, candidateBytesMax);
  const n = p?.phys.length ?? 0;
  if (p === undefined || n === 0) return p;
  const first = p.phys[0] as number;
  const last = p.phys[n - 1] as number;
  // Listed while the filter was registered: always inside its life; anything else is read as without a list.
  if (first < probe.bornPhyOffset || last >= probe.deadPhyOffset) return undefined;
  if (p.exact === true) p.exact = inExactWindow(probe, first, last);
  return p;
}

/** Whether records from log offset `first` to `last` lie in the subscription's exact window (bitmap/filters.ts). */
function inExactWindow(probe: BitmapProbe, first: number, last: number): boolean {
  return (
    first >= (probe.exactFromPhy ?? Number.POSITIVE_INFINITY) &&
    last < (probe.exactBelowPhy ?? Number.NEGATIVE_INFINITY)
  );
}

const joinPartsMin = 4;
const joinBytesMax = 64 * 1024;

/**
 * Up to `n` entries from `next`. Where the side queue covers them its entries alone are read (they carry the
 * ConsumeQueue's offset and size; a record read is checked against its queue offset before it is served), with a
 * blocking pread near its tail, where it is in the page cache, into a scratch buffer the caller uses before its
 * next await; before it, ConsumeQueue entries without bits. A chunk never straddles the start of the side queue.
 */
function chunkNow(bq: ConsumeQueue, next: number, n: number): Buffer | undefined {
  if (next < bq.minOffset || next >= bq.maxOffset || next < bq.maxOffset - recentEntriesMax) return undefined;
  const bits = bq.readNow(next, n, scratch);
  return bits === undefined || blankFirst(bits) ? undefined : bits;
}

async function chunkLater(q: ConsumeQueue, bq: ConsumeQueue, next: number, n: number) {
  if (next < bq.minOffset || next >= bq.maxOffset) {
    const count = next < bq.minOffset ? Math.min(n, bq.minOffset - next) : n;
    return { entries: await q.read(next, count), bits: noBits };
  }
  const bits = await bq.read(next, n);
  if (!blankFirst(bits)) return { entries: bits, bits };
  // A blank side entry (before the first entry of a side queue that began mid-file, or a gap filled by replay)
  // says nothing about the ConsumeQueue's: this chunk is judged against the ConsumeQueue's own entries.
  return { entries: await q.read(next, Math.max(1, bits.length / cqEntryBytes)), bits };
}

function blankFirst(bits: Buffer): boolean {
  return bits.length >= cqEntryBytes && bits.readInt32BE(8) === 0;
}

const noBits = Buffer.alloc(0);
/** Blocking side-queue reads land here: one chunk, used up before the pull's next await. */
const scratch = Buffer.alloc(chunkEntries * cqEntryBytes);
const scratchView = new Uint32Array(scratch.buffer, scratch.byteOffset, scratch.length / 4);
const scratchWords = { e: scratchView, b: scratchView };
/** Side-queue entries this close to its tail are read blocking (80 MiB: written recently, in the page cache). */
const recentEntriesMax = 4 * 1024 * 1024;

/**
 * The entries of `entries` (ConsumeQueue bytes from queue offset `offset`) whose records must be read: those the
 * bitmap (`bits`, the side queue from the same offset, maybe shorter) does not rule out. Stops after
 * `judgedMax` candidates or `candidateBytesMax` of them.
 */
export function pickByBitmap(
  entries: Buffer,
  bits: Buffer,
  offset: number,
  probe: BitmapProbe,
  minPhy: number,
  judgedMax: number,
  m0 = nativeWord(probe.maskHi),
  m1 = nativeWord(probe.maskLo),
): Picked {
  const out: Picked = { phys: [], sizes: [], queueOffsets: [], next: offset, removed: 0 };
  const want = Math.min(judgedMax, candidateEntriesMax);
  const count = entries.length / cqEntryBytes;
  const bitCount = Math.min(count, Math.floor(bits.length / cqEntryBytes));
  // Entries the bitmap may rule out: the leading ones both queues hold, when every record of them lies where the
  // filter's bits count (queue order is log order, so the first and last decide).
  let judgedBy = 0;
  // Of those, whether a candidate holding the mask matched for sure (the subscription's exact window covers them).
  let exactWindow = false;
  if (bitCount > 0 && minPhy <= phyAt(entries, 0)) {
    const first = phyAt(entries, 0);
    const last = phyAt(entries, (bitCount - 1) * cqEntryBytes);
    if (first >= probe.bornPhyOffset && last < probe.deadPhyOffset) judgedBy = bitCount;
    exactWindow = judgedBy > 0 && inExactWindow(probe, first, last);
  }
  const words = judgedBy > 0 ? wordsOf(entries, bits, judgedBy) : undefined;
  let exact = exactWindow;
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    if (words !== undefined && i < judgedBy) {
      const j =
        entries === bits
          ? skipMissed(words.e, i, judgedBy, m0, m1)
          : skipRuledOut(words.e, words.b, i, judgedBy, m0, m1);
      if (j > i) {
        out.next = offset + j;
        i = j - 1;
        continue;
      }
    }
    const at = i * cqEntryBytes;
    const size = entries.readInt32BE(at + 8);
    if (out.phys.length >= want || (out.phys.length > 0 && bytes + size > candidateBytesMax)) break;
    // A blank side entry read alone: the next chunk starts there and reads the ConsumeQueue's entry (chunkLater).
    if (size === 0 && entries === bits && i > 0) break;
    out.next = offset + i + 1;
    if (size === 0) continue;
    const phy = phyAt(entries, at);
    if (phy < minPhy) {
      out.removed++;
      continue;
    }
    if (words === undefined && i < bitCount && ruledOut(entries, bits, at, phy, probe)) continue;
    if (exact && (words === undefined || i >= judgedBy || !exactHit(words, i, entries === bits, m0, m1))) exact = false;
    out.phys.push(phy);
    out.sizes.push(size);
    out.queueOffsets.push(offset + i);
    bytes += size;
  }
  if (out.phys.length > 0) out.exact = exact;
  return out;
}

/**
 * Whether entry `i` holds the mask `m0 m1` in step with its ConsumeQueue entry (side-queue entries read alone are
 * their own) and is not `maybeAll` (filters not evaluated): in an exact window, a sure match.
 */
function exactHit(words: { e: Uint32Array; b: Uint32Array }, i: number, alone: boolean, m0: number, m1: number) {
  const { e, b } = words;
  const w = i * 5;
  const hi = b[w + 3] as number;
  const lo = b[w + 4] as number;
  if ((hi & m0) !== m0 || (lo & m1) !== m1 || (hi === allOnes && lo === allOnes)) return false;
  return alone || (b[w] === e[w] && b[w + 1] === e[w + 1] && b[w + 2] === e[w + 2] && e[w + 2] !== 0);
}

const allOnes = 0xffffffff;

/** `skipRuledOut` over side-queue entries read alone (they are their own ConsumeQueue entries). */
function skipMissed(b: Uint32Array, from: number, to: number, m0: number, m1: number): number {
  for (let i = from, w = from * 5; i < to; i++, w += 5) {
    if (b[w + 2] === 0 || (((b[w + 3] as number) & m0) === m0 && ((b[w + 4] as number) & m1) === m1)) return i;
  }
  return to;
}

/**
 * Word-wise, in the bytes' own order: the first entry in [from, to) the bitmap does not rule out (a blank, another
 * record than the ConsumeQueue's, or bits that hold the mask `m0 m1`, given as signed 32-bit ints as `&` gives).
 */
function skipRuledOut(e: Uint32Array, b: Uint32Array, from: number, to: number, m0: number, m1: number): number {
  for (let i = from, w = from * 5; i < to; i++, w += 5) {
    const size = e[w + 2] as number;
    if (
      size === 0 ||
      b[w] !== e[w] ||
      b[w + 1] !== e[w + 1] ||
      b[w + 2] !== size ||
      (((b[w + 3] as number) & m0) === m0 && ((b[w + 4] as number) & m1) === m1)
    ) {
      return i;
    }
  }
  return to;
}

/** Candidates far apart (a selective filter): read each, not the shared blocks that span the gaps between them. */
function sparse(picked: Picked): boolean {
  const n = picked.phys.length;
  if (n < 2) return true;
  const span = (picked.phys[n - 1] as number) - (picked.phys[0] as number);
  let bytes = 0;
  for (const s of picked.sizes) bytes += s;
  return bytes * 4 < span;
}

function phyAt(entries: Buffer, at: number): number {
  return entries.readUInt32BE(at) * two32 + entries.readUInt32BE(at + 4);
}

/** The entry-by-entry check (entries the word-wise pass does not cover). */
function ruledOut(entries: Buffer, bits: Buffer, at: number, phy: number, probe: BitmapProbe): boolean {
  return (
    phy >= probe.bornPhyOffset &&
    phy < probe.deadPhyOffset &&
    bits.readUInt32BE(at) === entries.readUInt32BE(at) &&
    bits.readUInt32BE(at + 4) === entries.readUInt32BE(at + 4) &&
    bits.readInt32BE(at + 8) === entries.readInt32BE(at + 8) &&
    !bloomHit(bits.readUInt32BE(at + 12), bits.readUInt32BE(at + 16), probe)
  );
}

/** 32-bit views of both buffers (20-byte entries are 5 words), copied when a buffer is not 4-byte aligned. */
function wordsOf(entries: Buffer, bits: Buffer, n: number): { e: Uint32Array; b: Uint32Array } {
  // Side-queue entries read alone into the scratch buffer: its view is made once.
  if (entries === bits && entries.buffer === scratch.buffer && entries.byteOffset === scratch.byteOffset) {
    return scratchWords;
  }
  const view = (buf: Buffer) => {
    const src = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf.subarray(0, n * cqEntryBytes));
    return new Uint32Array(src.buffer, src.byteOffset, n * 5);
  };
  return { e: view(entries), b: view(bits) };
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A mask word (stored big-endian) as a Uint32Array over the stored bytes reads it, as a signed int as `&` gives. */
function nativeWord(bigEndian: number): number {
  const w = bigEndian | 0;
  if (!littleEndian) return w;
  return (w >>> 24) | ((w >>> 8) & 0xff00) | ((w & 0xff00) << 8) | (w << 24) | 0;
}
