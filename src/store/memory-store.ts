/**
 * A MessageStore held in memory: same contract and test suite as the file store, nothing survives a restart.
 * Records go through the same dispatcher list as the file store's (dispatch.ts), into arrays and a key map.
 */
import { encodeRecord, RecordPos, recordSize } from '../common/record.js';
import { topicNameBytesMax } from '../common/validate.js';
import type { StoreConfig } from './config.js';
import {
  ConsumeQueueDispatcher,
  type Dispatcher,
  type DispatchRequest,
  dispatchAll,
  IndexDispatcher,
  type KeySink,
  type QueueSink,
  takesQueueOffset,
} from './dispatch.js';
import type { Clock } from './io.js';
import { matchesProperties } from './read-filtered.js';
import { refused } from './results.js';
import type {
  ArrivalListener,
  GetResult,
  MessageFilter,
  MessageInput,
  MessageStore,
  PutResult,
  QueryResult,
  QueueEntry,
} from './types.js';
import { GetStatus, PutStatus, uniqKeyTextOf } from './types.js';

interface MemEntry {
  phy: number;
  tagsCode: bigint;
  record: Buffer;
  storeTimestamp: number;
}

/** ConsumeQueues as arrays; an entry's record is looked up by its log offset. */
class MemoryQueues implements QueueSink {
  readonly byTopic = new Map<string, Map<number, MemEntry[]>>();
  constructor(private readonly byPhy: Map<number, Buffer>) {}
  get queueCount(): number {
    let n = 0;
    for (const byId of this.byTopic.values()) n += byId.size;
    return n;
  }
  append(d: DispatchRequest): void {
    this.queueOf(d.topic, d.queueId).push({
      phy: d.phyOffset,
      tagsCode: d.tagsCode,
      record: this.byPhy.get(d.phyOffset) as Buffer,
      storeTimestamp: d.storeTimestamp,
    });
  }
  appendAt(d: DispatchRequest): void {
    const q = this.queueOf(d.topic, d.queueId);
    if (d.queueOffset === q.length) this.append(d);
  }
  queueOf(topic: string, queueId: number): MemEntry[] {
    let byId = this.byTopic.get(topic);
    if (byId === undefined) {
      byId = new Map();
      this.byTopic.set(topic, byId);
    }
    let q = byId.get(queueId);
    if (q === undefined) {
      q = [];
      byId.set(queueId, q);
    }
    return q;
  }
}

/** `topic#key` and `topic#uniqKey` → log offsets and store times. */
class MemoryKeys implements KeySink {
  readonly byKey = new Map<string, Array<{ phy: number; ts: number }>>();
  put(d: DispatchRequest): void {
    if (d.keys !== undefined) for (const k of d.keys) this.add(`${d.topic}#${k}`, d);
    if (d.uniqKey !== undefined) this.add(`${d.topic}#${d.uniqKey}`, d);
  }
  /** Nothing survives a restart, so there is never an index to keep: 0. */
  fileCount(): number {
    return 0;
  }
  private add(key: string, d: DispatchRequest): void {
    const list = this.byKey.get(key) ?? [];
    list.push({ phy: d.phyOffset, ts: d.storeTimestamp });
    this.byKey.set(key, list);
  }
}

export class MemoryMessageStore implements MessageStore {
  private readonly byPhy = new Map<number, Buffer>();
  private readonly memQueues = new MemoryQueues(this.byPhy);
  private readonly queues = this.memQueues.byTopic;
  private readonly keys = new MemoryKeys();
  private readonly byKey = this.keys.byKey;
  /** The same dispatcher list as the file store's, on memory targets. */
  readonly dispatchers: Dispatcher[] = [new ConsumeQueueDispatcher(this.memQueues), new IndexDispatcher(this.keys)];
  private readonly listeners: ArrivalListener[] = [];
  private phy = 0;
  private running = false;

  constructor(
    readonly config: StoreConfig,
    private readonly clock: Clock,
  ) {}

  async start(): Promise<void> {
    this.running = true;
  }
  async shutdown(): Promise<void> {
    this.running = false;
  }
  readonlyReason(): string | undefined {
    return this.running ? undefined : 'store is not running';
  }

