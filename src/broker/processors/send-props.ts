/**
 * The properties the send path needs (TAGS for the tag hash, KEYS and UNIQ_KEY for the index, TRAN_MSG and
 * REPLY_TO_CLIENT for the put hooks), read from
 * the encoded `key\u0001value\u0002…` string without building a Map. Same rules as decodeProperties: a later
 * duplicate wins, malformed pairs are skipped.
 */
import { javaStringHashCode } from '../../common/hash.js';
import {
  nameSeparator,
  nameSeparatorCode,
  Prop,
  propertySeparator,
  propertySeparatorCode,
  scheduledPropNames,
} from '../../common/properties.js';

export interface SendProps {
  tags: string | undefined;
  keys: string | undefined;
  uniqKey: string | undefined;
  /** Set only when present (rare: half messages), so the common case keeps one object shape. */
  tranMsg?: string;
  /** Set only when REPLY_TO_CLIENT is present (a request of request-reply): the broker adds CLUSTER to it. */
  replyTo?: true;
  /** Set only when DELAY or a timer property (TIMER_*, __STARTDELIVERTIME) is present: the delay and timer hooks read them. */
  scheduled?: true;
  /**
   * `sendPropsOfItem` only: an ASCII UNIQ_KEY value is bytes `uniqKeyAt`..`uniqKeyEnd` of the properties, and
   * `uniqKey` stays undefined (the index hashes the bytes; no string per message).
   */
  uniqKeyAt?: number | undefined;
  uniqKeyEnd?: number | undefined;
}

const scheduledLengths = new Set(scheduledPropNames.map((n) => n.length));
const replyToLength = Prop.replyToClient.length;

export function sendPropsOf(s: string | Buffer): SendProps {
  if (typeof s !== 'string') return sendPropsOfBytes(s);
  const out: SendProps = { tags: undefined, keys: undefined, uniqKey: undefined };
  let start = 0;
  while (start < s.length) {
    let end = s.indexOf(propertySeparator, start);
    if (end < 0) end = s.length;
    const sep = s.indexOf(nameSeparator, start);
    if (sep > start && sep < end) {
      const nameLength = sep - start;
      if (nameLength === 4) {
        if (s.startsWith(Prop.tags, start)) out.tags = s.slice(sep + 1, end);
        else if (s.startsWith(Prop.keys, start)) out.keys = s.slice(sep + 1, end);
      } else if (nameLength === 8) {
        if (s.startsWith(Prop.uniqKey, start)) out.uniqKey = s.slice(sep + 1, end);
        else if (s.startsWith(Prop.transactionPrepared, start)) out.tranMsg = s.slice(sep + 1, end);
      } else if (nameLength === replyToLength && s.startsWith(Prop.replyToClient, start)) {
        out.replyTo = true;
      } else if (scheduledLengths.has(nameLength) && scheduledPropNames.includes(s.slice(start, sep))) {
        out.scheduled = true;
      }
    }
    start = end + 1;
  }
  return out;
}

const tagsName = Buffer.from(Prop.tags, 'latin1');
const keysName = Buffer.from(Prop.keys, 'latin1');
const uniqKeyName = Buffer.from(Prop.uniqKey, 'latin1');
const tranMsgName = Buffer.from(Prop.transactionPrepared, 'latin1');
const replyToName = Buffer.from(Prop.replyToClient, 'latin1');
const scheduledNameBytes = scheduledPropNames.map((n) => Buffer.from(n, 'latin1'));

/**
 * The scan of one batch item's properties, in one object of a fixed shape that every `scanItemProps` call reuses
 * (valid until the next call; the send path copies what it needs at once). A SendProps per item was an object
 * plus, once `uniqKeyAt`/`uniqKeyEnd` were added to it after its creation, a second store for those two fields.
 */
