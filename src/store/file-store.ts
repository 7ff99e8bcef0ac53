/** The file-backed MessageStore: CommitLog + ConsumeQueues + IndexFiles + checkpoint, flush and cleanup services. */
import { createLogger } from '../common/log.js';
import { transactionTypeOf } from '../common/message.js';
import { keySeparator, nameSeparator, Prop, propertySeparator } from '../common/properties.js';
import { createOffsetMsgId, RecordPos } from '../common/record.js';
import { type Checkpoint, writeCheckpoint } from './checkpoint.js';
import { CommitLog, type DispatchRequest } from './commit-log.js';
import type { StoreConfig } from './config.js';
import { ConsumeQueue } from './consume-queue.js';
import { lockStoreDir } from './dir-lock.js';
import { IndexService } from './index-service.js';
import type { Clock, StorageIO } from './io.js';
import { joinPath } from './io.js';
import { putMessages } from './put-path.js';
import { ReadAhead } from './read-ahead.js';
import { readMessages } from './read-path.js';
import { type RecoveryReport, recoverStore } from './recovery.js';
import { emptyGet } from './results.js';
import { checkDisk, cleanExpired, type StoreServices, startServices } from './services.js';
import type {
  ArrivalListener,
  GetResult,
  MessageFilter,
  MessageInput,
  MessageStore,
  PutResult,
  QueryResult,
} from './types.js';
import { GetStatus } from './types.js';

const log = createLogger('store');

/** Derives the ConsumeQueue tag hash from stored properties when rebuilding (broker may override). */
export type TagsCodeOf = (topic: string, properties: Map<string, string>, storeTimestamp: number) => bigint;

/** Bytes of read-ahead kept for consumers far behind, and how long an untaken read is kept. */
const readAheadBytesMax = 8 * 1024 * 1024;
const readAheadTtlMs = 3000;

export class FileMessageStore implements MessageStore {
  readonly commitLog: CommitLog;
  readonly index: IndexService;
  readonly queues = new Map<string, Map<number, ConsumeQueue>>();
  readonly dirtyQueues = new Set<ConsumeQueue>();
  /** Reads started for the next pull of consumers far behind (read-path.ts). */
  readonly readAhead = new ReadAhead(readAheadBytesMax, readAheadTtlMs);
  /** Next queue offset by `topic@queueId`, ahead of the ConsumeQueue while puts are in flight (put-path.ts). */
  readonly nextQueueOffsets = new Map<string, number>();
  private readonly listeners: ArrivalListener[] = [];
  /** Topic deletions still removing files (deleteTopics is synchronous; shutdown waits for these). */
  private readonly pendingDeletions = new Set<Promise<void>>();
  /** The first 16 hex digits of every offsetMsgId (store host). */
  readonly hostHex: string;
  /** Every record below this offset has been handed to ConsumeQueues and Index. */
  dispatchedOffset = 0;
  fatalReason: string | undefined;
  diskFullReason: string | undefined;
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private services: StoreServices | undefined;
  private checkpointing: Promise<void> = Promise.resolve();
  /** Releases `<root>/lock` (dir-lock.ts). */
  private unlock: () => Promise<void> = async () => undefined;
  lastRecovery: RecoveryReport | undefined;
  lastDiskRatio = 0;

  constructor(
    readonly config: StoreConfig,
    readonly io: StorageIO,
    readonly clock: Clock,
    readonly tagsCodeOf: TagsCodeOf,
  ) {
    this.hostHex = createOffsetMsgId(config.storeHost, 0n).slice(0, 16);
    this.commitLog = new CommitLog(io, {
      dir: config.storePathCommitLog,
      segmentBytes: config.mappedFileSizeCommitLog,
      syncFlush: config.flushDiskType === 'SYNC_FLUSH',
      syncFlushTimeoutMs: config.syncFlushTimeout,
      onVisible: (batch, end) => this.dispatch(batch, end, true),
      onFatal: (reason) => this.setFatal(reason),
    });
    this.index = new IndexService(io, this.path('index'), config.maxHashSlotNum, config.maxIndexNum, clock, (r) =>
      this.setFatal(r),
    );
  }

