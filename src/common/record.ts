/**
 * CommitLog v1 record codec (RocketMQ's MessageDecoder layout, big-endian). The same bytes are stored in the
 * CommitLog, sent in PULL / QUERY_MESSAGE bodies and decoded by clients.
 *
 * TOTALSIZE 4 | MAGIC 4 | BODYCRC 4 | QUEUEID 4 | FLAG 4 | QUEUEOFFSET 8 | PHYSICALOFFSET 8 | SYSFLAG 4 |
 * BORNTIMESTAMP 8 | BORNHOST 8 | STORETIMESTAMP 8 | STOREHOST 8 | RECONSUMETIMES 4 | PREPARED_TX_OFFSET 8 |
 * BODY len 4 + bytes | TOPIC len 1 + bytes | PROPERTIES len 2 + bytes
 */

import { crc32 } from './crc32.js';
import { TsRocketError } from './errors.js';
import { BoundedMemo } from './memo.js';
import type { MessageExt } from './message.js';
import { decodeProperties, propertySeparatorCode } from './properties.js';

/** The fields of one record that its sender decides; the store adds offsets, store time and store host. */
export interface RecordInput {
  topic: string;
  queueId: number;
  flag: number;
  /** Body as the client sent it (compressed bodies stay compressed). */
  body: Buffer;
  /**
   * Encoded properties (`key\u0001value\u0002…`) as sent: a string, or the utf-8 bytes themselves when the
   * caller has them (batch items), which are copied without a string round trip.
   */
  properties: string | Buffer;
  sysFlag: number;
  bornTimestamp: bigint;
  /** IPv4 "a.b.c.d:port". */
  bornHost: string;
  reconsumeTimes: number;
  preparedTransactionOffset: bigint;
  /** BODYCRC when the body comes from a stored record (a re-put): taken as is, not computed again. */
  bodyCrc?: number | undefined;
}

export const messageMagicV1 = 0xdaa320a7;
export const blankMagic = 0xcbd43194;
/** Bytes of a v1 record before the variable-length body/topic/properties. */
export const recordFixedBytes = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 8;
/** Bytes of the length prefixes of body (4), topic (1) and properties (2). */
export const recordLengthPrefixBytes = 4 + 1 + 2;
/** Smallest possible record (empty body, 1-char topic, no properties). */
export const recordBytesMin = recordFixedBytes + recordLengthPrefixBytes + 1;

/** Field positions inside a record (used by the store to patch and check records without decoding). */
export const RecordPos = {
  totalSize: 0,
  magic: 4,
  bodyCrc: 8,
  queueId: 12,
  flag: 16,
  queueOffset: 20,
  physicalOffset: 28,
  sysFlag: 36,
  bornTimestamp: 40,
  bornHost: 48,
  storeTimestamp: 56,
  storeHost: 64,
  reconsumeTimes: 72,
  preparedTxOffset: 76,
  bodyLength: 84,
  body: 88,
} as const;

/** RocketMQ's BODYCRC: CRC-32 of the body, masked to a non-negative int. */
export function bodyCrc(body: Buffer): number {
  return crc32(body) & 0x7fffffff;
}

/** Record size for the given variable parts (all in bytes). */
export function recordSize(bodyBytes: number, topicBytes: number, propertiesBytes: number): number {
  return recordFixedBytes + recordLengthPrefixBytes + bodyBytes + topicBytes + propertiesBytes;
}

/** Encoded hosts by their string: every record carries two hosts and a broker sees few distinct ones. */
const hostBytes = new BoundedMemo(4096, (host: string): Buffer => {
  const b = Buffer.allocUnsafe(8);
  const colon = host.lastIndexOf(':');
  const ip = colon >= 0 ? host.slice(0, colon) : host;
  const port = colon >= 0 ? Number(host.slice(colon + 1)) : 0;
  const parts = ip.split('.');
  for (let i = 0; i < 4; i++) b[i] = Number(parts[i] ?? 0) & 0xff;
  b.writeInt32BE(Number.isFinite(port) ? port | 0 : 0, 4);
  return b;
});

