/**
 * The store's public contract. The broker depends only on this file; `FileMessageStore` and
 * `MemoryMessageStore` implement it and run one shared test suite.
 */
import type { RecordInput } from '../common/record.js';
import type { ConsumeQueue } from './consume-queue.js';
import type { PlainBatchItems } from './dispatch.js';
import type { Picked } from './read-path.js';

/** Outcome of a put, as RocketMQ names it (PutMessageStatus). */
export const PutStatus = {
  PUT_OK: 'PUT_OK',
  FLUSH_DISK_TIMEOUT: 'FLUSH_DISK_TIMEOUT',
  FLUSH_SLAVE_TIMEOUT: 'FLUSH_SLAVE_TIMEOUT',
  SLAVE_NOT_AVAILABLE: 'SLAVE_NOT_AVAILABLE',
  SERVICE_NOT_AVAILABLE: 'SERVICE_NOT_AVAILABLE',
  CREATE_MAPPED_FILE_FAILED: 'CREATE_MAPPED_FILE_FAILED',
  MESSAGE_ILLEGAL: 'MESSAGE_ILLEGAL',
  PROPERTIES_SIZE_EXCEEDED: 'PROPERTIES_SIZE_EXCEEDED',
  OS_PAGE_CACHE_BUSY: 'OS_PAGE_CACHE_BUSY',
  UNKNOWN_ERROR: 'UNKNOWN_ERROR',
} as const;
export type PutStatus = (typeof PutStatus)[keyof typeof PutStatus];

/** Outcome of a read by queue offset (GetMessageStatus). */
export const GetStatus = {
  FOUND: 'FOUND',
  NO_MATCHED_MESSAGE: 'NO_MATCHED_MESSAGE',
  MESSAGE_WAS_REMOVING: 'MESSAGE_WAS_REMOVING',
  OFFSET_FOUND_NULL: 'OFFSET_FOUND_NULL',
  OFFSET_OVERFLOW_BADLY: 'OFFSET_OVERFLOW_BADLY',
  OFFSET_OVERFLOW_ONE: 'OFFSET_OVERFLOW_ONE',
  OFFSET_TOO_SMALL: 'OFFSET_TOO_SMALL',
  NO_MATCHED_LOGIC_QUEUE: 'NO_MATCHED_LOGIC_QUEUE',
  NO_MESSAGE_IN_QUEUE: 'NO_MESSAGE_IN_QUEUE',
} as const;
export type GetStatus = (typeof GetStatus)[keyof typeof GetStatus];

/** What the broker hands the store for one message; the store assigns offsets and the store timestamp. */
export interface MessageInput extends RecordInput {
  /** Tag hash for the ConsumeQueue (Java String.hashCode of TAGS, 0 when none). */
  tagsCode: bigint;
  /** Keys to index (from KEYS, space separated) — the store also indexes UNIQ_KEY. */
  keys?: readonly string[] | undefined;
  uniqKey?: string | undefined;
  /**
   * UNIQ_KEY as ASCII bytes `uniqKeyAt`..`uniqKeyEnd` of `uniqKeyBytes` when `uniqKey` is undefined (a batch item:
   * the index hashes the bytes, no string per message). Read it as text through `uniqKeyTextOf`.
   */
  uniqKeyBytes?: Buffer | undefined;
  uniqKeyAt?: number | undefined;
  uniqKeyEnd?: number | undefined;
  /**
   * With `uniqKeyBytes`: Java's String.hashCode of those bytes (from 0), when the caller computed it while reading
   * them; the index combines it with the topic's hash instead of reading the bytes again.
   */
  uniqKeyHash?: number | undefined;
}

/**
 * A batch of plain messages for one topic and queue given as places in the request's bytes (SEND_BATCH_MESSAGE's
 * items, see dispatch.ts `PlainItem`), with the fields they share: no object per message. "Plain": the sysFlag takes
 * queue offsets (no transaction type) and every item is stored as sent (the put hooks leave it alone); an item's
 * properties missing their last separator get it in the record, as `putMessages` does.
 */
export interface PlainBatch extends PlainBatchItems {
  readonly topic: string;
  readonly queueId: number;
  readonly sysFlag: number;
  readonly bornTimestamp: bigint;
  readonly bornHost: string;
  readonly reconsumeTimes: number;
}

/** UNIQ_KEY of a message or dispatch request as a string, whichever form it carries. */
export function uniqKeyTextOf(m: {
  uniqKey?: string | undefined;
  uniqKeyBytes?: Buffer | undefined;
  uniqKeyAt?: number | undefined;
  uniqKeyEnd?: number | undefined;
}): string | undefined {
  if (m.uniqKey !== undefined || m.uniqKeyBytes === undefined) return m.uniqKey;
  return m.uniqKeyBytes.toString('latin1', m.uniqKeyAt ?? 0, m.uniqKeyEnd ?? 0);
}

