/**
 * Dispatch: the CommitLog is the truth and every other structure is built from its records by a list of
 * dispatchers (RocketMQ's CommitLogDispatcher list). The same list runs when a record becomes visible (put path),
 * when recovery replays the log, and in the MemoryMessageStore. A new index (a SQL92 bitmap, a timer index) is one
 * more `Dispatcher` in that list; nothing else changes.
 */
import { tagsCodeOf } from '../common/hash.js';
import { transactionTypeOf } from '../common/message.js';
import { decodeProperties, keySeparator, Prop } from '../common/properties.js';
import { RecordPlace, RecordPos } from '../common/record.js';

/** What a dispatcher needs to know about one stored message. */
export interface DispatchRequest {
  topic: string;
  queueId: number;
  queueOffset: number;
  phyOffset: number;
  size: number;
  tagsCode: bigint;
  storeTimestamp: number;
  sysFlag: number;
  keys: readonly string[] | undefined;
  uniqKey: string | undefined;
  /** UNIQ_KEY as ASCII bytes when `uniqKey` is undefined (MessageInput's fields of the same names). */
  uniqKeyBytes?: Buffer | undefined;
  uniqKeyAt?: number | undefined;
  uniqKeyEnd?: number | undefined;
  /** MessageInput's `uniqKeyHash`: the hash of those bytes when the put computed it. */
  uniqKeyHash?: number | undefined;
  /** The encoded properties (`key\u0001value\u0002…`), for an index that judges them (the SQL92 bitmap). */
  properties?: string | Buffer | undefined;
}

/**
 * The records of one plain batch put (`putPlainBatch`: SEND_BATCH_MESSAGE items stored from the request's bytes),
 * as arrays instead of a DispatchRequest per record: one topic and queue, one sysFlag that takes queue offsets, so
 * record `i` has queue offset `queueOffset + i`. A dispatcher without `dispatchBatch` gets each record's request
 * from `requestAt` (built then).
 */
export class BatchDispatch {
  constructor(
    readonly topic: string,
    readonly queueId: number,
    readonly sysFlag: number,
    readonly storeTimestamp: number,
    /** The first record's queue offset. */
    readonly queueOffset: number,
    readonly count: number,
    /** CommitLog offset and size of each record. */
    readonly phyOffsets: Float64Array,
    readonly sizes: Int32Array,
    /** The items' bytes (PlainBatch's `buf` and `items`: UNIQ_KEY places and properties). */
    readonly batch: PlainBatchItems,
  ) {}

  /** Record `i` as a DispatchRequest (for dispatchers that have no `dispatchBatch`). */
  requestAt(i: number): DispatchRequest {
    const b = this.batch;
    const items = b.items;
    const at = items[i * plainItemFields + PlainItem.uniqAt] as number;
    const propAt = items[i * plainItemFields + PlainItem.propAt] as number;
    const propLen = items[i * plainItemFields + PlainItem.propLen] as number;
    return {
      topic: this.topic,
      queueId: this.queueId,
      queueOffset: this.queueOffset + i,
      phyOffset: this.phyOffsets[i] as number,
      size: this.sizes[i] as number,
      tagsCode: plainTagsCode(items, i),
      storeTimestamp: this.storeTimestamp,
      sysFlag: this.sysFlag,
      keys: b.keys?.[i],
      uniqKey: undefined,
      uniqKeyBytes: at < 0 ? undefined : b.buf,
      uniqKeyAt: at < 0 ? undefined : at,
      uniqKeyEnd: at < 0 ? undefined : (items[i * plainItemFields + PlainItem.uniqEnd] as number),
      uniqKeyHash: at < 0 ? undefined : (items[i * plainItemFields + PlainItem.uniqHash] as number),
      properties: b.buf.subarray(propAt, propAt + propLen),
    };
  }
}