/** Writes "a.b.c.d:port" as 4 address bytes + 4 port bytes at `pos`. */
export function writeHost(buf: Buffer, pos: number, host: string): void {
  const b = hostBytes.get(host);
  for (let i = 0; i < 8; i++) buf[pos + i] = b[i] as number;
}

const two32 = 2 ** 32;
const topicLoopBytesMax = 32;
/**
 * `TypedArray#set` called through this constant in the per-record loop: optimized code calls the builtin directly,
 * where `out.set` is a property load through a LoadIC call per record (V8 here does not inline a typed array's
 * prototype methods: ~4 ns each).
 */
const typedArraySet = Uint8Array.prototype.set;

/** Encoded topic names: every record carries one and a broker sees few distinct ones. */
const encodedTopics = new BoundedMemo(4096, (topic: string) => Buffer.from(topic, 'utf8'));

/**
 * A DataView of the buffer records are encoded into (the last one asked for: the CommitLog encodes a whole put
 * into one buffer). Its big-endian stores compile to a store each; Buffer#writeInt32BE is a call with range checks
 * (~20 ns each on the bench machine, ten of them per record). Callers pass values already validated.
 */
let viewBuffer: Buffer | undefined;
let view: DataView = new DataView(new ArrayBuffer(0));

function viewOf(out: Buffer): DataView {
  if (out !== viewBuffer) {
    viewBuffer = out;
    view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  }
  return view;
}

/** Writes a 64-bit field from a bigint, or without BigInt work from a safe-integer number. */
function writeLong(out: Buffer, dv: DataView, v: bigint | number, at: number): void {
  // One BigInt→Number conversion is far cheaper than writeBigInt64BE's BigInt masks and shifts.
  const n = typeof v === 'number' ? v : Number(v);
  if (Number.isSafeInteger(n)) {
    dv.setInt32(at, Math.floor(n / two32) | 0);
    dv.setUint32(at + 4, n >>> 0);
  } else out.writeBigInt64BE(BigInt(v), at);
}

/** Reads 4 address bytes + 4 port bytes as "a.b.c.d:port". */
export function readHost(buf: Buffer, pos: number): string {
  return `${buf[pos]}.${buf[pos + 1]}.${buf[pos + 2]}.${buf[pos + 3]}:${buf.readInt32BE(pos + 4)}`;
}

/**
 * Encodes one record into `out` at `pos` (the store encodes straight into its write buffer) and returns its size.
 * `topicBytes`/`propertiesBytes` let callers that already measured the strings skip a second pass.
 */
export function encodeRecordInto(
  out: Buffer,
  pos: number,
  msg: RecordInput,
  queueOffset: bigint | number,
  physicalOffset: bigint | number,
  storeTimestamp: bigint | number,
  storeHost: string,
  topicBytes = Buffer.byteLength(msg.topic),
  propertiesBytes = typeof msg.properties === 'string' ? Buffer.byteLength(msg.properties) : msg.properties.length,
): number {
  const size = recordSize(msg.body.length, topicBytes, propertiesBytes);
  // Range checks of Buffer#writeInt32BE kept for the fields a caller passes in unchecked.
  out.writeInt32BE(msg.queueId, pos + RecordPos.queueId);
  const dv = viewOf(out);
  dv.setInt32(pos, size);
  dv.setUint32(pos + RecordPos.magic, messageMagicV1);
  dv.setInt32(pos + RecordPos.bodyCrc, msg.bodyCrc ?? bodyCrc(msg.body));
  dv.setInt32(pos + RecordPos.flag, msg.flag | 0);
  writeLong(out, dv, queueOffset, pos + RecordPos.queueOffset);
  writeLong(out, dv, physicalOffset, pos + RecordPos.physicalOffset);
  dv.setInt32(pos + RecordPos.sysFlag, msg.sysFlag | 0);
  writeLong(out, dv, msg.bornTimestamp, pos + RecordPos.bornTimestamp);
  writeHost(out, pos + RecordPos.bornHost, msg.bornHost);
  writeLong(out, dv, storeTimestamp, pos + RecordPos.storeTimestamp);
  writeHost(out, pos + RecordPos.storeHost, storeHost);
  dv.setInt32(pos + RecordPos.reconsumeTimes, msg.reconsumeTimes | 0);
  writeLong(out, dv, msg.preparedTransactionOffset, pos + RecordPos.preparedTxOffset);
  writeVariableParts(out, dv, pos, msg, topicBytes, propertiesBytes);
  return size;
}