  putMessage(msg: MessageInput): Promise<PutResult> {
    return this.putMessages([msg]);
  }

  async putMessages(msgs: readonly MessageInput[]): Promise<PutResult> {
    const first = msgs[0];
    if (first === undefined) return refused(PutStatus.MESSAGE_ILLEGAL, 'empty batch');
    const ro = this.readonlyReason();
    if (ro !== undefined) return refused(PutStatus.SERVICE_NOT_AVAILABLE, ro);
    for (const m of msgs) {
      if (m.topic !== first.topic || m.queueId !== first.queueId)
        return refused(PutStatus.MESSAGE_ILLEGAL, 'a batch must target one topic and queue');
      const tb = Buffer.byteLength(m.topic);
      if (tb === 0 || tb > topicNameBytesMax)
        return refused(PutStatus.MESSAGE_ILLEGAL, `topic length ${tb} not in 1..${topicNameBytesMax}`);
      if (m.body.length > this.config.maxMessageSize)
        return refused(PutStatus.MESSAGE_ILLEGAL, `body of ${m.body.length} bytes exceeds maxMessageSize`);
      const pb = Buffer.byteLength(m.properties);
      if (pb > this.config.maxPropertiesSize)
        return refused(
          PutStatus.PROPERTIES_SIZE_EXCEEDED,
          `properties of ${pb} bytes exceed ${this.config.maxPropertiesSize}`,
        );
      if (recordSize(m.body.length, tb, pb) + 8 > this.config.mappedFileSizeCommitLog)
        return refused(PutStatus.MESSAGE_ILLEGAL, 'message does not fit a segment');
    }
    const now = this.clock.now();
    const wrote = this.phy;
    const queueOffset = this.memQueues.queueOf(first.topic, first.queueId).length;
    let qo = queueOffset;
    const ids: string[] = [];
    const batch: DispatchRequest[] = [];
    for (const m of msgs) {
      const rec = encodeRecord(m, BigInt(qo), BigInt(this.phy), BigInt(now), this.config.storeHost);
      this.byPhy.set(this.phy, rec);
      batch.push({
        topic: m.topic,
        queueId: m.queueId,
        queueOffset: qo,
        phyOffset: this.phy,
        size: rec.length,
        tagsCode: m.tagsCode,
        storeTimestamp: now,
        sysFlag: m.sysFlag,
        keys: m.keys,
        uniqKey: uniqKeyTextOf(m),
      });
      if (takesQueueOffset(m.sysFlag)) qo++;
      ids.push(
        rec
          .subarray(RecordPos.storeHost, RecordPos.storeHost + 8)
          .toString('hex')
          .toUpperCase() + this.phy.toString(16).toUpperCase().padStart(16, '0'),
      );
      this.phy += rec.length;
    }
    dispatchAll(this.dispatchers, batch);
    for (const d of batch) {
      if (!takesQueueOffset(d.sysFlag)) continue;
      for (const l of this.listeners) l(d.topic, d.queueId, d.queueOffset, d.tagsCode);
    }
    return {
      status: PutStatus.PUT_OK,
      wroteOffset: BigInt(wrote),
      wroteBytes: this.phy - wrote,
      queueOffset: BigInt(queueOffset),
      msgNum: msgs.length,
      storeTimestamp: BigInt(now),
      offsetMsgIdsText: ids.join(','),
    };
  }