export interface PutResult {
  status: PutStatus;
  /** Why, in words, when status is not PUT_OK. */
  remark?: string | undefined;
  /** Physical (CommitLog) offset of the first record written. */
  wroteOffset: bigint;
  wroteBytes: number;
  /** Queue offset of the first message. */
  queueOffset: bigint;
  /** Number of messages written (batch). */
  msgNum: number;
  storeTimestamp: bigint;
  /**
   * offsetMsgId of each message written, in order, joined with ',': what a send answers, built once per put;
   * `offsetMsgIdsOf` (results.ts) splits it for the callers that need one id each.
   */
  offsetMsgIdsText: string;
}

/** Broker-side filter applied while reading a queue (tag hash set, SQL92). */
export interface MessageFilter {
  /** Cheap check on the ConsumeQueue entry. */
  isMatchedByTagsCode(tagsCode: bigint): boolean;
  /**
   * Optional check on a record's properties (SQL92): the encoded `key\u0001value\u0002…` bytes in
   * buf[start, end), handed over undecoded so the filter reads only what it needs.
   */
  isMatchedByProperties?(buf: Buffer, start: number, end: number): boolean;
  /**
   * With `isMatchedByProperties`, the subscription's bits in the SQL92 filter bitmap: an entry in
   * [bornPhyOffset, deadPhyOffset) whose bits miss the mask is skipped without reading its record.
   */
  readonly bitmap?: BitmapProbe | undefined;
}

/** A subscription's place in the filter bitmap (bitmap/filters.ts); `deadPhyOffset` moves when it is replaced. */
export interface BitmapProbe {
  readonly maskHi: number;
  readonly maskLo: number;
  readonly bornPhyOffset: number;
  readonly deadPhyOffset: number;
  /**
   * Entries in [exactFromPhy, exactBelowPhy) holding the mask matched (an exact verdict: no second judging of
   * their properties; bitmap/filters.ts). Absent: no entry's verdict is exact.
   */
  readonly exactFromPhy?: number;
  readonly exactBelowPhy?: number;
  /**
   * The subscription's matches in side queue `q` kept in memory (bitmap/match-lists.ts) while in step with it:
   * candidates without reading the side queue. Undefined: scan it. Not reaching back to `from` (the pull's
   * offset): the older ones are read in the background.
   */
  matchesIn?(q: ConsumeQueue, from: number): BitmapMatches | undefined;
}

/** A subscription's listed matches in one side queue (bitmap/match-lists.ts). */
export interface BitmapMatches {
  /**
   * Up to `want` candidates from queue offset `offset` as the side-queue scan picks them (`removed`: those below
   * `minPhy`; `next`: after the last, or the list's end); undefined when the list does not cover `offset`.
   */
  pick(offset: number, want: number, minPhy: number, bytesMax: number): Picked | undefined;
}

/**
 * The SQL92 filter bitmap (enableCalcFilterBitMap): the broker registers each group's SQL92 subscription; the
 * store judges every new record of the topic by it once and pulls skip the records it did not match.
 */
export interface FilterBitmap {
  /** Registers or replaces (another expression) the group's filter; false when the expression does not compile. */
  register(topic: string, group: string, expression: string): boolean;
  unregister(topic: string, group: string): void;
  /** The bits a pull with `expression` may use, undefined when the bitmap is computed for another or none. */
  probe(topic: string, group: string, expression: string): BitmapProbe | undefined;
}

export interface GetResult {
  status: GetStatus;
  nextBeginOffset: bigint;
  minOffset: bigint;
  maxOffset: bigint;
  /** Records exactly as stored (CommitLog v1 layout), in queue order; concatenated they form a PULL body. */
  records: Buffer[];
  /** Queue offset of each record. */
  queueOffsets: bigint[];
  bufferTotalBytes: number;
  /** The same bytes as `records`, as fewer slices (contiguous records in one): what a PULL response writes. */
  bodyParts?: readonly Buffer[] | undefined;
  /** records.length, without building `records` (the file store builds it only when asked). */
  recordCount?: number | undefined;
  /** True when a replica should serve this consumer (backlog beyond memory); informational. */
  suggestPullingFromSlave: boolean;
  /**
   * Gives the store back the buffers `records` and `bodyParts` slice (shared read blocks): call it once they are
   * no longer used, e.g. when the PULL response reached the socket. Not calling it is safe; it only keeps those
   * buffers from being reused.
   */
  release?: (() => void) | undefined;
}

