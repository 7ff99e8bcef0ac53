/**
 * Reads for a filter that looks at properties (SQL92): unlike a tag filter, the ConsumeQueue cannot tell which
 * entries match, so candidates are read in chunks and judged on their property bytes until the pull has its
 * `maxMsgNums` matches, its byte budget, or the scanned entries run out (RocketMQ scans on in the same way), so a
 * selective filter still answers a full pull instead of one message per round trip. Each record is checked
 * (magic, size, queue offset; BODYCRC when cold) before the filter sees it.
 */
import { RecordPos } from '../common/record.js';
import type { Pinned } from './block-cache.js';
import { cqEntryBytes } from './consume-queue.js';
import { servedRecordFault } from './damage.js';
import type { FileIO } from './io.js';
import { SparseRead } from './log-reader.js';
import { Collected, type Picked, pick, type ReadSource, spansOf } from './read-path.js';
import { arenaBytes, jobSpansMax, ReadWorker, slotOf } from './read-worker.js';
import type { GetResult, MessageFilter } from './types.js';
import { GetStatus } from './types.js';

/** Candidates read per chunk: bounds one chunk's reads while a selective filter still fills a pull in few. */
export const candidateEntriesMax = 512;
export const candidateBytesMax = 1024 * 1024;

export type ByProperties = NonNullable<MessageFilter['isMatchedByProperties']>;

/** In place of the filter for candidates an exact bitmap verdict matched: their properties are not judged again. */
export const matchedByBitmap: ByProperties = () => true;

/** Hands the filter the properties bytes of the record at span[at] (after body and topic), undecoded. */
export function matchesProperties(byProperties: ByProperties, span: Buffer, at: number): boolean {
  const bodyLen = span.readInt32BE(at + RecordPos.bodyLength);
  const p = at + RecordPos.body + bodyLen;
  const propsAt = p + 1 + span.readUInt8(p);
  return byProperties(span, propsAt + 2, propsAt + 2 + span.readUInt16BE(propsAt));
}

export async function readByProperties(
  store: ReadSource,
  entries: Buffer,
  offset: number,
  want: number,
  maxTotalBytes: number,
  filter: MessageFilter,
  minOffset: bigint,
  maxOffset: bigint,
): Promise<GetResult> {
  const byProperties = filter.isMatchedByProperties as ByProperties;
  const count = entries.length / cqEntryBytes;
  const out = new Collected();
  let next = offset;
  let removed = 0;
  let candidates = 0;
  try {
    while (next - offset < count && out.count < want && out.total < maxTotalBytes) {
      const minPhy = store.commitLog.minOffset();
      const picked = pick(entries, next - offset, offset, candidateEntriesMax, candidateBytesMax, filter, minPhy);
      removed += picked.removed;
      candidates += picked.phys.length;
      let stoppedAt = collect(store, picked, out, byProperties, want, maxTotalBytes);
      if (stoppedAt instanceof Promise) stoppedAt = await stoppedAt;
      next = stoppedAt ?? picked.next;
      if (stoppedAt !== undefined) break;
    }
  } catch (err) {
    out.release();
    throw err;
  }
  return out.result(filteredStatus(out.count, removed, candidates), BigInt(next), minOffset, maxOffset);
}

/**
 * A filtered read's status: FOUND with something collected; else MESSAGE_WAS_REMOVING when every entry it met
 * pointed below the log's start (none was judged), NO_MATCHED_MESSAGE when entries were judged and none matched.
 */
export function filteredStatus(collected: number, removed: number, judged: number): GetResult['status'] {
  if (collected > 0) return GetStatus.FOUND;
  return removed > 0 && judged === 0 ? GetStatus.MESSAGE_WAS_REMOVING : GetStatus.NO_MATCHED_MESSAGE;
}

/** Every read's outcome once all are done (the failures as their Error), so none is left unpinned. */
async function settledValues(
  reads: Array<Pinned | undefined | Promise<Pinned | undefined>>,
): Promise<Array<Pinned | undefined>> {
  const settled = await Promise.allSettled(reads);
  const values: Array<Pinned | undefined> = [];
  let failure: unknown;
  for (const r of settled) {
    if (r.status === 'fulfilled') values.push(r.value);
    else failure ??= r.reason;
  }
  if (failure !== undefined) {
    for (const v of values) v?.release();
    throw failure;
  }
  return values;
}

/**
 * Reads one chunk of candidates and adds the matching ones; returns the queue offset to continue from when the
 * pull filled up (or a read failed after something was collected) before the chunk's end. `sparse` candidates
 * (far apart) are read in one job of the read worker (read-worker.ts) into the pull's arena, or else now where a
 * blocking pread is cheap, straight into one buffer (`collectNow`): then the answer is a value, not a promise, so
 * the caller need not wait a turn of the microtask queue for it.
 */
