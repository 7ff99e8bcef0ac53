/**
 * The put path of the file store: checks a message or batch, assigns queue offsets, encodes the records straight
 * into the CommitLog's write buffer and resolves once the CommitLog wrote (and, in SYNC_FLUSH, flushed) them.
 */

import { crc32Rows } from '../common/crc32.js';
import { BoundedMemo } from '../common/memo.js';
import { Int32Scratch, pooledFloat64AndInt32Arrays } from '../common/pooled-arrays.js';
import { propertySeparator, propertySeparatorCode } from '../common/properties.js';
import { encodeRecordAfter, encodeRecordInto, encodeRecordsFromBytesAfter, recordSize } from '../common/record.js';
import { topicNameBytesMax } from '../common/validate.js';
import type { CommitLog, WriteOutcome } from './commit-log.js';
import type { StoreConfig } from './config.js';
import {
  BatchDispatch,
  type DispatchRequest,
  PlainItem,
  plainItemFields,
  plainTagsCode,
  takesQueueOffset,
  type VisibleRecords,
} from './dispatch.js';
import type { Clock } from './io.js';
import type { QueueTable } from './queue-table.js';
import { refused } from './results.js';
import type { MessageInput, PlainBatch, PutResult } from './types.js';
import { PutStatus } from './types.js';

/** What the put path works with: the log, the queue offsets and why puts are refused now. */
export interface PutTarget {
  readonly config: StoreConfig;
  readonly clock: Clock;
  readonly commitLog: CommitLog;
  readonly queues: QueueTable;
  /** Counts the bytes puts reserve against the room left under the disk warning ratio (services.ts). */
  readonly disk: { reserve(bytes: number): string | undefined };
  /** The first 16 hex digits of every offsetMsgId (store host). */
  readonly hostHex: string;
  readonlyReason(): string | undefined;
}

/**
 * All messages must target one topic and queue; they get consecutive queue offsets, except prepared and
 * rolled-back transactional records, which store the next offset without taking it (see `takesQueueOffset`).
 */
export function putMessages(store: PutTarget, msgs: readonly MessageInput[]): Promise<PutResult> {
  const first = msgs[0];
  if (first === undefined) return Promise.resolve(refused(PutStatus.MESSAGE_ILLEGAL, 'empty batch'));
  // One topic per put (checked below), so its utf-8 length is measured once.
  const topicBytes = Buffer.byteLength(first.topic);
  const notNow = putRefusal(store, topicBytes);
  if (notNow !== undefined) return Promise.resolve(notNow);
  const propSizes = propSizesScratch.for(msgs.length);
  let total = 0;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i] as MessageInput;
    if (m.topic !== first.topic || m.queueId !== first.queueId) {
      return Promise.resolve(refused(PutStatus.MESSAGE_ILLEGAL, 'a batch must target one topic and queue'));
    }
    const propBytes = withEndSeparator(m);
    const tooBig = sizeRefusal(store, m.body.length, propBytes);
    if (tooBig !== undefined) return Promise.resolve(tooBig);
    const size = recordSize(m.body.length, topicBytes, propBytes);
    propSizes[i] = propBytes;
    total += size;
  }
  const refusal = admitBatch(store, total);
  if (refusal !== undefined) return Promise.resolve(refusal);
  const key = store.queues.keyOf(first.topic, first.queueId);
  const queueOffset = store.queues.nextOffset(first.topic, first.queueId, key);
  const now = store.clock.now();
  const nowBig = BigInt(now);
  const { buf, pos, phyOffset } = store.commitLog.reserve(total);
  const dispatches: DispatchRequest[] = [];
  const ids = new OffsetMsgIdText(store.hostHex, msgs.length);
  let p = pos;
  let phy = phyOffset;
  let prev: MessageInput | undefined;
  let prevPos = 0;
  let qo = queueOffset;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i] as MessageInput;
    const propBytes = propSizes[i] as number;
    const size = recordSize(m.body.length, topicBytes, propBytes);
    if (prev !== undefined && sameHeader(prev, m))
      encodeRecordAfter(buf, p, prevPos, m, qo, phy, topicBytes, propBytes);
    else encodeRecordInto(buf, p, m, qo, phy, now, store.config.storeHost, topicBytes, propBytes);
    prev = m;
    prevPos = p;
    dispatches.push({
      topic: m.topic,
      queueId: m.queueId,
      queueOffset: qo,
      phyOffset: phy,
      size,
      tagsCode: m.tagsCode,
      storeTimestamp: now,
      sysFlag: m.sysFlag,
      keys: m.keys,
      uniqKey: m.uniqKey,
      uniqKeyBytes: m.uniqKeyBytes,
      uniqKeyAt: m.uniqKeyAt,
      uniqKeyEnd: m.uniqKeyEnd,
      uniqKeyHash: m.uniqKeyHash,
      properties: m.properties,
    });
    ids.add(phy);
    p += size;
    phy += size;
    if (takesQueueOffset(m.sysFlag)) qo++;
  }
  store.queues.setNextOffset(key, qo);
  return committed(store, dispatches, phyOffset, total, queueOffset, msgs.length, nowBig, ids);
}

