/**
 * END_TRANSACTION frames of one producer group written straight into one buffer: the bytes the generic encoder
 * (codec.ts `encodeFrameParts` with a ROCKETMQ binary header, `encodeEndTransactionHeader`'s fields in its order)
 * gives for the same request, a test holds them equal. The code, language, version, oneway flag, the keys and the
 * producerGroup entry are the template's; only the opaque and the values change per request. A transactional
 * producer writes a turn's ends this way: no header object, field map or buffer per request.
 */
import { RequestCode } from '../../remoting/codes.js';
import { Flag, languageCodes, newOpaque, ourLanguage, ourVersion, SerializeType } from '../../remoting/command.js';
import type { EndTransactionType } from '../../remoting/protocol/transaction.js';

/** The values of one END_TRANSACTION (EndTransactionRequestHeader's, `fromTransactionCheck` false). */
export interface EndFrameFields {
  readonly tranStateTableOffset: bigint;
  readonly commitLogOffset: bigint;
  readonly commitOrRollback: EndTransactionType;
  readonly msgId: string;
  readonly transactionId: string;
  readonly topic: string;
}

/** length, serialize type + header length; code, language, version, opaque, flag, remark length, map length. */
const prefixBytes = 8;
const fixedBytes = 2 + 1 + 2 + 4 + 4 + 4 + 4;
/** A value's int32 length. */
const valueLengthBytes = 4;

/** `int16 length + key` (and `int32 length` before the value to come), as latin1 bytes of the key. */
function keyBytes(key: string): Buffer {
  const b = Buffer.alloc(2 + key.length);
  b.writeUInt16BE(key.length, 0);
  b.write(key, 2, 'latin1');
  return b;
}

const keys = {
  tranStateTableOffset: keyBytes('tranStateTableOffset'),
  commitLogOffset: keyBytes('commitLogOffset'),
  commitOrRollback: keyBytes('commitOrRollback'),
  fromTransactionCheck: keyBytes('fromTransactionCheck'),
  msgId: keyBytes('msgId'),
  transactionId: keyBytes('transactionId'),
  topic: keyBytes('topic'),
} as const;
const falseText = 'false';
/** Key bytes of every entry but producerGroup, and the constant `false`. */
const keysBytes = Object.values(keys).reduce((n, k) => n + k.length + valueLengthBytes, 0) + falseText.length;
/** Decimal digits of an int64 with its sign, and of commitOrRollback. */
const longDigitsMax = 20;
const typeDigitsMax = 2;

export class EndFrameEncoder {
  /** The fixed header fields up to the opaque, then the producerGroup entry. */
  private readonly head: Buffer;
  private readonly groupEntry: Buffer;

  constructor(producerGroup: string) {
    this.head = Buffer.alloc(2 + 1 + 2);
    this.head.writeUInt16BE(RequestCode.END_TRANSACTION, 0);
    this.head.writeUInt8(languageCodes.indexOf(ourLanguage), 2);
    this.head.writeUInt16BE(ourVersion, 3);
    const key = keyBytes('producerGroup');
    const value = Buffer.from(producerGroup, 'utf8');
    this.groupEntry = Buffer.alloc(key.length + valueLengthBytes + value.length);
    key.copy(this.groupEntry, 0);
    this.groupEntry.writeInt32BE(value.length, key.length);
    value.copy(this.groupEntry, key.length + valueLengthBytes);
  }

  /** The frames of `ends`, in order, each with a fresh opaque and the oneway flag. */
  encode(ends: readonly EndFrameFields[]): Buffer {
    let bound = 0;
    for (const e of ends) {
      bound +=
        prefixBytes +
        fixedBytes +
        this.groupEntry.length +
        keysBytes +
        2 * longDigitsMax +
        typeDigitsMax +
        3 * (e.msgId.length + e.transactionId.length + e.topic.length);
    }
    const out = Buffer.allocUnsafe(bound);
    let at = 0;
    for (const e of ends) at = this.encodeOne(e, out, at);
    return out.subarray(0, at);
  }

  private encodeOne(e: EndFrameFields, out: Buffer, start: number): number {
    let at = start + prefixBytes;
    const headerAt = at;
    at += this.head.copy(out, at);
    at = out.writeInt32BE(newOpaque(), at);
    at = out.writeInt32BE(Flag.oneway, at);
    at = out.writeInt32BE(0, at); // no remark
    const mapAt = at;
    at += 4;
    at += this.groupEntry.copy(out, at);
    at = entry(out, at, keys.tranStateTableOffset, String(e.tranStateTableOffset), 'latin1');
    at = entry(out, at, keys.commitLogOffset, String(e.commitLogOffset), 'latin1');
    at = entry(out, at, keys.commitOrRollback, String(e.commitOrRollback), 'latin1');
    at = entry(out, at, keys.fromTransactionCheck, falseText, 'latin1');
    at = entry(out, at, keys.msgId, e.msgId, 'utf8');
    at = entry(out, at, keys.transactionId, e.transactionId, 'utf8');
    at = entry(out, at, keys.topic, e.topic, 'utf8');
    out.writeInt32BE(at - mapAt - 4, mapAt);
    const headerBytes = at - headerAt;
    out.writeInt32BE(4 + headerBytes, start);
    out.writeUInt32BE(((SerializeType.rocketmq << 24) | headerBytes) >>> 0, start + 4);
    return at;
  }
}

/** Writes `key` (with its length) and `value` with its int32 byte length; returns the offset after them. */
function entry(out: Buffer, at: number, key: Buffer, value: string, encoding: 'latin1' | 'utf8'): number {
  let to = at + key.copy(out, at);
  const n = out.write(value, to + valueLengthBytes, encoding);
  out.writeInt32BE(n, to);
  to += valueLengthBytes + n;
  return to;
}