export function collect(
  store: ReadSource,
  picked: Picked,
  out: Collected,
  byProperties: ByProperties,
  want: number,
  maxTotalBytes: number,
  sparse = false,
): number | undefined | Promise<number | undefined> {
  const spanFirst = spansOf(picked.phys, picked.sizes, store.commitLog.segmentBytes);
  if (!sparse) return collectLater(store, picked, spanFirst, 0, out, byProperties, want, maxTotalBytes, false);
  const worker = ReadWorker.shared();
  if (worker !== undefined) {
    const job = collectInWorker(worker, store, picked, spanFirst, out, byProperties, want, maxTotalBytes);
    if (job !== undefined) return job;
  }
  return collectSparse(store, picked, spanFirst, out, byProperties, want, maxTotalBytes);
}

export function collectSparse(
  store: ReadSource,
  picked: Picked,
  spanFirst: number[],
  out: Collected,
  byProperties: ByProperties,
  want: number,
  maxTotalBytes: number,
): number | undefined | Promise<number | undefined> {
  const now = collectNow(store, picked, spanFirst, out, byProperties, want, maxTotalBytes);
  if (now.stoppedAt !== undefined || now.spans + 1 === spanFirst.length) return now.stoppedAt;
  return collectLater(store, picked, spanFirst, now.spans, out, byProperties, want, maxTotalBytes, true);
}

/** `collect` from span `from` on, each span read through `readPinned` (the thread pool or shared blocks). */
async function collectLater(
  store: ReadSource,
  picked: Picked,
  spanFirst: number[],
  from: number,
  out: Collected,
  byProperties: ByProperties,
  want: number,
  maxTotalBytes: number,
  sparse: boolean,
): Promise<number | undefined> {
  const { phys, sizes, queueOffsets } = picked;
  const reads: Array<Promise<Pinned | undefined>> = [];
  for (let s = from; s + 1 < spanFirst.length; s++) {
    const first = spanFirst[s] as number;
    const last = (spanFirst[s + 1] as number) - 1;
    const start = phys[first] as number;
    const len = (phys[last] as number) + (sizes[last] as number) - start;
    reads.push(store.commitLog.readPinned(start, len, sparse));
  }
  const values = await settledValues(reads);
  for (const v of values) if (v !== undefined) out.pin(v);
  for (let s = 0; s < values.length; s++) {
    const r = values[s] as Pinned | undefined;
    const span = r?.bytes;
    const first = spanFirst[from + s] as number;
    const after = spanFirst[from + s + 1] as number;
    if (span === undefined) {
      // Not readable (deleted or cut under us): answer what was read; with nothing yet, skip past.
      if (out.count > 0) return queueOffsets[first] as number;
      continue;
    }
    const start = phys[first] as number;
    const checkCrc = start < store.writtenSinceStartFrom || !store.commitLog.isHot(start);
    for (let k = first; k < after; k++) {
      const at = (phys[k] as number) - start;
      const size = sizes[k] as number;
      const queueOffset = queueOffsets[k] as number;
      if (!accepted(store, span, at, size, queueOffset, phys[k] as number, checkCrc, byProperties)) continue;
      if (out.count > 0 && out.total + size > maxTotalBytes) return queueOffset;
      out.add(span, at, size, queueOffset);
      if (out.count >= want) return queueOffset + 1;
    }
  }
  return undefined;
}

/** A chunk read into one buffer is at most this large; a larger one is read span by span as before. */
const oneBufferBytesMax = 256 * 1024;

/**
 * The sparse spans of a chunk read now, each with a blocking pread straight into one buffer for the chunk: a
 * record kept stays where it was read (moved down over the ones dropped before it), so the records of a pull are
 * one part with no copy and no buffer per record. Stops at the first span that must wait for the thread pool:
 * `spans` is how many were done, `stoppedAt` as `collect` returns it.
 */