/**
 * Like encodeRecordInto for a message whose topic, queue, sysFlag, born timestamp and host, reconsume count and
 * prepared offset equal those of the record already encoded at `prevPos` in `out` (a batch's next message): the
 * shared header bytes are copied from it and only the per-message fields are written.
 */
export function encodeRecordAfter(
  out: Buffer,
  pos: number,
  prevPos: number,
  msg: RecordInput,
  queueOffset: number,
  physicalOffset: number,
  topicBytes: number,
  propertiesBytes: number,
): number {
  const size = recordSize(msg.body.length, topicBytes, propertiesBytes);
  // copyWithin: Buffer#copy of a part of a buffer builds a view per call (an allocation per record here).
  out.copyWithin(pos + RecordPos.magic, prevPos + RecordPos.magic, prevPos + RecordPos.body);
  const dv = viewOf(out);
  dv.setInt32(pos, size);
  dv.setInt32(pos + RecordPos.bodyCrc, msg.bodyCrc ?? bodyCrc(msg.body));
  dv.setInt32(pos + RecordPos.flag, msg.flag | 0);
  writeLong(out, dv, queueOffset, pos + RecordPos.queueOffset);
  writeLong(out, dv, physicalOffset, pos + RecordPos.physicalOffset);
  writeVariableParts(out, dv, pos, msg, topicBytes, propertiesBytes);
  return size;
}

/**
 * Where one message of a request lies (`encodeRecordsFromBytesAfter`): int32 fields of a per-message row, offsets
 * from the request's start. The plain batch's items (store/dispatch.ts PlainItem) begin with these.
 */
/** Properties up to this many bytes are copied by a byte loop instead of through a view (an SDK message's ~52). */
const propLoopBytesMax = 96;

export const RecordPlace = { bodyAt: 0, bodyLen: 1, propAt: 2, propLen: 3, flag: 4 } as const;

/**
 * `encodeRecordAfter` for messages `1..count-1` of a batch given as places in its request `src` (rows of `stride`
 * int32 in `places`, RecordPlace fields): record `i` holds the body and the properties of row `i`, its properties
 * stored as `propSizes[i]` bytes (one more than sent: the last separator the sender left out), queue offset
 * `queueOffset + i`. Record 0 is already at `prevPos` in `out`; each next one gets the header fields it shares with
 * record 0 (read from there once) and goes right after the one before it. Fills `phys`/`sizes` (CommitLog offset and size of records 1..) and returns
 * the end position. One call per batch: the records' fields stay in registers and the topic is looked up once.
 * `crcs[i]`, when given, is row `i`'s body CRC-32 (common/crc32.ts `crc32Rows`), else each is computed here.
 */