  path(...parts: string[]): string {
    return joinPath(this.config.storePathRootDir, ...parts);
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`store cannot start from state ${this.state}`);
    this.unlock = await lockStoreDir(this.config.storePathRootDir);
    try {
      this.lastRecovery = await recoverStore(this);
    } catch (err) {
      await this.unlock();
      throw err;
    }
    this.state = 'running';
    this.services = startServices(this);
  }

  async shutdown(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.services?.stop();
    await Promise.all(this.pendingDeletions);
    await this.commitLog.drained();
    if (this.fatalReason === undefined) {
      await this.commitLog.flush();
      await this.checkpoint();
    }
    for (const q of this.allQueues()) await q.close();
    await this.index.close();
    await this.commitLog.close();
    if (this.fatalReason === undefined) await this.io.unlink(this.path('abort'));
    await this.unlock();
    this.state = 'stopped';
  }

  setFatal(reason: string): void {
    if (this.fatalReason !== undefined) return;
    this.fatalReason = `${reason}; the store is read-only until restart`;
    log.error('store is read-only', { reason });
  }

  /** Runs a disk check and a retention turn now (tests, admin "clean now"); returns segments deleted. */
  async cleanNow(): Promise<number> {
    await checkDisk(this);
    return cleanExpired(this, true);
  }

  /** Re-reads the disk ratio now (puts are refused above diskSpaceWarningLevelRatio). */
  checkDiskNow(): Promise<void> {
    return checkDisk(this);
  }

  readonlyReason(): string | undefined {
    if (this.fatalReason !== undefined) return this.fatalReason;
    if (this.diskFullReason !== undefined) return this.diskFullReason;
    if (this.state !== 'running') return `store is ${this.state === 'new' ? 'not started' : 'shutting down'}`;
    return undefined;
  }

  putMessage(msg: MessageInput): Promise<PutResult> {
    return this.putMessages([msg]);
  }

  putMessages(msgs: readonly MessageInput[]): Promise<PutResult> {
    return putMessages(this, msgs);
  }

  /** The queue offset the next put to `topic@queueId` (`key`) gets. */
  nextQueueOffset(topic: string, queueId: number, key: string): number {
    const known = this.nextQueueOffsets.get(key);
    if (known !== undefined) return known;
    return this.queues.get(topic)?.get(queueId)?.maxOffset ?? 0;
  }

  /** Hands visible records to ConsumeQueues, Index and arrival listeners. */
  dispatch(batch: readonly DispatchRequest[], endOffset: number, notify: boolean): void {
    for (const d of batch) {
      const tx = transactionTypeOf(d.sysFlag);
      if (tx === 0 || tx === 0x8) {
        const q = this.queueFor(d.topic, d.queueId);
        q.append(d.phyOffset, d.size, d.tagsCode);
        this.dirtyQueues.add(q);
      }
      if (this.config.messageIndexEnable) this.index.put(d);
    }
    this.dispatchedOffset = endOffset;
    if (!notify || this.listeners.length === 0) return;
    for (const d of batch) {
      for (const l of this.listeners) {
        try {
          l(d.topic, d.queueId, BigInt(d.queueOffset), d.tagsCode);
        } catch (err) {
          log.warn('arrival listener threw', { err: err as Error });
        }
      }
    }
  }

  queueFor(topic: string, queueId: number): ConsumeQueue {
    let byId = this.queues.get(topic);
    if (byId === undefined) {
      byId = new Map();
      this.queues.set(topic, byId);
    }
    let q = byId.get(queueId);
    if (q === undefined) {
      q = new ConsumeQueue(
        this.io,
        this.path('consumequeue', topic, String(queueId)),
        topic,
        queueId,
        this.config.mappedFileSizeConsumeQueue,
        (r) => this.setFatal(r),
      );
      byId.set(queueId, q);
    }
    return q;
  }

  *allQueues(): IterableIterator<ConsumeQueue> {
    for (const byId of this.queues.values()) yield* byId.values();
  }

  /** Makes ConsumeQueues and Index durable, then records how far they go in the checkpoint. */
  checkpoint(): Promise<void> {
    const run = this.checkpointing.then(async () => {
      const logics = this.dispatchedOffset;
      const dirty = [...this.dirtyQueues];
      this.dirtyQueues.clear();
      for (const q of dirty) await q.flush();
      await this.index.flush();
      if (this.fatalReason !== undefined) return;
      const cp: Checkpoint = {
        physicMsgTimestamp: this.clock.now(),
        logicsMsgTimestamp: this.clock.now(),
        indexMsgTimestamp: this.clock.now(),
        flushedPhyOffset: this.commitLog.flushedOffset,
        logicsPhyOffset: logics,
      };
      await writeCheckpoint(this.io, this.path('checkpoint'), cp);
    });
    this.checkpointing = run.catch((err: Error) => this.setFatal(`checkpoint failed: ${err.message}`));
    return run;
  }

  getMessage(
    topic: string,
    queueId: number,
    offset: bigint,
    maxMsgNums: number,
    maxTotalBytes: number,
    filter?: MessageFilter,
  ): Promise<GetResult> {
    const q = this.queues.get(topic)?.get(queueId);
    if (q === undefined) return Promise.resolve(emptyGet(GetStatus.NO_MATCHED_LOGIC_QUEUE, 0n, 0n, 0n));
    return readMessages(this, q, Number(offset), maxMsgNums, maxTotalBytes, filter);
  }

  getMinOffsetInQueue(topic: string, queueId: number): bigint {
    return BigInt(this.queues.get(topic)?.get(queueId)?.minOffset ?? 0);
  }

  getMaxOffsetInQueue(topic: string, queueId: number): bigint {
    return BigInt(this.queues.get(topic)?.get(queueId)?.maxOffset ?? 0);
  }

  async getOffsetInQueueByTime(topic: string, queueId: number, timestampMs: bigint): Promise<bigint> {
    const q = this.queues.get(topic)?.get(queueId);
    if (q === undefined) return 0n;
    const target = Number(timestampMs);
    let lo = q.minOffset;
    let hi = q.maxOffset;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const ts = await this.storeTimeAt(q, mid);
      if (ts === undefined || ts < target) lo = mid + 1;
      else hi = mid;
    }
    return BigInt(lo);
  }

  async getEarliestMessageTime(topic: string, queueId: number): Promise<bigint | undefined> {
    const q = this.queues.get(topic)?.get(queueId);
    if (q === undefined || q.maxOffset <= q.minOffset) return undefined;
    const ts = await this.storeTimeAt(q, q.minOffset);
    return ts === undefined ? undefined : BigInt(ts);
  }

  private async storeTimeAt(q: ConsumeQueue, offset: number): Promise<number | undefined> {
    const e = await q.entryAt(offset);
    if (e === undefined || e.size === 0) return undefined;
    const b = await this.commitLog.read(e.phyOffset + RecordPos.storeTimestamp, 8);
    return b === undefined ? undefined : Number(b.readBigInt64BE(0));
  }

  lookMessageByOffset(commitLogOffset: bigint): Promise<Buffer | undefined> {
    return this.commitLog.readRecord(Number(commitLogOffset));
  }

  async queryMessage(topic: string, key: string, maxNum: number, beginMs: bigint, endMs: bigint): Promise<QueryResult> {
    const phys = await this.index.query(topic, key, maxNum, Number(beginMs), Number(endMs));
    const records: Buffer[] = [];
    for (const phy of phys) {
      const rec = await this.commitLog.readRecord(phy);
      if (rec !== undefined && recordMatchesKey(rec, topic, key)) records.push(rec);
    }
    return {
      records,
      indexLastUpdateTimestamp: BigInt(this.clock.now()),
      indexLastUpdatePhyoffset: BigInt(this.index.endPhyOffset()),
    };
  }

  getMinPhyOffset(): bigint {
    return BigInt(this.commitLog.minOffset());
  }

  getMaxPhyOffset(): bigint {
    return BigInt(this.commitLog.visibleOffset);
  }

  deleteTopics(topics: readonly string[]): void {
    for (const t of topics) {
      const byId = this.queues.get(t);
      this.queues.delete(t);
      for (const key of [...this.nextQueueOffsets.keys()])
        if (key.startsWith(`${t}@`)) this.nextQueueOffsets.delete(key);
      const queues = [...(byId?.values() ?? [])];
      for (const q of queues) this.dirtyQueues.delete(q);
      // The topic folder goes after its queues stopped writing; shutdown waits for it.
      const deletion: Promise<void> = Promise.all(queues.map((q) => q.destroy()))
        .then(() => this.io.rmrf(this.path('consumequeue', t)))
        .catch((err: Error) => log.warn('cannot delete consume queues', { topic: t, err }))
        .finally(() => this.pendingDeletions.delete(deletion));
      this.pendingDeletions.add(deletion);
    }
  }

  queuesOf(topic: string): number[] {
    return [...(this.queues.get(topic)?.keys() ?? [])].sort((a, b) => a - b);
  }

  addArrivalListener(listener: ArrivalListener): void {
    this.listeners.push(listener);
  }

  stats(): Record<string, string | number> {
    let queues = 0;
    for (const byId of this.queues.values()) queues += byId.size;
    return {
      commitLogMinOffset: this.commitLog.minOffset(),
      commitLogMaxOffset: this.commitLog.visibleOffset,
      commitLogFlushedOffset: this.commitLog.flushedOffset,
      dispatchedOffset: this.dispatchedOffset,
      topics: this.queues.size,
      queues,
      writeCalls: this.commitLog.stats.writeCalls,
      datasyncs: this.commitLog.stats.datasyncs,
      writeBatches: this.commitLog.stats.batches,
      indexFiles: this.index.fileCount(),
      diskUsedRatio: this.lastDiskRatio,
      flushDiskType: this.config.flushDiskType,
      readonlyReason: this.readonlyReason() ?? '',
    };
  }
}

/** Guards against index hash collisions: the record's topic matches and the key is in KEYS or UNIQ_KEY. */
function recordMatchesKey(rec: Buffer, topic: string, key: string): boolean {
  const bodyLen = rec.readInt32BE(RecordPos.bodyLength);
  let p = RecordPos.body + bodyLen;
  const tl = rec.readUInt8(p);
  if (rec.toString('utf8', p + 1, p + 1 + tl) !== topic) return false;
  p += 1 + tl;
  const props = rec.toString('utf8', p + 2, p + 2 + rec.readInt16BE(p));
  for (const pair of props.split(propertySeparator)) {
    const sep = pair.indexOf(nameSeparator);
    const name = pair.slice(0, sep);
    if (name === Prop.uniqKey && pair.slice(sep + 1) === key) return true;
    if (
      name === Prop.keys &&
      pair
        .slice(sep + 1)
        .split(keySeparator)
        .includes(key)
    )
      return true;
  }
  return false;
}