export class ItemPropsScan {
  /** TAGS as text (not set by `scanItemPropsAt`, whose caller needs only `tagsHash`). */
  tags: string | undefined = undefined;
  /** Java's String.hashCode of TAGS, 0 when none: the ConsumeQueue tag hash (tagsCodeOf), taken during the scan. */
  tagsHash = 0;
  keys: string | undefined = undefined;
  /** A non-ASCII UNIQ_KEY (decoded); an ASCII one is bytes `uniqKeyAt`..`uniqKeyEnd` (-1 when none). */
  uniqKey: string | undefined = undefined;
  uniqKeyAt = -1;
  uniqKeyEnd = -1;
  /** Java's String.hashCode of the ASCII UNIQ_KEY (from 0), taken during the scan: the index needs no second pass. */
  uniqKeyHash = 0;
  tranMsg: string | undefined = undefined;
  replyTo = false;
  scheduled = false;
}

const itemScan = new ItemPropsScan();

/** Scans a batch item's properties into the shared `ItemPropsScan` (see there): no object per message. */
export function scanItemProps(b: Buffer): ItemPropsScan {
  return scanBytes(b, itemScan, true, true, 0, b.length);
}

/**
 * `scanItemProps` of bytes `from`..`to` of `b` (a batch item in its request): `uniqKeyAt`/`uniqKeyEnd` are places in
 * `b`, and TAGS is given only as `tagsHash` (an ASCII value is hashed from its bytes: no string per message).
 */
export function scanItemPropsAt(b: Buffer, from: number, to: number): ItemPropsScan {
  return sdkTail(b, from, to) ? itemScan : scanBytes(b, itemScan, true, false, from, to);
}

/** The general scan of `scanItemPropsAt` (never the SDK tail's): for tests that compare the two. */
export function scanItemPropsAtGeneral(b: Buffer, from: number, to: number): ItemPropsScan {
  return scanBytes(b, itemScan, true, false, from, to);
}

/**
 * `sendPropsOf` of a batch item's properties, except that an ASCII UNIQ_KEY is given as its place in `b`
 * (`uniqKeyAt`, `uniqKeyEnd`) instead of a string; a non-ASCII one is decoded as before.
 */
export function sendPropsOfItem(b: Buffer): SendProps {
  return sendPropsOfScan(scanBytes(b, new ItemPropsScan(), true, true, 0, b.length));
}

/** The same over the utf-8 bytes: only the three values are decoded into strings. */
function sendPropsOfBytes(b: Buffer): SendProps {
  return sendPropsOfScan(scanBytes(b, new ItemPropsScan(), false, true, 0, b.length));
}

function sendPropsOfScan(scan: ItemPropsScan): SendProps {
  const out: SendProps = { tags: scan.tags, keys: scan.keys, uniqKey: scan.uniqKey };
  if (scan.tranMsg !== undefined) out.tranMsg = scan.tranMsg;
  if (scan.replyTo) out.replyTo = true;
  if (scan.scheduled) out.scheduled = true;
  if (scan.uniqKeyAt >= 0) {
    out.uniqKeyAt = scan.uniqKeyAt;
    out.uniqKeyEnd = scan.uniqKeyEnd;
  }
  return out;
}

/**
 * A DataView of the buffer being scanned (the last one: a plain batch's items are all in its request, so one view
 * per request). The scan reads four bytes at a time through it: a byte loop costs ~3 ns a byte on the bench machine.
 */
let scanViewOf: Buffer | undefined;
let scanView: DataView = new DataView(new ArrayBuffer(0));

/**
 * The DataView of `b` that the scans use (one per request: a plain batch's walk reads its items' sizes through the
 * same view as their properties' scans, not a second one).
 */
