/** A small in-memory MessageStore for broker tests (the real stores have their own suite). */
import { createOffsetMsgId, encodeRecord } from '../../src/common/record.js';
import {
  type ArrivalListener,
  type GetResult,
  GetStatus,
  type MessageFilter,
  type MessageInput,
  type MessageStore,
  type PutResult,
  PutStatus,
  type QueryResult,
} from '../../src/store/types.js';

interface Entry {
  phy: bigint;
  tagsCode: bigint;
  storeMs: bigint;
}

export class TestMemoryStore implements MessageStore {
  private readonly records = new Map<bigint, Buffer>();
  private readonly queues = new Map<string, Entry[]>();
  private readonly keys = new Map<string, bigint[]>();
  private readonly listeners: ArrivalListener[] = [];
  private phyEnd = 0n;
  readonlyWhy: string | undefined;
  started = 0;

  constructor(private readonly storeHost = '127.0.0.1:10911') {}

  async start(): Promise<void> {
    this.started++;
  }
  async shutdown(): Promise<void> {}

  async putMessage(msg: MessageInput): Promise<PutResult> {
    return this.putMessages([msg]);
  }

  async putMessages(msgs: readonly MessageInput[]): Promise<PutResult> {
    const first = msgs[0] as MessageInput;
    const key = `${first.topic}@${first.queueId}`;
    let q = this.queues.get(key);
    if (q === undefined) {
      q = [];
      this.queues.set(key, q);
    }
    const startPhy = this.phyEnd;
    const startQ = BigInt(q.length);
    const now = BigInt(Date.now());
    const ids: string[] = [];
    let bytes = 0;
    for (const m of msgs) {
      const rec = encodeRecord(m, BigInt(q.length), this.phyEnd, now, this.storeHost);
      this.records.set(this.phyEnd, rec);
      q.push({ phy: this.phyEnd, tagsCode: m.tagsCode, storeMs: now });
      ids.push(createOffsetMsgId(this.storeHost, this.phyEnd));
      for (const k of [...(m.keys ?? []), ...(m.uniqKey ? [m.uniqKey] : [])]) {
        const ik = `${m.topic}#${k}`;
        this.keys.set(ik, [...(this.keys.get(ik) ?? []), this.phyEnd]);
      }
      this.phyEnd += BigInt(rec.length);
      bytes += rec.length;
    }
    for (let i = 0; i < msgs.length; i++) {
      for (const l of this.listeners)
        l(first.topic, first.queueId, startQ + BigInt(i), (msgs[i] as MessageInput).tagsCode);
    }
    return {
      status: PutStatus.PUT_OK,
      wroteOffset: startPhy,
      wroteBytes: bytes,
      queueOffset: startQ,
      msgNum: msgs.length,
      storeTimestamp: now,
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
    const q = this.queues.get(`${topic}@${queueId}`);
    const base = {
      records: [] as Buffer[],
      queueOffsets: [] as bigint[],
      bufferTotalBytes: 0,
      suggestPullingFromSlave: false,
    };
    if (q === undefined)
      return { ...base, status: GetStatus.NO_MATCHED_LOGIC_QUEUE, nextBeginOffset: 0n, minOffset: 0n, maxOffset: 0n };
    const max = BigInt(q.length);
    const r = { ...base, minOffset: 0n, maxOffset: max };
    if (max === 0n) return { ...r, status: GetStatus.NO_MESSAGE_IN_QUEUE, nextBeginOffset: 0n };
    if (offset < 0n) return { ...r, status: GetStatus.OFFSET_TOO_SMALL, nextBeginOffset: 0n };
    if (offset === max) return { ...r, status: GetStatus.OFFSET_OVERFLOW_ONE, nextBeginOffset: offset };
    if (offset > max) return { ...r, status: GetStatus.OFFSET_OVERFLOW_BADLY, nextBeginOffset: max };
    let i = offset;
    for (; i < max && r.records.length < maxMsgNums; i++) {
      const e = q[Number(i)] as Entry;
      if (filter !== undefined && !filter.isMatchedByTagsCode(e.tagsCode)) continue;
      const rec = this.records.get(e.phy) as Buffer;
      if (r.bufferTotalBytes + rec.length > maxTotalBytes && r.records.length > 0) break;
      r.records.push(rec);
      r.queueOffsets.push(i);
      r.bufferTotalBytes += rec.length;
    }
    return { ...r, status: r.records.length > 0 ? GetStatus.FOUND : GetStatus.NO_MATCHED_MESSAGE, nextBeginOffset: i };
  }

  getMinOffsetInQueue(): bigint {
    return 0n;
  }
  getMaxOffsetInQueue(topic: string, queueId: number): bigint {
    return BigInt(this.queues.get(`${topic}@${queueId}`)?.length ?? 0);
  }
  async getOffsetInQueueByTime(topic: string, queueId: number, timestampMs: bigint): Promise<bigint> {
    const q = this.queues.get(`${topic}@${queueId}`) ?? [];
    const i = q.findIndex((e) => e.storeMs >= timestampMs);
    return BigInt(i < 0 ? q.length : i);
  }
  async getEarliestMessageTime(topic: string, queueId: number): Promise<bigint | undefined> {
    return this.queues.get(`${topic}@${queueId}`)?.[0]?.storeMs;
  }
  async lookMessageByOffset(commitLogOffset: bigint): Promise<Buffer | undefined> {
    return this.records.get(commitLogOffset);
  }
  async queryMessage(topic: string, key: string, maxNum: number): Promise<QueryResult> {
    const phys = (this.keys.get(`${topic}#${key}`) ?? []).slice(0, maxNum);
    return {
      records: phys.map((p) => this.records.get(p) as Buffer),
      indexLastUpdateTimestamp: BigInt(Date.now()),
      indexLastUpdatePhyoffset: this.phyEnd,
    };
  }
  getMinPhyOffset(): bigint {
    return 0n;
  }
  getMaxPhyOffset(): bigint {
    return this.phyEnd;
  }
  deleteTopics(topics: readonly string[]): void {
    for (const key of [...this.queues.keys()])
      if (topics.includes(key.slice(0, key.lastIndexOf('@')))) this.queues.delete(key);
  }
  queuesOf(topic: string): number[] {
    return [...this.queues.keys()]
      .filter((k) => k.startsWith(`${topic}@`))
      .map((k) => Number(k.slice(topic.length + 1)));
  }
  addArrivalListener(listener: ArrivalListener): void {
    this.listeners.push(listener);
  }
  readonlyReason(): string | undefined {
    return this.readonlyWhy;
  }
  stats(): Record<string, string | number> {
    return { memoryRecords: this.records.size };
  }
}