/** Why no put can be taken now (the store is read-only, the topic's length is out of range), or undefined. */
function putRefusal(store: PutTarget, topicBytes: number): PutResult | undefined {
  const ro = store.readonlyReason();
  if (ro !== undefined) return refused(PutStatus.SERVICE_NOT_AVAILABLE, ro);
  if (topicBytes === 0 || topicBytes > topicNameBytesMax)
    return refused(PutStatus.MESSAGE_ILLEGAL, `topic length ${topicBytes} not in 1..${topicNameBytesMax}`);
  return undefined;
}

/** The refusal of a message whose body or properties (with their end separator) are over the limits, or undefined. */
function sizeRefusal(store: PutTarget, bodyBytes: number, propBytes: number): PutResult | undefined {
  if (bodyBytes > store.config.maxMessageSize)
    return refused(
      PutStatus.MESSAGE_ILLEGAL,
      `body of ${bodyBytes} bytes exceeds maxMessageSize ${store.config.maxMessageSize}`,
    );
  if (propBytes > store.config.maxPropertiesSize)
    return refused(
      PutStatus.PROPERTIES_SIZE_EXCEEDED,
      `properties of ${propBytes} bytes exceed ${store.config.maxPropertiesSize}`,
    );
  return undefined;
}

/**
 * Whether a batch of `total` record bytes may be written now: it fits a segment, the CommitLog is not busy and the
 * disk has room (which this reserves). The refusal, or undefined when admitted.
 */
function admitBatch(store: PutTarget, total: number): PutResult | undefined {
  if (total + 8 > store.config.mappedFileSizeCommitLog)
    return refused(PutStatus.MESSAGE_ILLEGAL, `batch of ${total} bytes does not fit a commitlog segment`);
  const busy = store.commitLog.busyReason(
    total,
    store.config.osPageCacheBusyTimeOutMills,
    store.config.maxUnwrittenPutBytes,
  );
  if (busy !== undefined) return refused(PutStatus.OS_PAGE_CACHE_BUSY, `broker busy: ${busy}`);
  const full = store.disk.reserve(total);
  if (full !== undefined) return refused(PutStatus.SERVICE_NOT_AVAILABLE, full);
  return undefined;
}

/** Hands the put's records to the CommitLog; resolves with the put's result once they are visible (or failed). */
function committed(
  store: PutTarget,
  dispatches: readonly VisibleRecords[],
  phyOffset: number,
  total: number,
  queueOffset: number,
  msgNum: number,
  nowBig: bigint,
  ids: OffsetMsgIdText | Float64Array,
): Promise<PutResult> {
  return new Promise((resolve) => {
    store.commitLog.commit(dispatches, (o: WriteOutcome) => {
      const base: PutResult = {
        status: PutStatus.PUT_OK,
        wroteOffset: BigInt(phyOffset),
        wroteBytes: total,
        queueOffset: BigInt(queueOffset),
        msgNum,
        storeTimestamp: nowBig,
        offsetMsgIdsText: ids instanceof Float64Array ? offsetMsgIdsOf(store.hostHex, ids, msgNum) : ids.text(),
      };
      if (o.kind === 'ok') resolve(base);
      else if (o.kind === 'timeout') {
        resolve({
          ...base,
          status: PutStatus.FLUSH_DISK_TIMEOUT,
          remark: `fdatasync took over ${store.config.syncFlushTimeout} ms`,
        });
      } else resolve(refused(PutStatus.UNKNOWN_ERROR, `${o.reason}; this put was not stored`));
    });
  });
}

/**
 * `putMessages` of a plain batch from its request bytes (types.ts `PlainBatch`): the same checks, records, queue
 * offsets and offsetMsgIds, and one BatchDispatch for its dispatchers instead of an input and a request per message.
 */