  async getMessage(
    topic: string,
    queueId: number,
    offset: bigint,
    maxMsgNums: number,
    maxTotalBytes: number,
    filter?: MessageFilter,
  ): Promise<GetResult> {
    const q = this.queues.get(topic)?.get(queueId);
    const max = BigInt(q?.length ?? 0);
    const empty = (status: GetResult['status'], next: bigint): GetResult => ({
      status,
      nextBeginOffset: next,
      minOffset: 0n,
      maxOffset: max,
      records: [],
      queueOffsets: [],
      bufferTotalBytes: 0,
      suggestPullingFromSlave: false,
    });
    if (q === undefined) return empty(GetStatus.NO_MATCHED_LOGIC_QUEUE, 0n);
    if (max === 0n) return empty(GetStatus.NO_MESSAGE_IN_QUEUE, 0n);
    if (offset < 0n) return empty(GetStatus.OFFSET_TOO_SMALL, 0n);
    if (offset === max) return empty(GetStatus.OFFSET_OVERFLOW_ONE, offset);
    if (offset > max) return empty(GetStatus.OFFSET_OVERFLOW_BADLY, 0n);
    const out = empty(GetStatus.FOUND, offset);
    const scan = filter === undefined ? Math.max(1, maxMsgNums) : 2000;
    let i = Number(offset);
    const end = Math.min(q.length, i + scan);
    for (; i < end; i++) {
      const e = q[i] as MemEntry;
      if (
        out.records.length >= maxMsgNums ||
        (out.records.length > 0 && out.bufferTotalBytes + e.record.length > maxTotalBytes)
      )
        break;
      if (filter !== undefined && !filter.isMatchedByTagsCode(e.tagsCode)) continue;
      const byProperties = filter?.isMatchedByProperties;
      if (byProperties !== undefined && !matchesProperties(byProperties, e.record, 0)) continue;
      out.records.push(e.record);
      out.queueOffsets.push(BigInt(i));
      out.bufferTotalBytes += e.record.length;
    }
    out.nextBeginOffset = BigInt(i);
    if (out.records.length === 0) out.status = GetStatus.NO_MATCHED_MESSAGE;
    return out;
  }

  async readQueueEntries(topic: string, queueId: number, offset: bigint, maxCount: number): Promise<QueueEntry[]> {
    const q = this.queues.get(topic)?.get(queueId) ?? [];
    const out: QueueEntry[] = [];
    const from = Math.max(0, Number(offset));
    const end = Math.min(q.length, from + Math.max(0, maxCount));
    for (let i = from; i < end; i++) {
      const e = q[i] as MemEntry;
      out.push({ queueOffset: BigInt(i), phyOffset: BigInt(e.phy), size: e.record.length, tagsCode: e.tagsCode });
    }
    return out;
  }

  getMinOffsetInQueue(): bigint {
    return 0n;
  }
  getMaxOffsetInQueue(topic: string, queueId: number): bigint {
    return BigInt(this.queues.get(topic)?.get(queueId)?.length ?? 0);
  }
  async getOffsetInQueueByTime(topic: string, queueId: number, timestampMs: bigint): Promise<bigint> {
    const q = this.queues.get(topic)?.get(queueId) ?? [];
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((q[mid] as MemEntry).storeTimestamp < Number(timestampMs)) lo = mid + 1;
      else hi = mid;
    }
    return BigInt(lo);
  }
  async getEarliestMessageTime(topic: string, queueId: number): Promise<bigint | undefined> {
    const e = this.queues.get(topic)?.get(queueId)?.[0];
    return e === undefined ? undefined : BigInt(e.storeTimestamp);
  }
  async lookMessageByOffset(commitLogOffset: bigint): Promise<Buffer | undefined> {
    return this.byPhy.get(Number(commitLogOffset));
  }
  async queryMessage(topic: string, key: string, maxNum: number, beginMs: bigint, endMs: bigint): Promise<QueryResult> {
    const hits = (this.byKey.get(`${topic}#${key}`) ?? []).filter(
      (h) => h.ts >= Number(beginMs) && h.ts <= Number(endMs),
    );
    const records = hits
      .reverse()
      .slice(0, maxNum)
      .map((h) => this.byPhy.get(h.phy) as Buffer);
    return { records, indexLastUpdateTimestamp: BigInt(this.clock.now()), indexLastUpdatePhyoffset: BigInt(this.phy) };
  }
  getMinPhyOffset(): bigint {
    return 0n;
  }
  getMaxPhyOffset(): bigint {
    return BigInt(this.phy);
  }
  deleteTopics(topics: readonly string[]): void {
    for (const t of topics) this.queues.delete(t);
  }
  queuesOf(topic: string): number[] {
    return [...(this.queues.get(topic)?.keys() ?? [])].sort((a, b) => a - b);
  }
  addArrivalListener(listener: ArrivalListener): void {
    this.listeners.push(listener);
  }
  stats(): Record<string, string | number> {
    return { kind: 'memory', commitLogMaxOffset: this.phy, topics: this.queues.size };
  }
}