/** Fields of one item in `PlainBatchItems.items` (Int32Array, `plainItemFields` per item). */
export const PlainItem = {
  // The first five: where the message lies in the request (record.ts RecordPlace, which encodes from them).
  bodyAt: RecordPlace.bodyAt,
  bodyLen: RecordPlace.bodyLen,
  propAt: RecordPlace.propAt,
  propLen: RecordPlace.propLen,
  flag: RecordPlace.flag,
  /** The ASCII UNIQ_KEY's bytes in `buf` (`uniqAt` -1: none) and Java's String.hashCode of them. */
  uniqAt: 5,
  uniqEnd: 6,
  uniqHash: 7,
  /** The ConsumeQueue tag hash: Java's String.hashCode of TAGS, 0 when none (tagsCodeOf as an int32). */
  tagHash: 8,
} as const;
export const plainItemFields = 9;

/** Item `i`'s ConsumeQueue tag hash as the bigint the general path carries (tagsCodeOf's value). */
export function plainTagsCode(items: Int32Array, i: number): bigint {
  const h = items[i * plainItemFields + PlainItem.tagHash] as number;
  return h === 0 ? 0n : BigInt(h);
}

/** A batch's items as places in its request bytes (see PlainBatch in types.ts). */
export interface PlainBatchItems {
  readonly buf: Buffer;
  readonly count: number;
  /** `plainItemFields` int32 per item (PlainItem). */
  readonly items: Int32Array;
  /** KEYS of each item (undefined: no item has keys). */
  readonly keys: readonly (readonly string[] | undefined)[] | undefined;
}

/** What the CommitLog hands to `onVisible`: single records' requests and plain batches. */
export type VisibleRecords = DispatchRequest | BatchDispatch;

export interface Dispatcher {
  /** A record became visible (put path): synchronous, with no I/O wait per record. */
  dispatch(d: DispatchRequest): void;
  /** A plain batch became visible: the same as `dispatch` of each `requestAt(i)` in order, without the objects. */
  dispatchBatch?(b: BatchDispatch): void;
  /**
   * Recovery, after loading: the log offset from which this target needs records again. `durableOffset` is where
   * the checkpoint says everything was durable, `logStart` the oldest offset in the log (a rebuild from nothing).
   */
  replayFrom(durableOffset: number, logStart: number): number;
  /** Recovery: one record at or past `replayFrom`, maybe already present (may do I/O). */
  replay(d: DispatchRequest): void | Promise<void>;
  /** Recovery, before `replayFrom`: loads what the target keeps on disk (when it keeps files of its own). */
  load?(): Promise<void>;
  /** Recovery, at its end: the log ends at `logEnd`; `rebuiltQueues` (`topic/queueId`) were rebuilt from it. */
  recovered?(logEnd: number, rebuiltQueues: readonly string[]): Promise<void>;
}

/**
 * Prepared and rolled-back transactional records take no queue offset and reach no ConsumeQueue (their commit
 * does), so a record's stored QUEUEOFFSET always equals its ConsumeQueue position.
 */
export function takesQueueOffset(sysFlag: number): boolean {
  const tx = transactionTypeOf(sysFlag);
  return tx === 0 || tx === 0x8;
}

/** Where ConsumeQueue entries go: the file store's queue table or the memory store's arrays. */
export interface QueueSink {
  /** Appends at the queue's end (put path: offsets were assigned in order). */
  append(d: DispatchRequest): void;
  /** `append` of each record of a plain batch, in order (optional: else each `requestAt`). */
  appendBatch?(b: BatchDispatch): void;
  /** Puts the entry at `d.queueOffset` unless it is there already (recovery). */
  appendAt(d: DispatchRequest): void | Promise<void>;
  /** Queues known (0 means they are rebuilt from the log start). */
  readonly queueCount: number;
}