export function encodeRecordsFromBytesAfter(
  out: Buffer,
  prevPos: number,
  src: Buffer,
  places: Int32Array,
  stride: number,
  count: number,
  propSizes: Int32Array,
  topic: string,
  topicBytes: number,
  queueOffset: number,
  phys: Float64Array,
  sizes: Int32Array,
  crcs?: Int32Array,
): number {
  const dv = viewOf(out);
  const t = encodedTopics.get(topic);
  // `src.buffer` is a runtime call (JSTypedArray::GetBuffer): once per batch.
  const ab = src.buffer as ArrayBuffer;
  const base = src.byteOffset;
  const sdv = new DataView(ab, base, src.length);
  let pos = prevPos + (sizes[0] as number);
  let phy = (phys[0] as number) + (sizes[0] as number);
  // The header fields every record of the batch shares (magic, queue id, sysFlag … prepared offset: 14 words), read
  // once from the first record and stored per record from locals, not copied by a builtin call per record.
  const h = prevPos;
  const magic = dv.getInt32(h + RecordPos.magic, true);
  const queueId = dv.getInt32(h + RecordPos.queueId, true);
  const s0 = dv.getInt32(h + RecordPos.sysFlag, true);
  const s1 = dv.getInt32(h + RecordPos.sysFlag + 4, true);
  const s2 = dv.getInt32(h + RecordPos.sysFlag + 8, true);
  const s3 = dv.getInt32(h + RecordPos.sysFlag + 12, true);
  const s4 = dv.getInt32(h + RecordPos.sysFlag + 16, true);
  const s5 = dv.getInt32(h + RecordPos.sysFlag + 20, true);
  const s6 = dv.getInt32(h + RecordPos.sysFlag + 24, true);
  const s7 = dv.getInt32(h + RecordPos.sysFlag + 28, true);
  const s8 = dv.getInt32(h + RecordPos.sysFlag + 32, true);
  const s9 = dv.getInt32(h + RecordPos.sysFlag + 36, true);
  const s10 = dv.getInt32(h + RecordPos.sysFlag + 40, true);
  const s11 = dv.getInt32(h + RecordPos.sysFlag + 44, true);
  for (let i = 1; i < count; i++) {
    const f = i * stride;
    const bodyLen = places[f + RecordPlace.bodyLen] as number;
    const propLen = places[f + RecordPlace.propLen] as number;
    const propertiesBytes = propSizes[i] as number;
    const size = recordSize(bodyLen, topicBytes, propertiesBytes);
    dv.setInt32(pos + RecordPos.magic, magic, true);
    dv.setInt32(pos + RecordPos.queueId, queueId, true);
    const sf = pos + RecordPos.sysFlag;
    dv.setInt32(sf, s0, true);
    dv.setInt32(sf + 4, s1, true);
    dv.setInt32(sf + 8, s2, true);
    dv.setInt32(sf + 12, s3, true);
    dv.setInt32(sf + 16, s4, true);
    dv.setInt32(sf + 20, s5, true);
    dv.setInt32(sf + 24, s6, true);
    dv.setInt32(sf + 28, s7, true);
    dv.setInt32(sf + 32, s8, true);
    dv.setInt32(sf + 36, s9, true);
    dv.setInt32(sf + 40, s10, true);
    dv.setInt32(sf + 44, s11, true);
    // One view for the copy (TypedArray#set takes no offsets), and for the CRC when no native one was given.
    const body = new Uint8Array(ab, base + (places[f + RecordPlace.bodyAt] as number), bodyLen);
    dv.setInt32(pos, size);
    dv.setInt32(pos + RecordPos.bodyCrc, (crcs !== undefined ? (crcs[i] as number) : crc32(body)) & 0x7fffffff);
    dv.setInt32(pos + RecordPos.flag, (places[f + RecordPlace.flag] as number) | 0);
    // Both offsets are safe integers (numbers): written as two words here, not through writeLong's bigint case.
    const qo = queueOffset + i;
    dv.setInt32(pos + RecordPos.queueOffset, Math.floor(qo / two32) | 0);
    dv.setUint32(pos + RecordPos.queueOffset + 4, qo >>> 0);
    dv.setInt32(pos + RecordPos.physicalOffset, Math.floor(phy / two32) | 0);
    dv.setUint32(pos + RecordPos.physicalOffset + 4, phy >>> 0);
    dv.setInt32(pos + RecordPos.bodyLength, bodyLen);
    let p = pos + RecordPos.body;
    typedArraySet.call(out, body, p);
    p += bodyLen;
    out[p] = topicBytes;
    p += 1;
    if (t.length <= topicLoopBytesMax) for (let k = 0; k < t.length; k++) out[p + k] = t[k] as number;
    else out.set(t, p);
    p += t.length;
    if (propertiesBytes <= 0x7fff) dv.setInt16(p, propertiesBytes);
    else out.writeInt16BE(propertiesBytes, p);
    p += 2;
    if (propLen <= propLoopBytesMax) {
      // A byte loop: no view (a typed array per record was most of the put's garbage, i.e. its scavenges).
      const at = places[f + RecordPlace.propAt] as number;
      let k = 0;
      for (; k + 4 <= propLen; k += 4) dv.setInt32(p + k, sdv.getInt32(at + k));
      for (; k < propLen; k++) out[p + k] = src[at + k] as number;
    } else out.set(new Uint8Array(ab, base + (places[f + RecordPlace.propAt] as number), propLen), p);
    if (propertiesBytes > propLen) out[p + propLen] = propertySeparatorCode;
    phys[i] = phy;
    sizes[i] = size;
    pos += size;
    phy += size;
  }
  return pos;
}