export function putPlainBatch(store: PutTarget, b: PlainBatch): Promise<PutResult> {
  const n = b.count;
  if (n === 0) return Promise.resolve(refused(PutStatus.MESSAGE_ILLEGAL, 'empty batch'));
  // Not plain after all (a transaction type): the general path, item by item.
  if (!takesQueueOffset(b.sysFlag)) return putMessages(store, plainBatchInputs(b));
  const topicBytes = Buffer.byteLength(b.topic);
  const notNow = putRefusal(store, topicBytes);
  if (notNow !== undefined) return Promise.resolve(notNow);
  const items = b.items;
  const src = b.buf;
  const propSizes = propSizesScratch.for(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const f = i * plainItemFields;
    const bodyLen = items[f + PlainItem.bodyLen] as number;
    const propLen = items[f + PlainItem.propLen] as number;
    // Recovery tells a torn tail by properties that do not end with their separator (withEndSeparator).
    const propBytes =
      propLen > 0 && src[(items[f + PlainItem.propAt] as number) + propLen - 1] !== propertySeparatorCode
        ? propLen + 1
        : propLen;
    const tooBig = sizeRefusal(store, bodyLen, propBytes);
    if (tooBig !== undefined) return Promise.resolve(tooBig);
    propSizes[i] = propBytes;
    total += recordSize(bodyLen, topicBytes, propBytes);
  }
  const refusal = admitBatch(store, total);
  if (refusal !== undefined) return Promise.resolve(refusal);
  const key = store.queues.keyOf(b.topic, b.queueId);
  const queueOffset = store.queues.nextOffset(b.topic, b.queueId, key);
  const now = store.clock.now();
  const { buf, pos, phyOffset } = store.commitLog.reserve(total);
  const [phys, sizes] = pooledFloat64AndInt32Arrays(n);
  // Every body's CRC in one native call (the items' rows begin with bodyAt, bodyLen), when the module runs.
  const crcs = bodyCrcsScratch.for(n);
  const crcsDone = crc32Rows(src, items, plainItemFields, n, crcs);
  // The first record is encoded whole, the others copy its shared header (encodeRecordAfter's rule).
  const first = plainBatchInput(b, 0);
  if (crcsDone) first.bodyCrc = (crcs[0] as number) & 0x7fffffff;
  const size = encodeRecordInto(
    buf,
    pos,
    first,
    queueOffset,
    phyOffset,
    now,
    store.config.storeHost,
    topicBytes,
    propSizes[0] as number,
  );
  if ((propSizes[0] as number) > first.properties.length) buf[pos + size - 1] = propertySeparatorCode;
  phys[0] = phyOffset;
  sizes[0] = size;
  encodeRecordsFromBytesAfter(
    buf,
    pos,
    src,
    items,
    plainItemFields,
    n,
    propSizes,
    b.topic,
    topicBytes,
    queueOffset,
    phys,
    sizes,
    crcsDone ? crcs : undefined,
  );
  store.queues.setNextOffset(key, queueOffset + n);
  const d = new BatchDispatch(b.topic, b.queueId, b.sysFlag, now, queueOffset, n, phys, sizes, b);
  // The offsetMsgIds are written from `phys` once the records are visible (the batch's dispatch holds it till then).
  return committed(store, [d], phyOffset, total, queueOffset, n, BigInt(now), phys);
}

/** Item `i` of a plain batch as a put input (the general path's form). */
function plainBatchInput(b: PlainBatch, i: number): MessageInput {
  const f = i * plainItemFields;
  const items = b.items;
  const bodyAt = items[f + PlainItem.bodyAt] as number;
  const propAt = items[f + PlainItem.propAt] as number;
  const uniqAt = items[f + PlainItem.uniqAt] as number;
  return {
    topic: b.topic,
    queueId: b.queueId,
    flag: items[f + PlainItem.flag] as number,
    body: b.buf.subarray(bodyAt, bodyAt + (items[f + PlainItem.bodyLen] as number)),
    properties: b.buf.subarray(propAt, propAt + (items[f + PlainItem.propLen] as number)),
    sysFlag: b.sysFlag,
    bornTimestamp: b.bornTimestamp,
    bornHost: b.bornHost,
    reconsumeTimes: b.reconsumeTimes,
    preparedTransactionOffset: 0n,
    tagsCode: plainTagsCode(items, i),
    keys: b.keys?.[i],
    uniqKey: undefined,
    uniqKeyBytes: uniqAt < 0 ? undefined : b.buf,
    uniqKeyAt: uniqAt < 0 ? undefined : uniqAt,
    uniqKeyEnd: uniqAt < 0 ? undefined : (items[f + PlainItem.uniqEnd] as number),
    uniqKeyHash: uniqAt < 0 ? undefined : (items[f + PlainItem.uniqHash] as number),
    bodyCrc: undefined,
  };
}

/** Every item of a plain batch as a put input (for stores without `putPlainBatch`, and for tests). */
export function plainBatchInputs(b: PlainBatch): MessageInput[] {
  const out: MessageInput[] = [];
  for (let i = 0; i < b.count; i++) out.push(plainBatchInput(b, i));
  return out;
}

