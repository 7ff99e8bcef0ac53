/**
 * Reads for a SQL92 subscription with a filter bitmap (bitmap/bitmap-index.ts): the ConsumeQueue range and its
 * side queue are read together, and an entry the bitmap says this subscription did not match is skipped without
 * reading its record. Entries the bitmap cannot judge — written before the subscription was registered (below
 * its `bornPhyOffset`) or after it was replaced, not in step with the ConsumeQueue, or a "maybe" (a match, or
 * another group's bits) — are read and judged on their properties as without a bitmap: never a wrong delivery,
 * never a miss. Skipped entries cost no record read, so a pull scans up to `bitmapScanEntriesMax` entries and a
 * selective filter still answers a full pull.
 */
import { bloomHit } from './bitmap/bloom.js';
import type { ConsumeQueue } from './consume-queue.js';
import { cqEntryBytes } from './consume-queue.js';
import { type ByProperties, candidateBytesMax, candidateEntriesMax, collect } from './read-filtered.js';
import { Collected, type Picked, type ReadSource } from './read-path.js';
import type { BitmapProbe, GetResult, MessageFilter } from './types.js';
import { GetStatus } from './types.js';

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
  const out = new Collected();
  let next = offset;
  let removed = 0;
  let judged = 0;
  try {
    while (
      next < q.maxOffset &&
      next - offset < bitmapScanEntriesMax &&
      judged < judgedEntriesMax &&
      out.count < want &&
      out.total < maxTotalBytes
    ) {
      let n = Math.min(chunkEntries, offset + bitmapScanEntriesMax - next);
      // A chunk never straddles the start of the side queue: entries before it are all judged on their records.
      if (next < bq.minOffset) n = Math.min(n, bq.minOffset - next);
      const [entries, bits] = await Promise.all([q.read(next, n), bq.read(next, n)]);
      if (entries.length === 0) break;
      const minPhy = store.commitLog.minOffset();
      const picked = pickByBitmap(entries, bits, next, probe, minPhy, judgedEntriesMax - judged);
      removed += picked.removed;
      judged += picked.phys.length;
      const stoppedAt =
        picked.phys.length === 0 ? undefined : await collect(store, picked, out, byProperties, want, maxTotalBytes);
      next = stoppedAt ?? picked.next;
      if (stoppedAt !== undefined) break;
    }
  } catch (err) {
    out.release();
    throw err;
  }
  let status: GetResult['status'] = GetStatus.FOUND;
  if (out.count === 0) {
    status = removed > 0 && judged === 0 ? GetStatus.MESSAGE_WAS_REMOVING : GetStatus.NO_MATCHED_MESSAGE;
  }
  return out.result(status, BigInt(next), minOffset, maxOffset);
}

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
): Picked {
  const out: Picked = { phys: [], sizes: [], queueOffsets: [], next: offset, removed: 0 };
  const want = Math.min(judgedMax, candidateEntriesMax);
  const count = entries.length / cqEntryBytes;
  const bitCount = Math.floor(bits.length / cqEntryBytes);
  const born = probe.bornPhyOffset;
  const dead = probe.deadPhyOffset;
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const at = i * cqEntryBytes;
    const size = entries.readInt32BE(at + 8);
    if (out.phys.length >= want || (out.phys.length > 0 && bytes + size > candidateBytesMax)) break;
    out.next = offset + i + 1;
    if (size === 0) continue;
    const hi = entries.readUInt32BE(at);
    const lo = entries.readUInt32BE(at + 4);
    const phy = hi * two32 + lo;
    if (phy < minPhy) {
      out.removed++;
      continue;
    }
    // The bitmap's verdict counts only for an entry of the same record, computed while this filter was registered.
    if (
      i < bitCount &&
      phy >= born &&
      phy < dead &&
      bits.readUInt32BE(at) === hi &&
      bits.readUInt32BE(at + 4) === lo &&
      bits.readInt32BE(at + 8) === size &&
      !bloomHit(bits.readUInt32BE(at + 12), bits.readUInt32BE(at + 16), probe)
    ) {
      continue;
    }
    out.phys.push(phy);
    out.sizes.push(size);
    out.queueOffsets.push(offset + i);
    bytes += size;
  }
  return out;
}