function collectNow(
  store: ReadSource,
  picked: Picked,
  spanFirst: number[],
  out: Collected,
  byProperties: ByProperties,
  want: number,
  maxTotalBytes: number,
): { spans: number; stoppedAt: number | undefined } {
  const { phys, sizes, queueOffsets } = picked;
  const spans = spanFirst.length - 1;
  let bytes = 0;
  for (let s = 0; s < spans; s++) bytes += spanBytes(phys, sizes, spanFirst, s);
  if (bytes > oneBufferBytesMax || spans === 0) return { spans: 0, stoppedAt: undefined };
  const log = store.commitLog;
  // The pull's buffer goes on where the last chunk's records ended; a new one leaves room for the records the
  // pull may still want beyond this chunk's (a chunk ends at a ConsumeQueue file's end), one more for a reject.
  let buf = out.arena;
  let end = out.arenaEnd;
  if (buf === undefined || buf.length - end < bytes) {
    const more = Math.max(0, want - out.count - phys.length) + 1;
    buf = out.newArena(Math.min(oneBufferBytesMax, bytes + Math.ceil(bytes / phys.length) * more));
    end = 0;
  }
  try {
    for (let s = 0; s < spans; s++) {
      const first = spanFirst[s] as number;
      const after = spanFirst[s + 1] as number;
      const start = phys[first] as number;
      const got = log.readSparseInto(start, spanBytes(phys, sizes, spanFirst, s), buf, end);
      if (got === SparseRead.later) return { spans: s, stoppedAt: undefined };
      if (got === SparseRead.unreadable) {
        // Not readable (deleted or cut under us): answer what was read; with nothing yet, skip past.
        if (out.count > 0) return { spans: s, stoppedAt: queueOffsets[first] as number };
        continue;
      }
      const stoppedAt = keepSpan(store, picked, first, after, buf, end, out, byProperties, want, maxTotalBytes);
      end = out.arenaEnd;
      if (stoppedAt !== undefined) return { spans: s, stoppedAt };
    }
    return { spans, stoppedAt: undefined };
  } finally {
    out.arenaEnd = end;
    log.sparseReadsDone();
  }
}

/**
 * The records of one span read into `buf` at `spanAt`: each checked (a damaged one is skipped and counted) and
 * judged; a kept one is moved down to `out.arenaEnd` (over the ones dropped before it) and added. Returns the queue
 * offset to continue from when the pull filled up, else undefined.
 */
function keepSpan(
  store: ReadSource,
  picked: Picked,
  first: number,
  after: number,
  buf: Buffer,
  spanAt: number,
  out: Collected,
  byProperties: ByProperties,
  want: number,
  maxTotalBytes: number,
  checkCrc = crcWanted(store, picked.phys[first] as number),
): number | undefined {
  const { phys, sizes, queueOffsets } = picked;
  const start = phys[first] as number;
  let end = out.arenaEnd;
  try {
    for (let k = first; k < after; k++) {
      const at = spanAt + (phys[k] as number) - start;
      const size = sizes[k] as number;
      const queueOffset = queueOffsets[k] as number;
      if (!accepted(store, buf, at, size, queueOffset, phys[k] as number, checkCrc, byProperties)) continue;
      if (out.count > 0 && out.total + size > maxTotalBytes) return queueOffset;
      if (at !== end) buf.copyWithin(end, at, at + size);
      out.add(buf, end, size, queueOffset);
      end += size;
      if (out.count >= want) return queueOffset + 1;
    }
    return undefined;
  } finally {
    out.arenaEnd = end;
  }
}

/**
 * `collectSparse` as one job of the read worker: every span read into the pull's arena (one of the shared slab's)
 * at once, then checked and judged here as `collectNow` does. Undefined when the job cannot be made (too many
 * spans or bytes, no slab arena, sparse reads in the thread pool for now, a file without a descriptor to lease):
 * the caller reads them as before.
 */
function collectInWorker(
  worker: ReadWorker,
  store: ReadSource,
  picked: Picked,
  spanFirst: number[],
  out: Collected,
  byProperties: ByProperties,
  want: number,
  maxTotalBytes: number,
): Promise<number | undefined> | undefined {
  const { phys } = picked;
  const spans = spanFirst.length - 1;
  if (spans === 0 || spans > jobSpansMax || store.commitLog.sparse.sparseReadsAsync()) return undefined;
  const bytes = sparseBytes(picked, spanFirst);
  let buf = out.arena;
  if (buf === undefined || buf.length - out.arenaEnd < bytes) {
    if (bytes > arenaBytes) return undefined;
    const more = Math.max(0, want - out.count - phys.length) + 1;
    buf = out.newArena(Math.min(arenaBytes, bytes + Math.ceil(bytes / phys.length) * more));
  }
  const job = postSparseJob(worker, store, picked, spanFirst, buf, out.arenaEnd, true);
  if (job === undefined) return undefined;
  return job.then((done) => {
    // The worker failed before reading: read them here.
    if (!done) return collectSparse(store, picked, spanFirst, out, byProperties, want, maxTotalBytes);
    return keepJobSpans(worker, store, picked, spanFirst, buf, out.arenaEnd, out, byProperties, want, maxTotalBytes);
  });
}

