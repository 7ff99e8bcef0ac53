/**
 * The half records a turn's END_TRANSACTIONs name, read as bytes: in CommitLog order, one blocking read of the
 * log's recent bytes (MessageStore.readLogNow) for each run of nearby records — a producer's halves were stored
 * together moments ago, so one read covers a whole batch of them.
 */
import { type HalfRecord, halfRecordAt } from './half-record.js';

/** Most CommitLog bytes one read covers, and the room left for the last record's size. */
const halfReadBytesMax = 256 * 1024;
const halfRecordGuessBytes = 4096;
/** A record longer than this is read the checked async way (a bogus offset may name any length). */
const halfRecordBytesMax = 8 * 1024 * 1024;

export interface NamedHalf {
  readonly h: { readonly commitLogOffset: bigint };
}

/**
 * Reads the half of each of `named` (any order): `found` gets each one read (a HalfRecord, or the remark why the
 * record there is no half message). Returns those not read now (cold bytes, damage, out of range).
 */
export function readHalvesNow<T extends NamedHalf>(
  named: readonly T[],
  readNow: (offset: number, len: number) => Buffer | undefined,
  found: (e: T, half: HalfRecord | string) => void,
): T[] {
  const later: T[] = [];
  const sorted = named.length > 1 ? [...named].sort((x, y) => cmp(x.h.commitLogOffset, y.h.commitLogOffset)) : named;
  let buf: Buffer | undefined;
  let from = 0;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i] as T;
    const offset = e.h.commitLogOffset;
    if (offset < 0n || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
      later.push(e);
      continue;
    }
    const at = Number(offset);
    let pos = at - from;
    if (buf === undefined || pos < 0 || pos + 8 > buf.length || pos + buf.readInt32BE(pos) > buf.length) {
      buf = readNow(at, spanFrom(sorted, i, at));
      from = at;
      pos = 0;
      // A record longer than the guess: read again, as long as it is.
      const size = buf !== undefined && buf.length >= 8 ? buf.readInt32BE(0) : 0;
      if (size > (buf?.length ?? 0)) buf = size <= halfRecordBytesMax ? readNow(at, size) : undefined;
    }
    const rec = buf === undefined ? undefined : halfRecordAt(buf, pos, offset);
    if (rec === undefined) later.push(e);
    else found(e, rec);
  }
  return later;
}

/** Bytes from `at` up to the last of the next halves within halfReadBytesMax, with room for its record. */
function spanFrom(sorted: readonly NamedHalf[], i: number, at: number): number {
  let last = at;
  for (let k = i + 1; k < sorted.length; k++) {
    const o = Number((sorted[k] as NamedHalf).h.commitLogOffset);
    if (o - at + halfRecordGuessBytes > halfReadBytesMax) break;
    last = o;
  }
  return last - at + halfRecordGuessBytes;
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