export class ConsumeQueueDispatcher implements Dispatcher {
  constructor(private readonly queues: QueueSink) {}
  dispatch(d: DispatchRequest): void {
    if (takesQueueOffset(d.sysFlag)) this.queues.append(d);
  }
  dispatchBatch(b: BatchDispatch): void {
    if (!takesQueueOffset(b.sysFlag)) return;
    if (this.queues.appendBatch !== undefined) this.queues.appendBatch(b);
    else for (let i = 0; i < b.count; i++) this.queues.append(b.requestAt(i));
  }
  replayFrom(durableOffset: number, logStart: number): number {
    return this.queues.queueCount === 0 ? logStart : durableOffset;
  }
  replay(d: DispatchRequest): void | Promise<void> {
    if (takesQueueOffset(d.sysFlag)) return this.queues.appendAt(d);
  }
}

/** Where `topic#key` / `topic#uniqKey` entries go: IndexFiles, or the memory store's map. */
export interface KeySink {
  put(d: DispatchRequest): void;
  /** `put` of each record of a plain batch, in order (optional: else each `requestAt`). */
  putBatch?(b: BatchDispatch): void;
  /** Index files found on disk (0 means the index is rebuilt from the log start). */
  fileCount(): number;
}

export class IndexDispatcher implements Dispatcher {
  constructor(private readonly index: KeySink) {}
  dispatch(d: DispatchRequest): void {
    this.index.put(d);
  }
  dispatchBatch(b: BatchDispatch): void {
    if (this.index.putBatch !== undefined) this.index.putBatch(b);
    else for (let i = 0; i < b.count; i++) this.index.put(b.requestAt(i));
  }
  replayFrom(durableOffset: number, logStart: number): number {
    return this.index.fileCount() === 0 ? logStart : durableOffset;
  }
  replay(d: DispatchRequest): void {
    this.index.put(d);
  }
}

/** Hands a batch of visible records to every dispatcher, target by target. */
export function dispatchAll(dispatchers: readonly Dispatcher[], batch: readonly VisibleRecords[]): void {
  for (const t of dispatchers) {
    for (const d of batch) {
      if (!(d instanceof BatchDispatch)) t.dispatch(d);
      else if (t.dispatchBatch !== undefined) t.dispatchBatch(d);
      else for (let i = 0; i < d.count; i++) t.dispatch(d.requestAt(i));
    }
  }
}

/** Derives the ConsumeQueue tag hash of a stored record when replaying (a timer index may derive another). */
export type TagsCodeOf = (topic: string, properties: Map<string, string>, storeTimestamp: number) => bigint;

/** The tag hash of the TAGS property: the one rule the broker's send path uses too. */
export const defaultTagsCodeOf: TagsCodeOf = (_topic, props) => tagsCodeOf(props.get(Prop.tags));

/** The dispatch request of a stored record (`size` bytes at `pos` of `buf`, at log offset `phy`). */
export function dispatchOfRecord(
  buf: Buffer,
  pos: number,
  phy: number,
  size: number,
  tagsCodeOfRecord: TagsCodeOf,
): DispatchRequest {
  const bodyLen = buf.readInt32BE(pos + RecordPos.bodyLength);
  let p = pos + RecordPos.body + bodyLen;
  const tl = buf.readUInt8(p);
  const topic = buf.toString('utf8', p + 1, p + 1 + tl);
  p += 1 + tl;
  const encoded = buf.toString('utf8', p + 2, p + 2 + buf.readInt16BE(p));
  const props = decodeProperties(encoded);
  const storeTimestamp = Number(buf.readBigInt64BE(pos + RecordPos.storeTimestamp));
  const keys = props.get(Prop.keys);
  return {
    topic,
    queueId: buf.readInt32BE(pos + RecordPos.queueId),
    queueOffset: Number(buf.readBigInt64BE(pos + RecordPos.queueOffset)),
    phyOffset: phy,
    size,
    tagsCode: tagsCodeOfRecord(topic, props, storeTimestamp),
    storeTimestamp,
    sysFlag: buf.readInt32BE(pos + RecordPos.sysFlag),
    keys: keys === undefined ? undefined : keys.split(keySeparator).filter((k) => k !== ''),
    uniqKey: props.get(Prop.uniqKey),
    properties: encoded,
  };
}