export function scanViewFor(b: Buffer): DataView {
  if (b !== scanViewOf) {
    scanViewOf = b;
    scanView = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  return scanView;
}

/** A name's first four bytes (or all of a 4-byte name) as one little-endian word, for a one-load compare. */
function wordOf(name: Buffer, at: number): number {
  return name.readUInt32LE(at);
}
const tagsWord = wordOf(tagsName, 0);
const keysWord = wordOf(keysName, 0);
const uniqKeyWord0 = wordOf(uniqKeyName, 0);
const uniqKeyWord1 = wordOf(uniqKeyName, 4);
const tranMsgWord0 = wordOf(tranMsgName, 0);
const tranMsgWord1 = wordOf(tranMsgName, 4);
/** Every byte of a word: XOR with it makes the property separator's bytes zero. */
const propertySeparatorWord = propertySeparatorCode * 0x01010101;
/** Java's String.hashCode steps: four characters at once are h·31⁴ + c0·31³ + c1·31² + c2·31 + c3. */
const pow31x4 = 31 ** 4;
const pow31x3 = 31 ** 3;
const pow31x2 = 31 ** 2;

/**
 * The property scan, four bytes at a time where a word holds no separator (the SWAR zero-byte test: `(x − 0x01…)
 * & ~x & 0x80…` is non-zero iff a byte of x is zero, and its lowest set bit marks the first such byte). A name ends
 * at its first name separator (a pair that ends first is malformed and skipped); its value at the next property
 * separator. Same results as the byte loop it replaced (send-props.test.ts checks it against `sendPropsOf` of the
 * text, at any alignment and with bytes past `to`).
 */
function scanBytes(
  b: Buffer,
  out: ItemPropsScan,
  uniqKeyAsPlace: boolean,
  tagsText: boolean,
  from: number,
  to: number,
): ItemPropsScan {
  clearScan(out);
  const v = scanViewFor(b);
  const n = to;
  let start = from;
  while (start < n) {
    // The name: up to the first byte below 3 that is a separator (a zero byte is a name byte; the word test
    // finds bytes below 3, and the byte check then tells them apart).
    let sep = start;
    let c = 0;
    for (;;) {
      if (sep + 4 <= n) {
        const w = v.getUint32(sep, true);
        const low = (w - 0x03030303) & ~w & 0x80808080;
        if (low === 0) {
          sep += 4;
          continue;
        }
        sep += (31 - Math.clz32(low & -low)) >>> 3;
      } else if (sep >= n) break;
      c = b[sep] as number;
      if (c === nameSeparatorCode || c === propertySeparatorCode) break;
      sep++;
    }
    if (sep >= n || c === propertySeparatorCode) {
      start = sep + 1;
      continue;
    }
    const nameLength = sep - start;
    const uniq =
      nameLength === 8 && v.getUint32(start, true) === uniqKeyWord0 && v.getUint32(start + 4, true) === uniqKeyWord1;
    const tags = nameLength === 4 && v.getUint32(start, true) === tagsWord;
    // The value: OR of its bytes below 0x80 means ASCII, whose utf-8 and latin1 decodings are the same string.
    let end = sep + 1;
    let high = 0;
    let hash = 0;
    if (uniq || tags) {
      // UNIQ_KEY's and TAGS' bytes are hashed as they are read (the index's key hash, the ConsumeQueue tag hash; a
      // byte is its char code when ASCII).
      for (;;) {
        if (end + 4 <= n) {
          const w = v.getUint32(end, true);
          const x = w ^ propertySeparatorWord;
          if (((x - 0x01010101) & ~x & 0x80808080) === 0) {
            high |= w;
            hash =
              (Math.imul(hash, pow31x4) +
                Math.imul(w & 0xff, pow31x3) +
                Math.imul((w >>> 8) & 0xff, pow31x2) +
                Math.imul((w >>> 16) & 0xff, 31) +
                (w >>> 24)) |
              0;
            end += 4;
            continue;
          }
        }
        if (end >= n) break;
        const x = b[end] as number;
        if (x === propertySeparatorCode) break;
        high |= x;
        hash = (Math.imul(hash, 31) + x) | 0;
        end++;
      }
    } else {
      for (;;) {
        if (end + 4 <= n) {
          const w = v.getUint32(end, true);
          const x = w ^ propertySeparatorWord;
          if (((x - 0x01010101) & ~x & 0x80808080) === 0) {
            high |= w;
            end += 4;
            continue;
          }
        }
        if (end >= n) break;
        const x = b[end] as number;
        if (x === propertySeparatorCode) break;
        high |= x;
        end++;
      }
    }
    if (nameLength > 0) {
      const ascii = (high & 0x80808080) === 0;
      if (nameLength === 4) {
        if (tags) {
          // A later duplicate wins. The hash of a non-ASCII value is over its UTF-16 text (Java's String.hashCode).
          const text = tagsText || !ascii ? propValue(b, sep + 1, end, ascii) : undefined;
          out.tags = tagsText ? text : undefined;
          out.tagsHash = ascii ? hash : javaStringHashCode(text as string);
        } else if (v.getUint32(start, true) === keysWord) out.keys = propValue(b, sep + 1, end, ascii);
      } else if (nameLength === 8) {
        if (uniq) {
          // A later duplicate wins, in either form.
          if (uniqKeyAsPlace && ascii) {
            out.uniqKey = undefined;
            out.uniqKeyAt = sep + 1;
            out.uniqKeyEnd = end;
            out.uniqKeyHash = hash;
          } else {
            out.uniqKey = propValue(b, sep + 1, end, ascii);
            out.uniqKeyAt = out.uniqKeyEnd = -1;
            out.uniqKeyHash = 0;
          }
        } else if (v.getUint32(start, true) === tranMsgWord0 && v.getUint32(start + 4, true) === tranMsgWord1)
          out.tranMsg = propValue(b, sep + 1, end, ascii);
      } else if (nameLength === replyToLength && nameIs(b, start, replyToName)) {
        out.replyTo = true;
      } else if (scheduledLengths.has(nameLength)) {
        for (const name of scheduledNameBytes) {
          if (name.length === nameLength && nameIs(b, start, name)) out.scheduled = true;
        }
      }
    }
    start = end + 1;
  }
  return out;
}

/** Buffer's own latin1 decoder, called directly: `toString` adds an encoding lookup and a `slice` call per value. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Buffer, start: number, end: number): string })
  .latin1Slice;

/** A property value: ASCII through the direct latin1 decoder (one per message for UNIQ_KEY), else utf-8. */
function propValue(b: Buffer, start: number, end: number, ascii: boolean): string {
  return ascii ? latin1Slice.call(b, start, end) : b.toString('utf8', start, end);
}

function nameIs(b: Buffer, at: number, name: Buffer): boolean {
  for (let i = 0; i < name.length; i++) if (b[at + i] !== name[i]) return false;
  return true;
}

/**
 * What the SDK appends to a message's properties when it generates the id (client/message.ts `uniqIdPrefix` + 32
 * hex digits + separator): the pair WAIT=true, then the UNIQ_KEY name and its name separator (19 bytes), compared
 * as five little-endian words, the last overlapping the fourth (bytes 15..18).
 */
const sdkTailName = Buffer.from(
  Prop.waitStoreMsgOk + nameSeparator + 'true' + propertySeparator + Prop.uniqKey + nameSeparator,
  'latin1',
);
const sdkTailNameBytes = sdkTailName.length;
const sdkTailIdBytes = 32;
/** The tail's length: name bytes, the id, its separator. */
const sdkTailBytes = sdkTailNameBytes + sdkTailIdBytes + 1;
const sdkWord0 = sdkTailName.readUInt32LE(0);
const sdkWord1 = sdkTailName.readUInt32LE(4);
const sdkWord2 = sdkTailName.readUInt32LE(8);
const sdkWord3 = sdkTailName.readUInt32LE(12);
const sdkWord4 = sdkTailName.readUInt32LE(sdkTailNameBytes - 4);
/**
 * The id's first 28 bytes of the last tail taken (seven words) and Java's hash of them: the SDK's ids generated at
 * one time share them (client/msg-id.ts `uniqIdHeadChars`), so most items of a batch hash only their last four.
 * `idHeadValid` is false until a tail was taken.
 */
const idHead = new Int32Array(7);
let idHeadHash = 0;
let idHeadValid = false;

/**
 * `scanItemPropsAt` of properties that end with the SDK's tail (above) after nothing or after a head that ends with
 * a separator (TAGS, KEYS, … written by the SDK before it): the tail's pairs are then WAIT, which the send path does
 * not read, and UNIQ_KEY, which wins over any in the head, so only the head is scanned (the general scan) and the
 * id taken from its known place. The id must be what the general scan takes as an ASCII value: no property
 * separator and no byte ≥ 0x80 in it (else false, and the caller scans it all). Fills `itemScan`; false when the
 * properties do not have that shape (nothing written to `itemScan` then).
 */
function sdkTail(b: Buffer, from: number, to: number): boolean {
  const at = to - sdkTailBytes;
  if (at < from || b[to - 1] !== propertySeparatorCode) return false;
  if (at > from && b[at - 1] !== propertySeparatorCode) return false;
  const v = scanViewFor(b);
  if (
    v.getInt32(at, true) !== sdkWord0 ||
    v.getInt32(at + 4, true) !== sdkWord1 ||
    v.getInt32(at + 8, true) !== sdkWord2 ||
    v.getInt32(at + 12, true) !== sdkWord3 ||
    v.getInt32(at + sdkTailNameBytes - 4, true) !== sdkWord4
  )
    return false;
  const idAt = at + sdkTailNameBytes;
  let hash = 0;
  const w0 = v.getInt32(idAt, true);
  const w1 = v.getInt32(idAt + 4, true);
  const w2 = v.getInt32(idAt + 8, true);
  const w3 = v.getInt32(idAt + 12, true);
  const w4 = v.getInt32(idAt + 16, true);
  const w5 = v.getInt32(idAt + 20, true);
  const w6 = v.getInt32(idAt + 24, true);
  if (
    idHeadValid &&
    w0 === idHead[0] &&
    w1 === idHead[1] &&
    w2 === idHead[2] &&
    w3 === idHead[3] &&
    w4 === idHead[4] &&
    w5 === idHead[5] &&
    w6 === idHead[6]
  ) {
    hash = idHeadHash;
  } else {
    // Checked as the general scan's value loop reads them: no separator byte, and ASCII (else not this path).
    if (!idWordOk(w0) || !idWordOk(w1) || !idWordOk(w2) || !idWordOk(w3)) return false;
    if (!idWordOk(w4) || !idWordOk(w5) || !idWordOk(w6)) return false;
    hash = hashStep(hashStep(hashStep(hashStep(hashStep(hashStep(hashStep(0, w0), w1), w2), w3), w4), w5), w6);
    idHead[0] = w0;
    idHead[1] = w1;
    idHead[2] = w2;
    idHead[3] = w3;
    idHead[4] = w4;
    idHead[5] = w5;
    idHead[6] = w6;
    idHeadHash = hash;
    idHeadValid = true;
  }
  const w7 = v.getInt32(idAt + 28, true);
  if (!idWordOk(w7)) return false;
  const out = at > from ? scanBytes(b, itemScan, true, false, from, at) : clearScan(itemScan);
  out.uniqKey = undefined;
  out.uniqKeyAt = idAt;
  out.uniqKeyEnd = idAt + sdkTailIdBytes;
  out.uniqKeyHash = hashStep(hash, w7);
  return true;
}

/** A word of an id: no property separator byte, no byte ≥ 0x80. */
function idWordOk(w: number): boolean {
  const x = w ^ propertySeparatorWord;
  return ((x - 0x01010101) & ~x & 0x80808080) === 0 && (w & 0x80808080) === 0;
}

/** Java's String.hashCode over four more ASCII characters (the word's bytes, lowest first). */
function hashStep(hash: number, w: number): number {
  return (
    (Math.imul(hash, pow31x4) +
      Math.imul(w & 0xff, pow31x3) +
      Math.imul((w >>> 8) & 0xff, pow31x2) +
      Math.imul((w >>> 16) & 0xff, 31) +
      (w >>> 24)) |
    0
  );
}

/** `out` as the scan of no properties. */
function clearScan(out: ItemPropsScan): ItemPropsScan {
  out.tags = undefined;
  out.tagsHash = 0;
  out.keys = undefined;
  out.uniqKey = undefined;
  out.uniqKeyAt = -1;
  out.uniqKeyEnd = -1;
  out.uniqKeyHash = 0;
  out.tranMsg = undefined;
  out.replyTo = false;
  out.scheduled = false;
  return out;
}
