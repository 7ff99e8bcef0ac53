/**
 * The file-backed MessageStore: CommitLog + the dispatch list (ConsumeQueues, IndexFiles) + checkpoint, flush,
 * disk and retention services. Each part gets the narrow objects it works with, never the store.
 */
import { createLogger } from '../common/log.js';
import { keySeparator, nameSeparator, Prop, propertySeparator } from '../common/properties.js';
import { checkRecord, createOffsetMsgId, RecordPos } from '../common/record.js';
import { FilterBitmapIndex } from './bitmap/bitmap-index.js';
import type { PredicateCompiler } from './bitmap/filters.js';
import { type Checkpoint, writeCheckpoint } from './checkpoint.js';
import { CommitLog } from './commit-log.js';
import type { StoreConfig } from './config.js';
import { type ConsumeQueue, cqEntryBytes, decodeEntry } from './consume-queue.js';
import { StoreDamage } from './damage.js';
import { lockStoreDir } from './dir-lock.js';
import {
  BatchDispatch,
  ConsumeQueueDispatcher,
  type Dispatcher,
  dispatchAll,
  IndexDispatcher,
  PlainItem,
  plainItemFields,
  plainTagsCode,
  type TagsCodeOf,
  takesQueueOffset,
  type VisibleRecords,
} from './dispatch.js';
import { IndexService } from './index-service.js';
import type { Clock, StorageIO } from './io.js';
import { joinPath } from './io.js';
import { type PutTarget, putMessages, putPlainBatch } from './put-path.js';
import { QueueTable } from './queue-table.js';
import { ReadAhead } from './read-ahead.js';
import { aheadStats, dropAheadsOf } from './read-bitmap-ahead.js';
import { type ReadSource, readMessages } from './read-path.js';
import { ReadWorker, readWorkerStats } from './read-worker.js';
import { type RecoveryReport, recoverStore } from './recovery.js';
import { emptyGet } from './results.js';
import { RetryEpisode } from './retry-episode.js';
import { DiskWatch, Retention, startServices } from './services.js';
import type {
  ArrivalListener,
  GetResult,
  MessageFilter,
  MessageInput,
  MessageStore,
  PlainBatch,
  PutResult,
  QueryResult,
  QueueEntry,
} from './types.js';
import { GetStatus } from './types.js';

const log = createLogger('store');

/** Bytes of read-ahead kept for consumers far behind, and how long an untaken read is kept. */
const readAheadBytesMax = 8 * 1024 * 1024;
const readAheadTtlMs = 3000;

/** A plain batch of more distinct tag codes than this tells its arrivals per record (tellBatchArrival). */
const batchArrivalCodesMax = 8;
/** tellBatchArrival's codes seen and the index of the last record of each. */
const batchArrivalHashes = new Int32Array(batchArrivalCodesMax);
const batchArrivalAt = new Int32Array(batchArrivalCodesMax);

