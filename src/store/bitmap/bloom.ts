/**
 * The bloom bits of a SQL92 subscription in a filter bitmap entry (RocketMQ's BloomFilter over `group#topic`):
 * each (group, topic) owns `bloomHashes` of the entry's 64 bits; an entry whose bits do not all hold them did not
 * match that subscription. Other groups' matches may set the same bits (a false "maybe", judged on the record).
 */

/** Bits of a bitmap entry (the ConsumeQueue tag-hash field of the side queue). */
export const bloomBits = 64;
/** Bits per subscription: with 64 bits, 3 keep the false "maybe" under 1 % for up to 5 matching groups. */
export const bloomHashes = 3;

export interface BloomMask {
  /** The high and low 32 bits of the mask, as the read path tests them on the entry's bytes. */
  readonly maskHi: number;
  readonly maskLo: number;
  /** The same mask as the entry's 64-bit value (what the dispatcher ORs together). */
  readonly mask: bigint;
}

/** The bits of `group#topic` (FNV-1a and a second mixed hash, double hashing as RocketMQ's BloomFilter). */
export function bloomMaskOf(group: string, topic: string): BloomMask {
  const key = Buffer.from(`${group}#${topic}`, 'utf8');
  let h1 = 0x811c9dc5;
  for (const b of key) h1 = Math.imul(h1 ^ b, 0x01000193) >>> 0;
  let h2 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b) >>> 0;
  h2 = (Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35) ^ (h2 >>> 16)) >>> 0;
  let hi = 0;
  let lo = 0;
  for (let i = 0, set = 0; set < bloomHashes && i < 64; i++) {
    const bit = (h1 + i * (h2 | 1)) % bloomBits;
    const isHi = bit >= 32;
    const m = (1 << (bit % 32)) >>> 0;
    const cur = isHi ? hi : lo;
    if ((cur & m) !== 0) continue; // distinct positions
    if (isHi) hi = (hi | m) >>> 0;
    else lo = (lo | m) >>> 0;
    set++;
  }
  return { maskHi: hi, maskLo: lo, mask: BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)) };
}

/** True when the entry's bits (high and low words) hold every bit of the mask: "maybe matched". */
export function bloomHit(entryHi: number, entryLo: number, m: Pick<BloomMask, 'maskHi' | 'maskLo'>): boolean {
  return (entryHi & m.maskHi) >>> 0 === m.maskHi && (entryLo & m.maskLo) >>> 0 === m.maskLo;
}