/** BODY length + bytes, TOPIC length + bytes, PROPERTIES length + bytes of the record at `pos`. */
function writeVariableParts(
  out: Buffer,
  dv: DataView,
  pos: number,
  msg: RecordInput,
  topicBytes: number,
  propertiesBytes: number,
): void {
  dv.setInt32(pos + RecordPos.bodyLength, msg.body.length);
  let p = pos + RecordPos.body;
  // TypedArray#set: the same memcpy as Buffer#copy without its argument handling (one call per part per record).
  const body = msg.body;
  out.set(body, p);
  p += body.length;
  out[p] = topicBytes;
  p += 1;
  const topic = encodedTopics.get(msg.topic);
  // A topic name is short: a byte loop costs less than the native call of `set` (~15 vs ~50 ns for 7 bytes).
  if (topic.length <= topicLoopBytesMax) for (let i = 0; i < topic.length; i++) out[p + i] = topic[i] as number;
  else out.set(topic, p);
  p += topic.length;
  // Range-checked: properties above 32767 bytes must fail here, not wrap.
  if (propertiesBytes <= 0x7fff) dv.setInt16(p, propertiesBytes);
  else out.writeInt16BE(propertiesBytes, p);
  p += 2;
  const props = msg.properties;
  if (typeof props !== 'string') {
    if (props.length === propertiesBytes) out.set(props, p);
    else props.copy(out, p, 0, propertiesBytes);
  } else if (propertiesBytes > 0) out.write(props, p, propertiesBytes, 'utf8');
}

/** Encodes one record in the v1 layout with BODYCRC filled. */
export function encodeRecord(
  msg: RecordInput,
  queueOffset: bigint,
  physicalOffset: bigint,
  storeTimestamp: bigint,
  storeHost: string,
): Buffer {
  const topicBytes = Buffer.byteLength(msg.topic);
  const propertiesBytes = Buffer.byteLength(msg.properties);
  const out = Buffer.allocUnsafe(recordSize(msg.body.length, topicBytes, propertiesBytes));
  encodeRecordInto(out, 0, msg, queueOffset, physicalOffset, storeTimestamp, storeHost, topicBytes, propertiesBytes);
  return out;
}

/** Thrown when bytes are not a well-formed v1 record. */
export class RecordFormatError extends TsRocketError {
  override readonly name = 'RecordFormatError';
}

/**
 * Checks the record at `pos` without decoding it: magic, TOTALSIZE against the parts, and (optionally) BODYCRC.
 * Returns the record size, or a reason string when the bytes are not a valid record.
 */
export function checkRecord(buf: Buffer, pos: number, checkCrc: boolean): number | string {
  if (pos + 8 > buf.length) return 'truncated header';
  const size = buf.readInt32BE(pos);
  const magic = buf.readUInt32BE(pos + RecordPos.magic);
  if (magic !== messageMagicV1) return `bad magic 0x${magic.toString(16)}`;
  if (size < recordBytesMin) return `bad total size ${size}`;
  if (pos + size > buf.length) return `record of ${size} bytes runs past the data`;
  const bodyLen = buf.readInt32BE(pos + RecordPos.bodyLength);
  if (bodyLen < 0 || RecordPos.body + bodyLen + 3 > size) return `bad body length ${bodyLen}`;
  const topicLen = buf.readUInt8(pos + RecordPos.body + bodyLen);
  const propsAt = pos + RecordPos.body + bodyLen + 1 + topicLen;
  if (propsAt + 2 > pos + size) return `bad topic length ${topicLen}`;
  const propsLen = buf.readInt16BE(propsAt);
  if (propsLen < 0 || recordSize(bodyLen, topicLen, propsLen) !== size) return 'total size disagrees with parts';
  // A torn write keeps a prefix and leaves zeros after it: a topic with NUL bytes or properties that do not end
  // with their separator (the store guarantees it on put) mark a record whose tail never reached the disk.
  if (topicLen === 0) return 'empty topic';
  for (let i = propsAt - topicLen; i < propsAt; i++) if (buf[i] === 0) return 'torn tail: NUL byte in topic';
  if (propsLen > 0 && buf[propsAt + 1 + propsLen] !== propertySeparatorCode)
    return 'torn tail: properties do not end with 0x02';
  if (checkCrc) {
    const body = buf.subarray(pos + RecordPos.body, pos + RecordPos.body + bodyLen);
    const stored = buf.readInt32BE(pos + RecordPos.bodyCrc);
    if (bodyCrc(body) !== stored) return 'body CRC mismatch';
  }
  return size;
}

