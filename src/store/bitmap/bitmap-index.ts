/**
 * The SQL92 filter bitmap (RocketMQ's enableCalcFilterBitMap: CommitLogDispatcherCalcBitMap + the ConsumeQueue
 * extension). A `Dispatcher`: each record of a topic with registered SQL92 filters is judged by every filter of
 * the topic once, when it becomes visible, and its bits go into a side queue of
 * `<root>/filterbitmap/queues/<topic>/<id>` aligned with the ConsumeQueue: the same 20-byte layout (commitlog offset 8, size 4, bits 8 where the
 * ConsumeQueue keeps the tag hash), one entry per ConsumeQueue entry from the offset where the topic got its first
 * filter. A pull then skips the entries whose bits say "not matched" without reading their records
 * (read-bitmap.ts). Durable like the ConsumeQueue (flushed by the checkpoint, after the filter table), cut and
 * replayed by recovery, deleted by retention; a side queue that disagrees with its ConsumeQueue after recovery
 * is dropped and restarts empty (its pulls judge records as without a bitmap).
 */
import { createLogger } from '../../common/log.js';
import type { ConsumeQueue } from '../consume-queue.js';
import { type BatchDispatch, type Dispatcher, type DispatchRequest, takesQueueOffset } from '../dispatch.js';
import type { StorageIO } from '../io.js';
import { joinPath } from '../io.js';
import { inParallel, QueueTable } from '../queue-table.js';
import type { BitmapProbe, FilterBitmap } from '../types.js';
import { BitmapFilters, bitsOf, maybeAll, type PredicateCompiler } from './filters.js';

const log = createLogger('filter-bitmap');
const filtersFile = 'filters.json';
const queuesDir = 'queues';
/** Offsets past the end of a queue replay that a bitmap queue may fill with blank entries (otherwise it restarts). */
const replayGapEntriesMax = 65_536;
const allOnes = 0xffffffff;

export class FilterBitmapIndex implements Dispatcher, FilterBitmap {
  readonly queues: QueueTable;
  readonly filters: BitmapFilters;
  private savedVersion = 0;
  /** Records that found their bitmap queue out of step (the entry is left out; pulls judge those records). */
  entriesSkipped = 0;
  /** Side queues replayed this recovery (their tail is recomputed, not trusted). */
  private readonly replayed = new Set<ConsumeQueue>();

  constructor(
    private readonly io: StorageIO,
    private readonly dir: string,
    segmentBytes: number,
    compile: PredicateCompiler,
    /** The ConsumeQueues the side queues must stay aligned with. */
    private readonly consumeQueues: QueueTable,
    /** Every record below this log offset was dispatched (the registration point of a new filter). */
    private readonly dispatchedOffset: () => number,
    onWriteError: (reason: string) => void,
    /** `filterMatchListEnable`: selective filters keep their matches in memory (match-lists.ts). */
    listMatches = true,
  ) {
    this.queues = new QueueTable(io, joinPath(dir, queuesDir), segmentBytes, onWriteError);
    this.filters = new BitmapFilters(compile, listMatches);
  }

  register(topic: string, group: string, expression: string): boolean {
    return this.filters.register(topic, group, expression, this.dispatchedOffset());
  }

  unregister(topic: string, group: string): void {
    this.filters.unregister(topic, group, this.dispatchedOffset());
  }

  /** True when some group's filter is registered. */
  hasFilters(): boolean {
    return this.filters.topics().next().done !== true;
  }

  probe(topic: string, group: string, expression: string): BitmapProbe | undefined {
    const f = this.filters.get(topic, group);
    return f?.expression === expression ? f : undefined;
  }

  dispatch(d: DispatchRequest): void {
    if (!takesQueueOffset(d.sysFlag)) return;
    const groups = this.filters.groupsOf(d.topic);
    if (groups === undefined) return;
    const q = this.queues.queueFor(d.topic, d.queueId);
    const bits = bitsOf(groups, d.properties);
    // A side queue starts at the offset where its topic got its first filter; past that it never has a gap.
    if (q.maxOffset !== d.queueOffset && !q.startAt(d.queueOffset)) {
      this.entriesSkipped++;
      for (const f of groups.values()) f.dropMatchLists(q);
      return;
    }
    q.append(d.phyOffset, d.size, bits);
    this.queues.dirty.add(q);
    // The bits as two words for the filters' match lists (none kept with `filterMatchListEnable` off).
    if (!this.filters.listMatches) return;
    const sure = bits !== maybeAll;
    const hi = sure ? Number(BigInt.asUintN(32, bits >> 32n)) : allOnes;
    const lo = sure ? Number(BigInt.asUintN(32, bits)) : allOnes;
    for (const f of groups.values()) f.noteEntry(q, d.queueOffset, d.phyOffset, d.size, hi, lo, sure);
  }

  dispatchBatch(b: BatchDispatch): void {
    // Most topics have no filter: no request per record for them.
    if (!takesQueueOffset(b.sysFlag) || this.filters.groupsOf(b.topic) === undefined) return;
    for (let i = 0; i < b.count; i++) this.dispatch(b.requestAt(i));
  }

