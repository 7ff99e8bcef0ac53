/**
 * The put path of the file store: checks a message or batch, assigns queue offsets, encodes the records straight
 * into the CommitLog's write buffer and resolves once the CommitLog wrote (and, in SYNC_FLUSH, flushed) them.
 */
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
  const sizes: number[] = [];
  let total = 0;
  for (const m of msgs) {
    if (m.topic !== first.topic || m.queueId !== first.queueId) {
      return Promise.resolve(refused(PutStatus.MESSAGE_ILLEGAL, 'a batch must target one topic and queue'));
    }
    const topicBytes = Buffer.byteLength(m.topic);
    if (topicBytes === 0 || topicBytes > topicNameBytesMax) {
      return Promise.resolve(
        refused(PutStatus.MESSAGE_ILLEGAL, `topic length ${topicBytes} not in 1..${topicNameBytesMax}`),
      );
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
    sizes.push(size, topicBytes, propBytes);
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
  const ids: string[] = [];
  let p = pos;
  let phy = phyOffset;
  let prev: MessageInput | undefined;
  let prevPos = 0;
  let qo = queueOffset;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i] as MessageInput;
    const size = sizes[i * 3] as number;
    const topicBytes = sizes[i * 3 + 1] as number;
    const propBytes = sizes[i * 3 + 2] as number;
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
      properties: m.properties,
    });
    ids.push(store.hostHex + offsetHex(phy));
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
        offsetMsgIds: ids,
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

/** Upper-case hex of each byte value, for offsetMsgIds (one per stored message). */
const hexByte = Array.from({ length: 256 }, (_, b) => b.toString(16).toUpperCase().padStart(2, '0'));
let highHexOf = -1;
let highHex = '';

/** A commitlog offset as 16 upper-case hex digits; the high 32 bits change once per 4 GiB, so they are cached. */
function offsetHex(phy: number): string {
  const hi = Math.floor(phy / 2 ** 32);
  if (hi !== highHexOf) {
    highHexOf = hi;
    highHex = hi.toString(16).toUpperCase().padStart(8, '0');
  }
  const lo = phy >>> 0;
  return highHex + hexByte[lo >>> 24] + hexByte[(lo >>> 16) & 0xff] + hexByte[(lo >>> 8) & 0xff] + hexByte[lo & 0xff];
}