export class FileMessageStore implements MessageStore, PutTarget, ReadSource {
  readonly commitLog: CommitLog;
  readonly index: IndexService;
  readonly queues: QueueTable;
  /** The SQL92 filter bitmap (enableCalcFilterBitMap), when the broker asked for it. */
  readonly filterBitmap: FilterBitmapIndex | undefined;
  /** Every target a visible record is handed to, in order; a new index is one more entry. */
  readonly dispatchers: Dispatcher[] = [];
  /** Reads started for the next pull of consumers far behind (read-path.ts). */
  readonly readAhead = new ReadAhead(readAheadBytesMax, readAheadTtlMs);
  readonly disk: DiskWatch;
  readonly retention: Retention;
  /** Damage recovery found and records the read path refused (damage.ts). */
  readonly damage = new StoreDamage();
  private readonly listeners: ArrivalListener[] = [];
  /** True while tellBatchArrival's listeners run (its scratch arrays are in use). */
  private tellingBatch = false;
  /** Topic deletions still removing files (deleteTopics is synchronous; shutdown waits for these). */
  private readonly pendingDeletions = new Set<Promise<void>>();
  /** The first 16 hex digits of every offsetMsgId (store host). */
  readonly hostHex: string;
  /** Log end at start: records from here were written by this process (read-path.ts skips their hot CRC). */
  writtenSinceStartFrom = Number.POSITIVE_INFINITY;
  /** Every record below this offset has been handed to the dispatchers. */
  dispatchedOffset = 0;
  /** A failing checkpoint (or the ConsumeQueue / index flush under it) is retried with back-off, never fatal. */
  private readonly checkpointEpisode = new RetryEpisode('checkpoint (ConsumeQueue, index and checkpoint files)', log);
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopServices: (() => void) | undefined;
  private checkpointing: Promise<void> = Promise.resolve();
  /** Releases `<root>/lock` (dir-lock.ts). */
  private unlock: () => Promise<void> = async () => undefined;
  lastRecovery: RecoveryReport | undefined;

  constructor(
    readonly config: StoreConfig,
    readonly io: StorageIO,
    readonly clock: Clock,
    readonly tagsCodeOf: TagsCodeOf,
    /** Compiles SQL92 subscriptions for the filter bitmap; without it the store keeps no bitmap. */
    bitmapCompiler?: PredicateCompiler,
  ) {
    // Retried by the next checkpoint, whose episode logs the failure once.
    const onWriteError = (reason: string) => log.debug('write failed, retried by the next checkpoint', { reason });
    this.hostHex = createOffsetMsgId(config.storeHost, 0n).slice(0, 16);
    this.commitLog = new CommitLog(io, {
      dir: config.storePathCommitLog,
      segmentBytes: config.mappedFileSizeCommitLog,
      syncFlush: config.flushDiskType === 'SYNC_FLUSH',
      syncFlushTimeoutMs: config.syncFlushTimeout,
      onVisible: (batch, end) => this.onVisible(batch, end),
      // ENOSPC and friends: know the real free space before the next put.
      onRefuse: () => void this.disk.check().catch((err: Error) => log.warn('statfs failed', { err })),
      onRolledBack: () => this.queues.resetNextOffsets(),
      sparseReadWorker: config.sparseReadWorkerEnable,
      preallocAheadBytes: config.commitLogPreallocateAheadBytes,
      allocateSegments: config.commitLogAllocateSegments,
    });
    this.queues = new QueueTable(io, this.path('consumequeue'), config.mappedFileSizeConsumeQueue, onWriteError);
    this.index = new IndexService(
      io,
      this.path('index'),
      config.maxHashSlotNum,
      config.maxIndexNum,
      clock,
      onWriteError,
    );
    this.dispatchers.push(new ConsumeQueueDispatcher(this.queues));
    if (config.messageIndexEnable) this.dispatchers.push(new IndexDispatcher(this.index));
    this.filterBitmap =
      bitmapCompiler === undefined
        ? undefined
        : new FilterBitmapIndex(
            io,
            this.path('filterbitmap'),
            config.mappedFileSizeConsumeQueue,
            bitmapCompiler,
            this.queues,
            () => this.dispatchedOffset,
            onWriteError,
            config.filterMatchListEnable,
          );
    if (this.filterBitmap !== undefined) this.dispatchers.push(this.filterBitmap);
    this.disk = new DiskWatch(io, config, () => this.commitLog.allocatedAheadBytes());
    this.retention = new Retention(io, config, clock, this.disk, this.commitLog, this.queues, this.index, [
      ...(this.filterBitmap === undefined ? [] : [this.filterBitmap]),
    ]);
  }