/** Bytes of all the spans of `picked`. */
export function sparseBytes(picked: Picked, spanFirst: number[]): number {
  let bytes = 0;
  for (let s = 0; s + 1 < spanFirst.length; s++) bytes += spanBytes(picked.phys, picked.sizes, spanFirst, s);
  return bytes;
}

/**
 * Posts a job of the read worker for every span of `picked`, read into `buf` (an arena of the shared slab) back to
 * back from `at`; resolves true once read (false: the worker failed first). Undefined when it cannot be made (not
 * a slab arena, a file without a descriptor to lease). `timed`: a pull waits for it (see `ReadWorker.run`).
 */
export function postSparseJob(
  worker: ReadWorker,
  store: ReadSource,
  picked: Picked,
  spanFirst: number[],
  buf: Buffer,
  at: number,
  timed: boolean,
): Promise<boolean> | undefined {
  const { phys, sizes } = picked;
  const spans = spanFirst.length - 1;
  const slot = slotOf(buf);
  if (slot < 0) return undefined;
  const log = store.commitLog;
  const leased: FileIO[] = [];
  const segBytes = log.segmentBytes;
  for (let s = 0; s < spans; s++) {
    const start = phys[spanFirst[s] as number] as number;
    const len = spanBytes(phys, sizes, spanFirst, s);
    const fd = log.sparse.leaseSparse(start, len, leased);
    if (fd === SparseRead.later) {
      for (const f of leased) f.endLease?.();
      return undefined;
    }
    worker.setRead(slot, s, fd === SparseRead.unreadable ? -1 : fd, start % segBytes, len, at, crcWanted(store, start));
    at += len;
  }
  return worker.run(slot, spans, timed).then((done) => {
    for (const f of leased) f.endLease?.();
    // A read ahead (untimed) that took long stalled no pull: only a waited-for job may send reads to the pool.
    if (done && timed) log.sparse.sparseReadsTook(spans, worker.took(slot));
    return done;
  });
}

/**
 * The records of a done job (`postSparseJob`) of `buf` read from `spanAt`, checked and judged as `collectNow` does
 * (records the worker vouched for are not CRC-checked again); returns as `collect` does.
 */
export function keepJobSpans(
  worker: ReadWorker,
  store: ReadSource,
  picked: Picked,
  spanFirst: number[],
  buf: Buffer,
  spanAt: number,
  out: Collected,
  byProperties: ByProperties,
  want: number,
  maxTotalBytes: number,
): number | undefined {
  const { phys, sizes, queueOffsets } = picked;
  const slot = slotOf(buf);
  for (let s = 0; s + 1 < spanFirst.length; s++) {
    const first = spanFirst[s] as number;
    const len = spanBytes(phys, sizes, spanFirst, s);
    if (worker.bytesRead(slot, s) !== len) {
      // Not readable (deleted or cut under us): answer what was read; with nothing yet, skip past.
      if (out.count > 0) return queueOffsets[first] as number;
      spanAt += len;
      continue;
    }
    // Records whose BODYCRC the worker checked are not checked again here.
    const checkCrc = !worker.intactRead(slot, s) && crcWanted(store, phys[first] as number);
    const stoppedAt = keepSpan(
      store,
      picked,
      first,
      spanFirst[s + 1] as number,
      buf,
      spanAt,
      out,
      byProperties,
      want,
      maxTotalBytes,
      checkCrc,
    );
    if (stoppedAt !== undefined) return stoppedAt;
    spanAt += len;
  }
  return undefined;
}

/** BODYCRC is checked on cold reads and on records this process did not write (see `ReadSource`). */
function crcWanted(store: ReadSource, phy: number): boolean {
  return phy < store.writtenSinceStartFrom || !store.commitLog.isHot(phy);
}

function spanBytes(phys: number[], sizes: number[], spanFirst: number[], s: number): number {
  const last = (spanFirst[s + 1] as number) - 1;
  return (phys[last] as number) + (sizes[last] as number) - (phys[spanFirst[s] as number] as number);
}

/** Whether the record at `at` of `buf` is served: intact (a damaged one is reported and skipped) and matching. */
function accepted(
  store: ReadSource,
  buf: Buffer,
  at: number,
  size: number,
  queueOffset: number,
  phy: number,
  checkCrc: boolean,
  byProperties: ByProperties,
): boolean {
  const fault = servedRecordFault(buf, at, size, queueOffset, checkCrc);
  if (fault !== undefined) {
    store.damage.refusedRead(phy, fault, () => store.segmentFileOf(phy));
    return false;
  }
  return byProperties === matchedByBitmap || matchesProperties(byProperties, buf, at);
}