/** One ConsumeQueue entry, as stored. */
export interface QueueEntry {
  queueOffset: bigint;
  phyOffset: bigint;
  size: number;
  /** The tag hash, or what a system topic keeps there (a timer message's deliver time). */
  tagsCode: bigint;
}

export interface QueryResult {
  records: Buffer[];
  indexLastUpdateTimestamp: bigint;
  indexLastUpdatePhyoffset: bigint;
}

/**
 * Called after messages become visible to consumers (dispatched, and durable under SYNC_FLUSH). The queue offset
 * is a number (a safe integer): a BigInt per message here was an eighth of the batch put path's allocations.
 *
 * Once per record, except for a plain batch (`putPlainBatch`: consecutive records of one queue): there, the record
 * with the highest queue offset of each distinct tags code is told, in the order of those offsets (a batch of many
 * distinct codes may still be told per record). A listener that
 * wakes waiters by (queue, offset reached, tags code) sees the same as from per-record calls; one that needs every
 * record (the timer service's index of the timer topic) must listen to a topic no plain batch is stored to — plain
 * batches come only from client sends, which system topics refuse (`isSendForbiddenTopic`).
 */
export type ArrivalListener = (topic: string, queueId: number, queueOffset: number, tagsCode: bigint) => void;

export interface MessageStore {
  /** Present when the store keeps the SQL92 filter bitmap. */
  readonly filterBitmap?: FilterBitmap | undefined;
  /** Loads, recovers (clean or crash) and starts flush/dispatch/cleanup services. */
  start(): Promise<void>;
  /** Flushes and writes the checkpoint; removes the abort marker. */
  shutdown(): Promise<void>;

  putMessage(msg: MessageInput): Promise<PutResult>;
  /**
   * Writes consecutive records for one topic/queue atomically with respect to readers. The inputs' bytes are
   * encoded before it returns, so a body may be a view of a buffer the caller reuses right after the call.
   */
  putMessages(msgs: readonly MessageInput[]): Promise<PutResult>;
  /**
   * Optional: the same records, queue entries and index entries as `putMessages` of the batch's items as inputs
   * (each item's body and properties, the shared fields, its tag hash, keys and UNIQ_KEY), from the bytes.
   */
  putPlainBatch?(batch: PlainBatch): Promise<PutResult>;

  getMessage(
    topic: string,
    queueId: number,
    offset: bigint,
    maxMsgNums: number,
    maxTotalBytes: number,
    filter?: MessageFilter,
  ): Promise<GetResult>;

  /**
   * ConsumeQueue entries from `offset`, at most `maxCount` (fewer at a file boundary; none outside the queue):
   * what an index kept in a queue (the timer service's) reloads at start without reading the records.
   */
  readQueueEntries(topic: string, queueId: number, offset: bigint, maxCount: number): Promise<QueueEntry[]>;
  getMinOffsetInQueue(topic: string, queueId: number): bigint;
  /** One past the last queue offset (0 for an empty queue). */
  getMaxOffsetInQueue(topic: string, queueId: number): bigint;
  /** Queue offset of the first message stored at or after `timestampMs` (max offset when none). */
  getOffsetInQueueByTime(topic: string, queueId: number, timestampMs: bigint): Promise<bigint>;
  getEarliestMessageTime(topic: string, queueId: number): Promise<bigint | undefined>;
  /** The stored record at a CommitLog offset (for view-by-id and send-back), undefined if absent/removed. */
  lookMessageByOffset(commitLogOffset: bigint): Promise<Buffer | undefined>;
  /**
   * Up to `len` CommitLog bytes at `commitLogOffset` read now (blocking) when they are recent enough to be in the
   * page cache, else undefined (use lookMessageByOffset). Unchecked bytes: the caller checks each record in them.
   */
  readLogNow?(commitLogOffset: number, len: number): Buffer | undefined;
  queryMessage(topic: string, key: string, maxNum: number, beginMs: bigint, endMs: bigint): Promise<QueryResult>;

  getMinPhyOffset(): bigint;
  getMaxPhyOffset(): bigint;
  /** Removes all ConsumeQueues of the topics (the CommitLog keeps the records until retention). */
  deleteTopics(topics: readonly string[]): void;
  /** Queues that exist: topic -> queue ids. */
  queuesOf(topic: string): number[];

  addArrivalListener(listener: ArrivalListener): void;

  /** Why writes are refused right now (disk full, flush error, shutting down), or undefined when they are not. */
  readonlyReason(): string | undefined;
  /** Runtime figures for brokerStatus / metrics. */
  stats(): Record<string, string | number>;
}
