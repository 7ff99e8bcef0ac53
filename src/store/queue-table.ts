/**
 * The file store's ConsumeQueues by topic and queue id, and the next queue offset of each queue (ahead of the
 * ConsumeQueue while puts are in flight). The put path assigns offsets here, the ConsumeQueue dispatcher appends
 * here, recovery loads and repairs here.
 */
import { ConsumeQueue } from './consume-queue.js';
import type { BatchDispatch, DispatchRequest, QueueSink } from './dispatch.js';
import type { StorageIO } from './io.js';
import { joinPath } from './io.js';

const loadConcurrency = 32;

export class QueueTable implements QueueSink {
  private readonly byTopic = new Map<string, Map<number, ConsumeQueue>>();
  /** Queues appended to since the last checkpoint. */
  readonly dirty = new Set<ConsumeQueue>();
  /** Next queue offset by `topic@queueId`, set by the put path before the records are visible. */
  private readonly nextOffsets = new Map<string, number>();
  /** `topic@queueId` strings by topic and queue id: a put looks its queue's next offset up by one without building it. */
  private readonly keys = new Map<string, string[]>();
  /** The queue of the last append: a put's records all go to one queue, so most appends skip both map lookups. */
  private lastAppended: ConsumeQueue | undefined;

  constructor(
    private readonly io: StorageIO,
    /** `<root>/consumequeue` */
    private readonly dir: string,
    private readonly segmentBytes: number,
    /** A ConsumeQueue write failed (retried by the next flush). */
    private readonly onWriteError: (reason: string) => void,
  ) {}

  get(topic: string, queueId: number): ConsumeQueue | undefined {
    return this.byTopic.get(topic)?.get(queueId);
  }

  /** The queue, created (empty, no file yet) when missing. */
  queueFor(topic: string, queueId: number): ConsumeQueue {
    let byId = this.byTopic.get(topic);
    if (byId === undefined) {
      byId = new Map();
      this.byTopic.set(topic, byId);
    }
    let q = byId.get(queueId);
    if (q === undefined) {
      q = new ConsumeQueue(
        this.io,
        joinPath(this.dir, topic, String(queueId)),
        topic,
        queueId,
        this.segmentBytes,
        this.onWriteError,
      );
      byId.set(queueId, q);
    }
    return q;
  }

  *all(): IterableIterator<ConsumeQueue> {
    for (const byId of this.byTopic.values()) yield* byId.values();
  }

  get topicCount(): number {
    return this.byTopic.size;
  }

  get queueCount(): number {
    let n = 0;
    for (const byId of this.byTopic.values()) n += byId.size;
    return n;
  }

  queueIdsOf(topic: string): number[] {
    return [...(this.byTopic.get(topic)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** The key of `topic`'s queue `queueId` in the next-offset table (`topic@queueId`), built once per queue. */
  keyOf(topic: string, queueId: number): string {
    let byId = this.keys.get(topic);
    if (byId === undefined) {
      byId = [];
      this.keys.set(topic, byId);
    }
    let key = byId[queueId];
    if (key === undefined) {
      key = `${topic}@${queueId}`;
      byId[queueId] = key;
    }
    return key;
  }

  /** The queue offset the next put to `topic@queueId` (`key`) gets. */
  nextOffset(topic: string, queueId: number, key: string): number {
    const known = this.nextOffsets.get(key);
    if (known !== undefined) return known;
    return this.byTopic.get(topic)?.get(queueId)?.maxOffset ?? 0;
  }

  setNextOffset(key: string, offset: number): void {
    this.nextOffsets.set(key, offset);
  }

  /** After the CommitLog rolled back failed puts: offsets they took are free again (every queue's max is right). */
  resetNextOffsets(): void {
    this.nextOffsets.clear();
  }

  append(d: DispatchRequest): void {
    let q = this.lastAppended;
    if (q === undefined || q.queueId !== d.queueId || q.topic !== d.topic) {
      q = this.queueFor(d.topic, d.queueId);
      this.lastAppended = q;
    }
    q.append(d.phyOffset, d.size, d.tagsCode);
    this.dirty.add(q);
  }

  appendBatch(b: BatchDispatch): void {
    let q = this.lastAppended;
    if (q === undefined || q.queueId !== b.queueId || q.topic !== b.topic) {
      q = this.queueFor(b.topic, b.queueId);
      this.lastAppended = q;
    }
    q.appendPlain(b.phyOffsets, b.sizes, b.batch.items, b.count);
    this.dirty.add(q);
  }

  async appendAt(d: DispatchRequest): Promise<void> {
    const q = this.queueFor(d.topic, d.queueId);
    if (!q.tryAppendAt(d.queueOffset, d.phyOffset, d.size, d.tagsCode))
      await q.recoverPut(d.queueOffset, d.phyOffset, d.size, d.tagsCode);
    this.dirty.add(q);
  }

  /** Finds `<topic>/<queueId>` folders and loads them, many at a time; returns how many. */
  async load(): Promise<number> {
    const found: ConsumeQueue[] = [];
    for (const topic of await this.io.readdir(this.dir)) {
      for (const id of await this.io.readdir(joinPath(this.dir, topic))) {
        if (/^\d+$/.test(id)) found.push(this.queueFor(topic, Number(id)));
      }
    }
    await inParallel(found, (q) => q.load());
    return found.length;
  }

  /** Makes the queues appended to since the last call durable; a queue that fails stays dirty (retried). */
  async flushDirty(): Promise<void> {
    const dirty = [...this.dirty];
    this.dirty.clear();
    let failure: unknown;
    for (const q of dirty) {
      try {
        await q.flush();
      } catch (err) {
        this.dirty.add(q);
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** Forgets a topic's queues and offsets; returns the queues, whose files the caller destroys. */
  remove(topic: string): ConsumeQueue[] {
    const byId = this.byTopic.get(topic);
    this.byTopic.delete(topic);
    this.keys.delete(topic);
    if (this.lastAppended?.topic === topic) this.lastAppended = undefined;
    for (const key of [...this.nextOffsets.keys()]) if (key.startsWith(`${topic}@`)) this.nextOffsets.delete(key);
    const queues = [...(byId?.values() ?? [])];
    for (const q of queues) this.dirty.delete(q);
    return queues;
  }
}

export async function inParallel<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(loadConcurrency, items.length) }, worker));
}