/** Decodes the record at `pos`; throws RecordFormatError on bad data (magic, sizes, CRC). */
export function decodeRecord(buf: Buffer, pos = 0): { msg: MessageExt; size: number } {
  const checked = checkRecord(buf, pos, true);
  if (typeof checked === 'string') throw new RecordFormatError(`record at ${pos}: ${checked}`);
  const size = checked;
  const bodyLen = buf.readInt32BE(pos + RecordPos.bodyLength);
  let p = pos + RecordPos.body;
  const body = Buffer.from(buf.subarray(p, p + bodyLen));
  p += bodyLen;
  const topicLen = buf.readUInt8(p);
  p += 1;
  const topic = buf.toString('utf8', p, p + topicLen);
  p += topicLen;
  const propsLen = buf.readInt16BE(p);
  p += 2;
  const properties = decodeProperties(buf.toString('utf8', p, p + propsLen));
  const storeHost = readHost(buf, pos + RecordPos.storeHost);
  const commitLogOffset = buf.readBigInt64BE(pos + RecordPos.physicalOffset);
  const msg: MessageExt = {
    topic,
    queueId: buf.readInt32BE(pos + RecordPos.queueId),
    flag: buf.readInt32BE(pos + RecordPos.flag),
    queueOffset: buf.readBigInt64BE(pos + RecordPos.queueOffset),
    commitLogOffset,
    storeSize: size,
    sysFlag: buf.readInt32BE(pos + RecordPos.sysFlag),
    bodyCRC: buf.readInt32BE(pos + RecordPos.bodyCrc),
    bornTimestamp: buf.readBigInt64BE(pos + RecordPos.bornTimestamp),
    bornHost: readHost(buf, pos + RecordPos.bornHost),
    storeTimestamp: buf.readBigInt64BE(pos + RecordPos.storeTimestamp),
    storeHost,
    reconsumeTimes: buf.readInt32BE(pos + RecordPos.reconsumeTimes),
    preparedTransactionOffset: buf.readBigInt64BE(pos + RecordPos.preparedTxOffset),
    body,
    properties,
    offsetMsgId: createOffsetMsgIdFromBytes(buf, pos + RecordPos.storeHost, commitLogOffset),
  };
  return { msg, size };
}

/** Decodes consecutive records (a PULL response body or QUERY_MESSAGE body). */
export function decodeRecords(buf: Buffer): MessageExt[] {
  const out: MessageExt[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const { msg, size } = decodeRecord(buf, pos);
    out.push(msg);
    pos += size;
  }
  return out;
}

function createOffsetMsgIdFromBytes(buf: Buffer, hostPos: number, commitLogOffset: bigint): string {
  const id = Buffer.allocUnsafe(16);
  buf.copy(id, 0, hostPos, hostPos + 8);
  id.writeBigInt64BE(commitLogOffset, 8);
  return id.toString('hex').toUpperCase();
}

/** offsetMsgId: store IPv4 4 + port 4 + commitlog offset 8, as 32 upper-case hex characters. */
export function createOffsetMsgId(storeHost: string, commitLogOffset: bigint): string {
  const id = Buffer.allocUnsafe(16);
  writeHost(id, 0, storeHost);
  id.writeBigInt64BE(commitLogOffset, 8);
  return id.toString('hex').toUpperCase();
}

/** Splits an offsetMsgId into store host and commitlog offset; throws on a malformed id. */
export function decodeOffsetMsgId(id: string): { host: string; commitLogOffset: bigint } {
  if (!/^[0-9a-fA-F]{32}$/.test(id)) throw new RecordFormatError(`offsetMsgId must be 32 hex characters: ${id}`);
  const buf = Buffer.from(id, 'hex');
  return { host: readHost(buf, 0), commitLogOffset: buf.readBigInt64BE(8) };
}