/** Properties sizes of the put being encoded: no array per put. */
const propSizesScratch = new Int32Scratch(4096);
/** The bodies' CRC-32s of the plain batch being encoded. */
const bodyCrcsScratch = new Int32Scratch(4096);

/** True when `b`'s record header may be copied from `a`'s (all but the per-message fields are equal). */
function sameHeader(a: MessageInput, b: MessageInput): boolean {
  return (
    a.sysFlag === b.sysFlag &&
    a.bornTimestamp === b.bornTimestamp &&
    a.bornHost === b.bornHost &&
    a.reconsumeTimes === b.reconsumeTimes &&
    a.preparedTransactionOffset === b.preparedTransactionOffset
  );
}

/** Recovery tells a torn tail by properties that do not end with their separator: keep that invariant. */
function withEndSeparator(m: MessageInput): number {
  const p = m.properties;
  if (typeof p === 'string') {
    if (p.length > 0 && p.charCodeAt(p.length - 1) !== propertySeparatorCode) m.properties = p + propertySeparator;
    return Buffer.byteLength(m.properties);
  }
  if (p.length > 0 && p[p.length - 1] !== propertySeparatorCode)
    m.properties = Buffer.concat([p, propertySeparatorByte]);
  return m.properties.length;
}

const propertySeparatorByte = Buffer.from([propertySeparatorCode]);

/** Upper-case hex digits of each byte value as one big-endian 16-bit pair, for offsetMsgIds (one per stored message). */
const hexPairs = Uint16Array.from({ length: 256 }, (_, b) => {
  const h = b.toString(16).toUpperCase().padStart(2, '0');
  return (h.charCodeAt(0) << 8) | h.charCodeAt(1);
});
const commaCode = 0x2c;
/** The 16 store-host hex digits as four big-endian 32-bit words (a put writes them once per message). */
const hostHexWords = new BoundedMemo(16, (hostHex: string) => {
  const b = Buffer.from(hostHex.padEnd(16, '0').slice(0, 16), 'latin1');
  return Uint32Array.from({ length: 4 }, (_, i) => b.readUInt32BE(i * 4));
});

/**
 * The comma-separated offsetMsgIds of one put (store host hex + 16 hex digits of the commitlog offset each),
 * written as latin1 bytes into one buffer: one string per put instead of several per message. Written through a
 * DataView, four bytes or two at a time: a byte loop costs ~3 ns a byte on the bench machine, 32 per message.
 */
export class OffsetMsgIdText {
  private buf: Buffer;
  private view: DataView;
  private host: Uint32Array;
  private pos = 0;

  constructor(hostHex: string, count: number) {
    this.host = hostHexWords.get(hostHex);
    this.buf = Buffer.allocUnsafe(count * 33);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Empties this text for `count` more ids of `hostHex` (the buffer grown if needed): one scratch text reused. */
  restart(hostHex: string, count: number): void {
    this.host = hostHexWords.get(hostHex);
    if (this.buf.length < count * 33) {
      this.buf = Buffer.allocUnsafe(count * 33);
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
    this.pos = 0;
  }

  add(phy: number): void {
    const v = this.view;
    let p = this.pos;
    if (p > 0) v.setUint8(p++, commaCode);
    const host = this.host;
    v.setUint32(p, host[0] as number);
    v.setUint32(p + 4, host[1] as number);
    v.setUint32(p + 8, host[2] as number);
    v.setUint32(p + 12, host[3] as number);
    writeHex32(v, p + 16, Math.floor(phy / 2 ** 32));
    writeHex32(v, p + 24, phy >>> 0);
    this.pos = p + 32;
  }

  text(): string {
    return this.buf.toString('latin1', 0, this.pos);
  }
}

function writeHex32(v: DataView, p: number, n: number): void {
  v.setUint16(p, hexPairs[n >>> 24] as number);
  v.setUint16(p + 2, hexPairs[(n >>> 16) & 0xff] as number);
  v.setUint16(p + 4, hexPairs[(n >>> 8) & 0xff] as number);
  v.setUint16(p + 6, hexPairs[n & 0xff] as number);
}

/** The scratch text of `offsetMsgIdsOf` (filled and read within one synchronous call). */
const offsetMsgIdsScratch = new OffsetMsgIdText('', 64);

/**
 * The offsetMsgIds text of records at CommitLog offsets `phys[0..count)` (a plain batch's, once visible): the same
 * text as an OffsetMsgIdText filled at put time, written into one reused buffer instead of a new one per batch.
 */
export function offsetMsgIdsOf(hostHex: string, phys: Float64Array, count: number): string {
  const ids = offsetMsgIdsScratch;
  ids.restart(hostHex, count);
  for (let i = 0; i < count; i++) ids.add(phys[i] as number);
  return ids.text();
}
