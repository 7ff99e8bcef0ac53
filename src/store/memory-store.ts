/** A MessageStore held in memory: same contract and test suite as the file store, nothing survives a restart. */
import { javaStringHashCode } from '../common/hash.js';
import { transactionTypeOf } from '../common/message.js';
import { encodeRecord, RecordPos, recordSize } from '../common/record.js';
import { topicNameBytesMax } from '../common/validate.js';
import type { StoreConfig } from './config.js';
import type { Clock } from './io.js';
import { refused } from './results.js';
import type {
  ArrivalListener,
  GetResult,
  MessageFilter,
  MessageInput,
  MessageStore,
  PutResult,
  QueryResult,
} from './types.js';
import { GetStatus, PutStatus } from './types.js';

interface MemEntry {
  phy: number;
  tagsCode: bigint;
  record: Buffer;
  storeTimestamp: number;
}

export class MemoryMessageStore implements MessageStore {
  private readonly queues = new Map<string, Map<number, MemEntry[]>>();
  private readonly byPhy = new Map<number, Buffer>();
  private readonly byKey = new Map<string, Array<{ phy: number; ts: number }>>();
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
    const q = this.queueOf(first.topic, first.queueId);
    const now = this.clock.now();
    const wrote = this.phy;
    const queueOffset = q.length;
    const ids: string[] = [];
    const arrivals: Array<[number, bigint]> = [];
    for (const m of msgs) {
      const qo = q.length;
      const rec = encodeRecord(m, BigInt(qo), BigInt(this.phy), BigInt(now), this.config.storeHost);
      const tx = transactionTypeOf(m.sysFlag);
      if (tx === 0 || tx === 0x8) {
        q.push({ phy: this.phy, tagsCode: m.tagsCode, record: rec, storeTimestamp: now });
        arrivals.push([qo, m.tagsCode]);
      }
      this.byPhy.set(this.phy, rec);
      for (const k of [...(m.keys ?? []), ...(m.uniqKey !== undefined ? [m.uniqKey] : [])]) {
        const key = `${m.topic}#${k}`;
        const list = this.byKey.get(key) ?? [];
        list.push({ phy: this.phy, ts: now });
        this.byKey.set(key, list);
      }
      ids.push(
        rec
          .subarray(RecordPos.storeHost, RecordPos.storeHost + 8)
          .toString('hex')
          .toUpperCase() + this.phy.toString(16).toUpperCase().padStart(16, '0'),
      );
      this.phy += rec.length;
    }
    // Visible only after the put resolves' microtask turn, like the file store's dispatch-then-ack order.
    for (const [qo, tags] of arrivals) for (const l of this.listeners) l(first.topic, first.queueId, BigInt(qo), tags);
    return {
      status: PutStatus.PUT_OK,
      wroteOffset: BigInt(wrote),
      wroteBytes: this.phy - wrote,
      queueOffset: BigInt(queueOffset),
      msgNum: msgs.length,
      storeTimestamp: BigInt(now),
      offsetMsgIds: ids,
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
      out.records.push(e.record);
      out.queueOffsets.push(BigInt(i));
      out.bufferTotalBytes += e.record.length;
    }
    out.nextBeginOffset = BigInt(i);
    if (out.records.length === 0) out.status = GetStatus.NO_MATCHED_MESSAGE;
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

  private queueOf(topic: string, queueId: number): MemEntry[] {
    let byId = this.queues.get(topic);
    if (byId === undefined) {
      byId = new Map();
      this.queues.set(topic, byId);
    }
    let q = byId.get(queueId);
    if (q === undefined) {
      q = [];
      byId.set(queueId, q);
    }
    return q;
  }
}

/** Kept for symmetry with the file store's default tag hash. */
export function tagsCodeOfTag(tag: string | undefined): bigint {
  return tag === undefined || tag === '' ? 0n : BigInt(javaStringHashCode(tag));
}