  path(...parts: string[]): string {
    return joinPath(this.config.storePathRootDir, ...parts);
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`store cannot start from state ${this.state}`);
    this.unlock = await lockStoreDir(this.config.storePathRootDir);
    try {
      this.lastRecovery = await recoverStore(this);
      this.dispatchedOffset = this.writtenSinceStartFrom = this.lastRecovery.logEnd;
      await this.io.writeFileDurable(this.path('abort'), Buffer.alloc(0));
      await this.checkpoint();
      await this.disk
        .check()
        .catch((err: Error) => log.warn('statfs failed; the disk watermark waits for the next check', { err }));
    } catch (err) {
      await this.unlock();
      throw err;
    }
    this.state = 'running';
    this.stopServices = startServices(this);
    // Filtered pulls' sparse reads go to the read worker: with filters registered (their consumers pull again
    // soon), it is started now rather than by the first such pull, whose consumers then waited for it to load.
    if (this.config.sparseReadWorkerEnable && this.filterBitmap?.hasFilters() === true) ReadWorker.shared(true);
  }

  async shutdown(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.stopServices?.();
    await Promise.all(this.pendingDeletions);
    await this.commitLog.drained();
    // Anything not made durable here leaves the abort marker: the next start recovers as after a crash.
    let clean = this.commitLog.refusalReason() === undefined;
    if (clean) {
      try {
        await this.commitLog.flush();
        await this.checkpoint();
      } catch (err) {
        clean = false;
        log.error('shutdown could not make everything durable; the next start recovers as after a crash', {
          err: err as Error,
        });
      }
    }
    await dropAheadsOf(this);
    for (const q of this.queues.all()) await q.close();
    await this.filterBitmap?.close();
    await this.index.close().catch((err: Error) => log.error('index close failed', { err }));
    await this.commitLog.close();
    if (clean) await this.io.unlink(this.path('abort'));
    await this.unlock();
    this.state = 'stopped';
  }

  /** Re-reads the disk ratio now (puts are refused above diskSpaceWarningLevelRatio). */
  checkDiskNow(): Promise<void> {
    return this.disk.check();
  }

  readonlyReason(): string | undefined {
    const refused = this.commitLog.refusalReason();
    if (refused !== undefined) return refused;
    const full = this.disk.refusal();
    if (full !== undefined) return full;
    if (this.state !== 'running') return `store is ${this.state === 'new' ? 'not started' : 'shutting down'}`;
    return undefined;
  }

  putMessage(msg: MessageInput): Promise<PutResult> {
    return this.putMessages([msg]);
  }

  putMessages(msgs: readonly MessageInput[]): Promise<PutResult> {
    return putMessages(this, msgs);
  }

  putPlainBatch(batch: PlainBatch): Promise<PutResult> {
    return putPlainBatch(this, batch);
  }

  /** Hands visible records to the dispatchers, then tells arrival listeners about the consumable ones. */
  private onVisible(batch: readonly VisibleRecords[], endOffset: number): void {
    dispatchAll(this.dispatchers, batch);
    this.dispatchedOffset = endOffset;
    if (this.listeners.length === 0) return;
    for (const d of batch) {
      if (!takesQueueOffset(d.sysFlag)) continue;
      if (d instanceof BatchDispatch) this.tellBatchArrival(d);
      else this.tellArrival(d.topic, d.queueId, d.queueOffset, d.tagsCode);
    }
  }

  /**
   * A plain batch's arrivals (ArrivalListener): once per distinct tag hash with the highest offset carrying it. A
   * held pull or POP waiter wakes when a record it takes is at or past its offset; the highest such record of a tag
   * code answers that for all of them. Most batches carry one tag code: one call instead of one per record. One pass
   * from the last record down keeps the codes seen (at most batchArrivalCodesMax: a batch of more is told per record,
   * as every other put is).
   */
  private tellBatchArrival(d: BatchDispatch): void {
    const items = d.batch.items;
    const seenHash = batchArrivalHashes;
    const seenAt = batchArrivalAt;
    // The scratch is shared: a listener that put a plain batch synchronously (none does) would be told per record.
    let k = this.tellingBatch ? batchArrivalCodesMax + 1 : 0;
    for (let i = d.count - 1; i >= 0 && k <= batchArrivalCodesMax; i--) {
      const h = items[i * plainItemFields + PlainItem.tagHash] as number;
      let j = 0;
      while (j < k && seenHash[j] !== h) j++;
      if (j < k) continue;
      if (k === batchArrivalCodesMax) k++;
      else {
        seenHash[k] = h;
        seenAt[k] = i;
        k++;
      }
    }
    if (k > batchArrivalCodesMax) {
      for (let i = 0; i < d.count; i++)
        this.tellArrival(d.topic, d.queueId, d.queueOffset + i, plainTagsCode(items, i));
      return;
    }
    this.tellingBatch = true;
    try {
      // Found from the last record down: told in ascending offsets.
      for (let j = k - 1; j >= 0; j--) {
        const i = seenAt[j] as number;
        this.tellArrival(d.topic, d.queueId, d.queueOffset + i, plainTagsCode(items, i));
      }
    } finally {
      this.tellingBatch = false;
    }
  }

  private tellArrival(topic: string, queueId: number, queueOffset: number, tagsCode: bigint): void {
    for (const l of this.listeners) {
      try {
        l(topic, queueId, queueOffset, tagsCode);
      } catch (err) {
        log.warn('arrival listener threw', { err: err as Error });
      }
    }
  }

  /** The periodic checkpoint: skipped while the back-off after a failed one runs. */
  checkpointTurn(): Promise<void> {
    if (!this.checkpointEpisode.due()) return Promise.resolve();
    return this.checkpoint().catch(() => undefined);
  }

  /**
   * Makes ConsumeQueues and Index durable, then records how far they go in the checkpoint. A failure (EMFILE,
   * ENOSPC, EIO) leaves the previous checkpoint in place, which only means a longer replay after a crash: it is
   * retried, never fatal.
   */
  checkpoint(): Promise<void> {
    const run = this.checkpointing.then(async () => {
      const logics = this.dispatchedOffset;
      // Taken with `logics`: the filters that computed every bitmap entry below it (bitmap-index.ts).
      const filters = this.filterBitmap?.snapshot();
      await this.queues.flushDirty();
      await this.index.flush();
      if (filters !== undefined) await this.filterBitmap?.flush(filters);
      const cp: Checkpoint = {
        physicMsgTimestamp: this.clock.now(),
        logicsMsgTimestamp: this.clock.now(),
        indexMsgTimestamp: this.clock.now(),
        flushedPhyOffset: this.commitLog.flushedOffset,
        logicsPhyOffset: logics,
      };
      await writeCheckpoint(this.io, this.path('checkpoint'), cp);
    });
    this.checkpointing = run.then(
      () => this.checkpointEpisode.succeeded(),
      (err: unknown) => this.checkpointEpisode.failed(err),
    );
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
    const q = this.queues.get(topic, queueId);
    if (q === undefined) return Promise.resolve(emptyGet(GetStatus.NO_MATCHED_LOGIC_QUEUE, 0n, 0n, 0n));
    return readMessages(this, q, Number(offset), maxMsgNums, maxTotalBytes, filter);
  }

  async readQueueEntries(topic: string, queueId: number, offset: bigint, maxCount: number): Promise<QueueEntry[]> {
    const q = this.queues.get(topic, queueId);
    if (q === undefined) return [];
    const from = Math.max(Number(offset), q.minOffset);
    const buf = await q.read(from, maxCount);
    const out: QueueEntry[] = [];
    for (let pos = 0, i = from; pos + cqEntryBytes <= buf.length; pos += cqEntryBytes, i++) {
      const e = decodeEntry(buf, pos);
      out.push({ queueOffset: BigInt(i), phyOffset: BigInt(e.phyOffset), size: e.size, tagsCode: e.tagsCode });
    }
    return out;
  }

  getMinOffsetInQueue(topic: string, queueId: number): bigint {
    return BigInt(this.queues.get(topic, queueId)?.minOffset ?? 0);
  }

  getMaxOffsetInQueue(topic: string, queueId: number): bigint {
    return BigInt(this.queues.get(topic, queueId)?.maxOffset ?? 0);
  }

  async getOffsetInQueueByTime(topic: string, queueId: number, timestampMs: bigint): Promise<bigint> {
    const q = this.queues.get(topic, queueId);
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
    const q = this.queues.get(topic, queueId);
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

  async lookMessageByOffset(commitLogOffset: bigint): Promise<Buffer | undefined> {
    return this.intactRecord(Number(commitLogOffset));
  }

  readLogNow(commitLogOffset: number, len: number): Buffer | undefined {
    return this.commitLog.readNow(commitLogOffset, len);
  }

  /** The record at `phy`, undefined when absent or damaged (never served with a failing BODYCRC). */
  private async intactRecord(phy: number): Promise<Buffer | undefined> {
    const rec = await this.commitLog.readRecord(phy);
    if (rec === undefined) return undefined;
    const bad = checkRecord(rec, 0, true);
    if (typeof bad !== 'string') return rec;
    this.damage.refusedRead(phy, bad, () => this.segmentFileOf(phy));
    return undefined;
  }

  /** The CommitLog segment file holding `phy` (for damage reports). */
  /** The filter bitmap side queue of a ConsumeQueue, when the topic has one (read-bitmap.ts). */
  bitmapQueueOf(topic: string, queueId: number): ConsumeQueue | undefined {
    return this.filterBitmap?.queues.get(topic, queueId);
  }

  segmentFileOf(phy: number): string {
    return this.commitLog.segmentPath(phy - (phy % this.commitLog.segmentBytes));
  }

  async queryMessage(topic: string, key: string, maxNum: number, beginMs: bigint, endMs: bigint): Promise<QueryResult> {
    const phys = await this.index.query(topic, key, maxNum, Number(beginMs), Number(endMs));
    const records: Buffer[] = [];
    for (const phy of phys) {
      const rec = await this.intactRecord(phy);
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
      if (this.filterBitmap !== undefined) {
        const bitmaps = this.filterBitmap
          .deleteTopic(t)
          .catch((err: Error) => log.warn('cannot delete filter bitmap queues', { topic: t, err }))
          .finally(() => this.pendingDeletions.delete(bitmaps));
        this.pendingDeletions.add(bitmaps);
      }
      const queues = this.queues.remove(t);
      // The topic folder goes after its queues stopped writing; shutdown waits for it.
      const deletion: Promise<void> = Promise.all(queues.map((q) => q.destroy()))
        .then(() => this.io.rmrf(this.path('consumequeue', t)))
        .catch((err: Error) => log.warn('cannot delete consume queues', { topic: t, err }))
        .finally(() => this.pendingDeletions.delete(deletion));
      this.pendingDeletions.add(deletion);
    }
  }

  queuesOf(topic: string): number[] {
    return this.queues.queueIdsOf(topic);
  }

  addArrivalListener(listener: ArrivalListener): void {
    this.listeners.push(listener);
  }

  stats(): Record<string, string | number> {
    return {
      commitLogMinOffset: this.commitLog.minOffset(),
      commitLogMaxOffset: this.commitLog.visibleOffset,
      commitLogFlushedOffset: this.commitLog.flushedOffset,
      dispatchedOffset: this.dispatchedOffset,
      topics: this.queues.topicCount,
      queues: this.queues.queueCount,
      writeCalls: this.commitLog.stats.writeCalls,
      datasyncs: this.commitLog.stats.datasyncs,
      writeBatches: this.commitLog.stats.batches,
      // Failed puts, the failed ranges cut from the log, and failed bytes not cut yet (see CommitLog.stats).
      failedPuts: this.commitLog.stats.failedPuts,
      commitLogRollBacks: this.commitLog.stats.rollBacks,
      unrolledFailedBytes: this.commitLog.stats.unrolledFailedBytes,
      timedOutPutsCut: this.commitLog.stats.timedOutPutsCut,
      checkpointFailures: this.checkpointEpisode.failures,
      indexFiles: this.index.fileCount(),
      diskUsedRatio: this.disk.ratio,
      // Zeros written ahead of the CommitLog's tail (prealloc.ts): disk in use that holds no data.
      commitLogPreallocatedBytes: this.commitLog.prealloc.aheadOf(this.commitLog.writtenOffset),
      commitLogPreallocWaits: this.commitLog.prealloc.stats.writesWaited,
      commitLogPreallocFailures: this.commitLog.prealloc.stats.failures,
      // Segments whose blocks were allocated before their first write (allocate.ts), and failed allocations.
      commitLogAllocatedSegments: this.commitLog.stats.allocatedSegments,
      commitLogAllocateFailures: this.commitLog.stats.allocateFailures,
      flushDiskType: this.config.flushDiskType,
      readonlyReason: this.readonlyReason() ?? '',
      storeDamageFound: this.damage.found.length,
      storeRecordsSkippedCrc: this.damage.recordsSkippedCrc,
      storeBytesSkipped: this.damage.bytesSkipped,
      storeQueuesRebuilt: this.damage.queuesRebuilt,
      storeLastRecovery: recoverySummary(this.lastRecovery),
      ...(this.filterBitmap === undefined
        ? {}
        : {
            filterBitmapQueues: this.filterBitmap.queues.queueCount,
            filterBitmapEntriesSkipped: this.filterBitmap.entriesSkipped,
            // Filtered pulls read ahead in the read worker: started, taken by their pull (of which taken back
            // before the worker began them), dropped (bench:sql92 reports the hit rate).
            sparseReadAheadScheduled: aheadStats.scheduled,
            sparseReadAheadTaken: aheadStats.taken,
            sparseReadAheadTakenBack: aheadStats.takenBack,
            sparseReadAheadDropped: aheadStats.dropped,
            // Of those the worker read: settled when their pull came, settled by its look at the worker's done
            // ring (the worker's message not handled yet), waited for (and how long in all, µs).
            sparseReadAheadReady: aheadStats.ready,
            sparseReadAheadPolled: aheadStats.polled,
            sparseReadAheadWaited: aheadStats.waited,
            sparseReadAheadWaitedUs: Math.round(aheadStats.waitedMs * 1000),
            // Switches of sparse reads to the thread pool (slow blocking reads), pauses of the read worker (late
            // wake-ups), its jobs.
            sparseReadsToThreadPool: this.commitLog.sparse.sparseAsyncSwitches,
            sparseReadWorkerPauses: readWorkerStats().pauses,
            sparseReadWorkerJobs: readWorkerStats().jobs,
          }),
    };
  }
}

/** One line for brokerStatus: how the last start went. */
function recoverySummary(r: RecoveryReport | undefined): string {
  if (r === undefined) return '';
  const parts = [
    r.clean ? 'clean' : 'after a crash',
    `checked ${r.logEnd - r.checkedFrom} bytes from ${r.checkedFrom}`,
    `${r.damageFound} damage findings`,
  ];
  if (r.skipped.length > 0) parts.push(`${r.skipped.length} damaged ranges skipped`);
  if (r.truncated !== undefined) parts.push(`log cut at ${r.truncated.offset} (${r.truncated.reason})`);
  if (r.rebuiltQueues.length > 0) parts.push(`rebuilt ${r.rebuiltQueues.join(' ')}`);
  if (r.indexRebuilt) parts.push('index rebuilt');
  parts.push(`${Math.round(r.durationMs)} ms`);
  return parts.join(', ');
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
