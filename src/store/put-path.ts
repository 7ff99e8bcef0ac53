/**
 * The put path of the file store: checks a message or batch, assigns queue offsets, encodes the records straight
 * into the CommitLog's write buffer and resolves once the CommitLog wrote (and, in SYNC_FLUSH, flushed) them.
 */

import { BoundedMemo } from '../common/memo.js';
import { propertySeparator, propertySeparatorCode } from '../common/properties.js';
import { encodeRecordAfter, encodeRecordInto, recordSize } from '../common/record.js';
import { topicNameBytesMax } from '../common/validate.js';
import type { CommitLog, WriteOutcome } from './commit-log.js';
import type { StoreConfig } from './config.js';
import { type DispatchRequest, takesQueueOffset } from './dispatch.js';
import type { Clock } from './io.js';
import type { QueueTable } from './queue-table.js';
import { refused } from './results.js';
import type { MessageInput, PutResult } from './types.js';
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
  const ro = store.readonlyReason();
  if (ro !== undefined) return Promise.resolve(refused(PutStatus.SERVICE_NOT_AVAILABLE, ro));
  // One topic per put (checked below), so its utf-8 length is measured once.
  const topicBytes = Buffer.byteLength(first.topic);
  if (topicBytes === 0 || topicBytes > topicNameBytesMax) {
    return Promise.resolve(
      refused(PutStatus.MESSAGE_ILLEGAL, `topic length ${topicBytes} not in 1..${topicNameBytesMax}`),
    );
  }
  const propSizes = propSizesFor(msgs.length);
  let total = 0;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i] as MessageInput;
    if (m.topic !== first.topic || m.queueId !== first.queueId) {
      return Promise.resolve(refused(PutStatus.MESSAGE_ILLEGAL, 'a batch must target one topic and queue'));
    }
    if (m.body.length > store.config.maxMessageSize) {
      return Promise.resolve(
        refused(
          PutStatus.MESSAGE_ILLEGAL,
          `body of ${m.body.length} bytes exceeds maxMessageSize ${store.config.maxMessageSize}`,
        ),
      );
    }
    const propBytes = withEndSeparator(m);
    if (propBytes > store.config.maxPropertiesSize) {
      return Promise.resolve(
        refused(
          PutStatus.PROPERTIES_SIZE_EXCEEDED,
          `properties of ${propBytes} bytes exceed ${store.config.maxPropertiesSize}`,
        ),
      );
    }
    const size = recordSize(m.body.length, topicBytes, propBytes);
    propSizes[i] = propBytes;
    total += size;
  }
  if (total + 8 > store.config.mappedFileSizeCommitLog) {
    return Promise.resolve(
      refused(PutStatus.MESSAGE_ILLEGAL, `batch of ${total} bytes does not fit a commitlog segment`),
    );
  }
  const busy = store.commitLog.busyReason(
    total,
    store.config.osPageCacheBusyTimeOutMills,
    store.config.maxUnwrittenPutBytes,
  );
  if (busy !== undefined) return Promise.resolve(refused(PutStatus.OS_PAGE_CACHE_BUSY, `broker busy: ${busy}`));
  const full = store.disk.reserve(total);
  if (full !== undefined) return Promise.resolve(refused(PutStatus.SERVICE_NOT_AVAILABLE, full));
  const key = `${first.topic}@${first.queueId}`;
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
      properties: m.properties,
    });
    ids.add(phy);
    p += size;
    phy += size;
    if (takesQueueOffset(m.sysFlag)) qo++;
  }
  store.queues.setNextOffset(key, qo);
  return new Promise((resolve) => {
    store.commitLog.commit(dispatches, (o: WriteOutcome) => {
      const base: PutResult = {
        status: PutStatus.PUT_OK,
        wroteOffset: BigInt(phyOffset),
        wroteBytes: total,
        queueOffset: BigInt(queueOffset),
        msgNum: msgs.length,
        storeTimestamp: nowBig,
        offsetMsgIdsText: ids.text(),
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

/** Properties sizes of the put being encoded (filled and read within one synchronous call): no array per put. */
let propSizesScratch = new Int32Array(4096);

function propSizesFor(count: number): Int32Array {
  if (propSizesScratch.length < count) propSizesScratch = new Int32Array(count);
  return propSizesScratch;
}

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

/** Upper-case hex digits of each byte value as two character codes, for offsetMsgIds (one per stored message). */
const hexCodes = Array.from({ length: 256 }, (_, b) => b.toString(16).toUpperCase().padStart(2, '0'));
const hexHigh = Uint8Array.from(hexCodes, (h) => h.charCodeAt(0));
const hexLow = Uint8Array.from(hexCodes, (h) => h.charCodeAt(1));
const commaCode = 0x2c;
const hostHexBytes = new BoundedMemo(16, (hostHex: string) => Buffer.from(hostHex, 'latin1'));

/**
 * The comma-separated offsetMsgIds of one put (store host hex + 16 hex digits of the commitlog offset each),
 * written as latin1 bytes into one buffer: one string per put instead of several per message.
 */
class OffsetMsgIdText {
  private readonly buf: Buffer;
  private readonly host: Buffer;
  private pos = 0;

  constructor(hostHex: string, count: number) {
    this.host = hostHexBytes.get(hostHex);
    this.buf = Buffer.allocUnsafe(count * (this.host.length + 17));
  }

  add(phy: number): void {
    const b = this.buf;
    let p = this.pos;
    if (p > 0) b[p++] = commaCode;
    const host = this.host;
    for (let i = 0; i < host.length; i++) b[p++] = host[i] as number;
    const hi = Math.floor(phy / 2 ** 32);
    const lo = phy >>> 0;
    p = writeHex32(b, p, hi);
    this.pos = writeHex32(b, p, lo);
  }

  text(): string {
    return this.buf.toString('latin1', 0, this.pos);
  }
}

function writeHex32(b: Buffer, p: number, v: number): number {
  for (let shift = 24; shift >= 0; shift -= 8) {
    const byte = (v >>> shift) & 0xff;
    b[p++] = hexHigh[byte] as number;
    b[p++] = hexLow[byte] as number;
  }
  return p;
}