  replayFrom(durableOffset: number): number {
    return this.filters.topics().next().done === true ? Number.MAX_SAFE_INTEGER : durableOffset;
  }

  /** Recomputes the entry with the loaded filters, replacing what the side queue held from there on. */
  async replay(d: DispatchRequest): Promise<void> {
    if (!takesQueueOffset(d.sysFlag)) return;
    const groups = this.filters.groupsOf(d.topic);
    if (groups === undefined) return;
    const q = this.queues.queueFor(d.topic, d.queueId);
    if (!this.replayed.has(q)) {
      for (const f of groups.values()) f.dropMatchLists(q);
      // The first replayed record of a queue: every entry from it on was written after the checkpoint.
      this.replayed.add(q);
      const empty = q.maxOffset === q.minOffset;
      if (empty || d.queueOffset <= q.minOffset || d.queueOffset - q.maxOffset > replayGapEntriesMax) await q.clear();
      else if (d.queueOffset < q.maxOffset) await q.truncateTo(d.queueOffset);
    }
    const bits = bitsOf(groups, d.properties);
    if (q.maxOffset === d.queueOffset || q.startAt(d.queueOffset)) q.append(d.phyOffset, d.size, bits);
    else await q.recoverPut(d.queueOffset, d.phyOffset, d.size, bits);
    this.queues.dirty.add(q);
  }

  /** Before replay: the saved filters, the side queues; those of topics without a filter are dropped. */
  async load(): Promise<void> {
    const saved = await this.io.readFile(joinPath(this.dir, filtersFile));
    if (saved !== undefined) {
      const problems = this.filters.load(saved.toString('utf8'));
      if (problems.length > 0)
        log.warn('filter table partly unusable; those bitmaps restart', { problems: problems.join('; ') });
    }
    this.savedVersion = this.filters.version;
    await this.queues.load();
    const tracked = new Set(this.filters.topics());
    for (const topic of new Set([...this.queues.all()].map((q) => q.topic))) {
      if (!tracked.has(topic)) await Promise.all(this.queues.remove(topic).map((q) => q.destroy()));
    }
  }

  /**
   * After recovery: entries past the log end go, and a side queue that does not end where its ConsumeQueue ends,
   * with the same last record, or whose ConsumeQueue was rebuilt, restarts empty.
   */
  async recovered(logEnd: number, rebuiltQueues: readonly string[]): Promise<void> {
    this.replayed.clear();
    // Lists begin with the first entry dispatched after recovery.
    for (const f of this.filters.all()) f.dropMatchLists();
    const rebuilt = new Set(rebuiltQueues);
    await inParallel([...this.queues.all()], async (q) => {
      await q.truncateBeyond(logEnd);
      if (q.maxOffset === q.minOffset) return;
      const cq = this.consumeQueues.get(q.topic, q.queueId);
      let aligned = cq !== undefined && cq.maxOffset === q.maxOffset && !rebuilt.has(`${q.topic}/${q.queueId}`);
      if (aligned && cq !== undefined) {
        const [mine, theirs] = await Promise.all([q.entryAt(q.maxOffset - 1), cq.entryAt(q.maxOffset - 1)]);
        aligned = mine?.phyOffset === theirs?.phyOffset && mine?.size === theirs?.size;
      }
      if (!aligned) {
        log.warn('filter bitmap queue out of step with its ConsumeQueue; it restarts empty', {
          queue: `${q.topic}/${q.queueId}`,
        });
        await q.clear();
      }
    });
  }

  /**
   * The checkpoint's part, in order: the filter table as of `snapshot` (taken when the checkpoint took its
   * dispatched offset), then the side queues.
   */
  async flush(snapshot: { version: number; json: string }): Promise<void> {
    if (snapshot.version !== this.savedVersion) {
      await this.io.mkdirp(this.dir);
      await this.io.writeFileDurable(joinPath(this.dir, filtersFile), Buffer.from(snapshot.json, 'utf8'));
      this.savedVersion = snapshot.version;
    }
    await this.queues.flushDirty();
  }

  snapshot(): { version: number; json: string } {
    return {
      version: this.filters.version,
      json: this.filters.version === this.savedVersion ? '' : this.filters.toJson(),
    };
  }

  async deleteBelow(minPhy: number): Promise<void> {
    for (const f of this.filters.all()) f.trimMatchLists(minPhy);
    for (const q of this.queues.all()) await q.deleteBelow(minPhy);
  }

  /** A deleted topic: its filters and side queues go. */
  deleteTopic(topic: string): Promise<void> {
    this.filters.forget(topic, this.dispatchedOffset());
    return Promise.all(this.queues.remove(topic).map((q) => q.destroy())).then(() =>
      this.io.rmrf(joinPath(this.dir, queuesDir, topic)),
    );
  }

  async close(): Promise<void> {
    for (const f of this.filters.all()) f.dropMatchLists();
    for (const q of this.queues.all()) await q.close();
  }
}
