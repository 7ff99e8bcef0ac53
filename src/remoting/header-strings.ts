/**
 * The strings of a binary header's extFields, read with fewer native calls: a Buffer#toString per key and value
 * was most of a header's decode (3.7 µs for a send answer's 7 fields; 1.3 µs this way). Keys repeat from one
 * header to the next, so a short ASCII key is looked up by its bytes in a small table of keys seen before; a short
 * ASCII value (numbers, flags, names) is built by a char loop. Anything else is decoded as UTF-8, as before: the
 * strings are the same either way.
 */

/** Slots of the key table (a power of two); a key whose slot holds another key replaces it. */
const keySlots = 256;
/** Longest key kept in the table. */
const keyCharsMax = 32;
/** Longest value built by the char loop; longer ones cost less through one native call. */
const valueLoopCharsMax = 24;

const keyBytesBySlot: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(keySlots).fill(undefined);
const keyBySlot: string[] = new Array<string>(keySlots).fill('');

/** The key of `n` bytes at `at` of `b`. */
export function readHeaderKey(b: Buffer, at: number, n: number): string {
  if (n === 0 || n > keyCharsMax) return b.toString('utf8', at, at + n);
  const slot = (n * 31 + b[at]! * 7 + b[at + (n >> 1)]! * 3 + b[at + n - 1]!) & (keySlots - 1);
  const known = keyBytesBySlot[slot];
  if (known !== undefined && known.length === n) {
    let i = 0;
    while (i < n && known[i] === b[at + i]) i++;
    if (i === n) return keyBySlot[slot]!;
  }
  for (let i = 0; i < n; i++) if (b[at + i]! >= 0x80) return b.toString('utf8', at, at + n);
  const key = b.toString('latin1', at, at + n);
  // A copy: `b` is a view of a frame the socket's reader may reuse.
  keyBytesBySlot[slot] = Uint8Array.prototype.slice.call(b, at, at + n);
  keyBySlot[slot] = key;
  return key;
}

/** Slots of the value table (a power of two). */
const valueSlots = 512;
/** Each slot's bytes (valueLoopCharsMax apiece), length (−1 = empty) and string. */
const valueBytesBySlot = new Uint8Array(valueSlots * valueLoopCharsMax);
const valueLengthBySlot = new Int16Array(valueSlots).fill(-1);
const valueBySlot: string[] = new Array<string>(valueSlots).fill('');

/**
 * The value of `n` bytes at `at` of `b`. A short ASCII value is looked up by its bytes in a table of values seen
 * before (a send header's group, topic, flags and counts repeat from one request to the next): a hit makes no string.
 * A miss decodes it with one call and keeps its bytes (in a flat table: no allocation) and string in its slot. Building
 * it by a char loop made a string per char (~1.5 KB of garbage per send header).
 */
export function readHeaderValue(b: Buffer, at: number, n: number): string {
  if (n === 0) return '';
  if (n > valueLoopCharsMax) return b.toString('utf8', at, at + n);
  let h = n;
  let high = 0;
  for (let i = 0; i < n; i++) {
    const c = b[at + i]!;
    high |= c;
    h = (Math.imul(h, 31) + c) | 0;
  }
  // Multi-byte (or malformed) UTF-8: the whole value the usual way.
  if (high >= 0x80) return b.toString('utf8', at, at + n);
  const slot = (h ^ (h >>> 9)) & (valueSlots - 1);
  const base = slot * valueLoopCharsMax;
  if (valueLengthBySlot[slot] === n) {
    let i = 0;
    while (i < n && valueBytesBySlot[base + i] === b[at + i]) i++;
    if (i === n) return valueBySlot[slot]!;
  }
  const value = b.toString('latin1', at, at + n);
  for (let i = 0; i < n; i++) valueBytesBySlot[base + i] = b[at + i]!;
  valueLengthBySlot[slot] = n;
  valueBySlot[slot] = value;
  return value;
}
