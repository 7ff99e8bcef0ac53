/**
 * The delay service (RocketMQ's ScheduleMessageService): per level, reads SCHEDULE_TOPIC_XXXX queue level − 1
 * from its delay offset and puts the entries whose due time has come back as the real message (delay-message.ts,
 * read in place), one batch per real topic and queue per turn, each in queue order. It wakes just after the next
 * entry's due time and when a new entry arrives, not on a fixed poll.
 * Progress (config/delayOffset.json) is written every flushDelayOffsetInterval and at stop; it only moves past an
 * entry whose re-put succeeded, so a failed re-put (full disk) is retried later, never skipped. After a crash the
 * entries delivered since the last write are found again; those due before this start are looked up in the index
 * first and skipped when their redelivery is already stored (counted as duplicates).
 */
import type { Logger } from '../../common/log.js';
import type { MessageExt } from '../../common/message.js';
import { PeriodicTask } from '../../common/periodic-task.js';
import { Prop } from '../../common/properties.js';
import { decodeRecord } from '../../common/record.js';
import { SystemTopic } from '../../common/topics.js';
import type { DelayLevels } from '../../store/delay-levels.js';
import { RetryEpisode } from '../../store/retry-episode.js';
import { GetStatus, type MessageInput, type MessageStore, type PutResult, type QueueEntry } from '../../store/types.js';
import { isRedeliveryOf, realMessageOfRecord, storeTimestampOf } from './delay-message.js';
import type { DelayOffsetFile } from './delay-offsets.js';

/** Entries read per turn of a level: their puts go out together, so a backlog of due entries drains in few turns. */
const readMsgNumsMax = 1024;
/** Longest single wait of a level's timer (a timer cannot wait 2^31 ms or more); it re-checks then. */
const wakeMsMax = 3_600_000;
/** Wait before reading again an entry the queue lists but could not read. */
const unreadableRetryMs = 1000;
const readBytesMax = 8 * 1024 * 1024;
/**
 * A level waiting for its next entry wakes this much after it is due, so the entries stored in that time go out
 * in the same turn (a steady stream would otherwise be delivered a few per turn, one turn per millisecond).
 */
const wakeBatchMs = 5;

export interface DelayServiceDeps {
  readonly store: MessageStore;
  /**
   * Stores real messages of one topic and queue as one batch without a second pass through the put hooks
   * (PutPipeline.putRewrittenBatch).
   */
  readonly putRewrittenBatch: (msgs: readonly MessageInput[]) => Promise<PutResult>;
  readonly levels: DelayLevels;
  readonly offsets: DelayOffsetFile;
  readonly flushIntervalMs: number;
  readonly log: Logger;
  readonly nowMs?: () => number;
}

/** Counters for runtime info. */
export interface DelayStats {
  /** Entries put back as their real message. */
  delivered: number;
  /** Entries found already delivered after a restart (their progress was not written yet) and skipped. */
  duplicatesSkipped: number;
  /** Entries put again because a later one in the same turn failed first (a duplicate each). */
  duplicatesPut: number;
  /** Re-puts that failed and wait for their retry. */
  putFailures: number;
  /** Entries that cannot be delivered (no REAL_TOPIC, unreadable record): logged and passed. */
  undeliverable: number;
}

/**
 * A due entry: its real message (read in place), or why it cannot be delivered; the decoded entry only when it
 * was due before this start (the index is asked whether it was delivered already).
 */
interface Due {
  real: MessageInput | string;
  queueOffset: bigint;
  suspect: MessageExt | undefined;
  /** Index of the batch it is put in (-1: nothing put: undeliverable, or found delivered already). */
  put: number;
}

/** Most messages in one put: the due entries of a turn for one real queue go out as one batch. */
const putBatchMax = readMsgNumsMax;

function decodedOrWhy(rec: Buffer): MessageExt | string {
  try {
    return decodeRecord(rec).msg;
  } catch (err) {
    return (err as Error).message;
  }
}

interface Level {
  readonly level: number;
  offset: bigint;
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  again: boolean;
}

export class DelayService {
  readonly name = 'delay';
  readonly stats: DelayStats = {
    delivered: 0,
    duplicatesSkipped: 0,
    duplicatesPut: 0,
    putFailures: 0,
    undeliverable: 0,
  };
  private readonly byQueue: Level[] = [];
  private readonly nowMs: () => number;
  private readonly episode: RetryEpisode;
  private active = false;
  private startedAtMs = 0;
  private dirty = false;
  private readonly flush: PeriodicTask;

  constructor(private readonly deps: DelayServiceDeps) {
    this.nowMs = deps.nowMs ?? Date.now;
    this.episode = new RetryEpisode('redelivering delayed messages', deps.log);
    this.flush = new PeriodicTask({
      name: 'delay-offset-flush',
      periodMs: deps.flushIntervalMs,
      log: deps.log,
      run: () => this.persist(),
    });
  }

  async start(): Promise<void> {
    const saved = await this.deps.offsets.load();
    // Queues past the configured levels (the list was shortened) still hold entries: they wait the last delay.
    const queues = this.deps.store.queuesOf(SystemTopic.schedule);
    const count = Math.max(this.deps.levels.maxLevel, ...queues.map((q) => q + 1));
    for (let level = 1; level <= count; level++) {
      this.byQueue.push({ level, offset: saved.get(level) ?? 0n, timer: undefined, running: undefined, again: false });
    }
    this.startedAtMs = this.nowMs();
    this.active = true;
    this.deps.store.addArrivalListener((topic, queueId) => {
      if (topic !== SystemTopic.schedule || !this.active) return;
      const l = this.byQueue[queueId];
      // A level waiting for a due time is woken by its timer: a new entry of that level is due later.
      if (l !== undefined && l.timer === undefined) this.kick(l);
    });
    this.flush.start();
    for (const l of this.byQueue) this.kick(l);
  }

  async stop(): Promise<void> {
    this.active = false;
    await this.flush.stop();
    for (const l of this.byQueue) if (l.timer !== undefined) clearTimeout(l.timer);
    await Promise.all(this.byQueue.map((l) => l.running));
    await this.persist();
  }

  /** Level → next offset to deliver. */
  offsets(): Map<number, bigint> {
    return new Map(this.byQueue.map((l) => [l.level, l.offset]));
  }

  /**
   * RocketMQ's runtime info `scheduleMessageOffset_<level>` = "<delay offset>,<max offset>", and the counters
   * (delayMessagesDelivered, delayDuplicatesSkipped, delayDuplicatesPut, delayPutFailures, delayUndeliverable).
   */
  runtimeInfo(): Record<string, string> {
    const st = this.stats;
    const out: Record<string, string> = {
      delayMessagesDelivered: String(st.delivered),
      delayDuplicatesSkipped: String(st.duplicatesSkipped),
      delayDuplicatesPut: String(st.duplicatesPut),
      delayPutFailures: String(st.putFailures),
      delayUndeliverable: String(st.undeliverable),
    };
    for (const l of this.byQueue) {
      const max = this.deps.store.getMaxOffsetInQueue(SystemTopic.schedule, l.level - 1);
      out[`scheduleMessageOffset_${l.level}`] = `${l.offset},${max}`;
    }
    return out;
  }

  /** Writes the progress if it moved since the last write. */
  async persist(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      await this.deps.offsets.save(this.offsets());
    } catch (err) {
      this.dirty = true; // config-file.ts retries the write; the next turn writes newer progress anyway
      this.deps.log.warn('writing delayOffset.json failed', { err: err as Error });
    }
  }

  /** Runs a turn of the level now, or once more after the running one. */
  private kick(l: Level): void {
    if (!this.active) return;
    if (l.running !== undefined) {
      l.again = true;
      return;
    }
    if (l.timer !== undefined) clearTimeout(l.timer);
    l.timer = undefined;
    l.running = this.turn(l)
      .catch((err: unknown) => {
        this.deps.log.error('delay level turn failed', { level: l.level, err: err as Error });
        this.wakeIn(l, this.episode.nextDelayMs);
      })
      .finally(() => {
        l.running = undefined;
        if (l.again) {
          l.again = false;
          if (l.timer === undefined) this.kick(l);
        }
      });
  }

  private wakeIn(l: Level, ms: number): void {
    if (!this.active) return;
    if (l.timer !== undefined) clearTimeout(l.timer);
    l.timer = setTimeout(
      () => {
        l.timer = undefined;
        this.kick(l);
      },
      Math.min(Math.max(0, ms), wakeMsMax),
    );
    l.timer.unref();
  }

  /** Delivers the level's due entries in order until one is not due (its timer is armed) or the queue ends. */
  private async turn(l: Level): Promise<void> {
    const { store, levels } = this.deps;
    const queueId = l.level - 1;
    const delayMs = levels.delayMs(l.level);
    // While a backlog drains (every record read was due) the next read is not checked against the queue first.
    let backlog = false;
    while (this.active) {
      const count = backlog ? readMsgNumsMax : await this.dueAhead(l);
      const got = await store.getMessage(SystemTopic.schedule, queueId, l.offset, count, readBytesMax);
      if (got.status !== GetStatus.FOUND) {
        if (got.status === GetStatus.NO_MESSAGE_IN_QUEUE || got.status === GetStatus.OFFSET_OVERFLOW_ONE) return;
        if (got.status === GetStatus.OFFSET_FOUND_NULL) {
          // The queue says the entry exists but it could not be read now: try again, never skip it.
          this.deps.log.warn('delay queue entry not readable; retrying', { level: l.level, offset: l.offset });
          this.wakeIn(l, unreadableRetryMs);
          return;
        }
        // Past damaged or expired entries; back to the queue's end when the saved offset is beyond it (its tail
        // was lost with an unflushed CommitLog): RocketMQ corrects its offset the same way.
        const to = got.status === GetStatus.OFFSET_OVERFLOW_BADLY ? got.maxOffset : got.nextBeginOffset;
        if (to === l.offset) return;
        this.deps.log.warn('delay offset corrected', { level: l.level, from: l.offset, to, status: got.status });
        l.offset = to;
        this.dirty = true;
        continue;
      }
      const now = this.nowMs();
      const due: Due[] = [];
      let notDueInMs: number | undefined;
      let puts: Promise<PutResult>[] | undefined;
      try {
        for (let i = 0; i < got.records.length; i++) {
          const rec = got.records[i] as Buffer;
          // The clock moved back: an entry is never held longer than its level's delay from now.
          const dueMs = Math.min(storeTimestampOf(rec) + delayMs, now + delayMs);
          if (dueMs > now) {
            notDueInMs = dueMs - now;
            break;
          }
          const queueOffset = got.queueOffsets[i] as bigint;
          const suspect = dueMs < this.startedAtMs ? decodedOrWhy(rec) : undefined;
          if (typeof suspect === 'string') due.push({ real: suspect, queueOffset, suspect: undefined, put: -1 });
          else due.push({ real: realMessageOfRecord(rec), queueOffset, suspect, put: -1 });
        }
        // The bodies are views of the read: the puts are issued (and so encoded) before it is released.
        if (due.length > 0) puts = await this.issue(l, due);
      } finally {
        got.release?.();
      }
      if (puts !== undefined) {
        if (!(await this.settle(l, due, puts))) return;
      } else if (got.queueOffsets[0] !== undefined) {
        // Past entries the read skipped (expired, damaged) before the first one.
        this.moveTo(l, got.queueOffsets[0]);
      }
      if (notDueInMs !== undefined) {
        this.wakeIn(l, notDueInMs + wakeBatchMs);
        return;
      }
      backlog = got.records.length === readMsgNumsMax;
    }
  }

  /**
   * How many records from the level's offset to read: those due by their ConsumeQueue tagsCodes (the due time the
   * delay hook set), so a turn does not read entries still waiting; at least one, whose record's store time tells
   * when it is due (the tagsCode was set with the level's delay of that time, which may have changed since).
   */
  private async dueAhead(l: Level): Promise<number> {
    // At or past the queue's end the read answers (and corrects the offset) at once.
    if (l.offset >= this.deps.store.getMaxOffsetInQueue(SystemTopic.schedule, l.level - 1)) return readMsgNumsMax;
    const entries = await this.deps.store.readQueueEntries(SystemTopic.schedule, l.level - 1, l.offset, readMsgNumsMax);
    if (entries.length === 0 || (entries[0] as QueueEntry).queueOffset !== l.offset) return readMsgNumsMax;
    const now = this.nowMs();
    let count = 0;
    while (count < entries.length && Number((entries[count] as QueueEntry).tagsCode) <= now) count++;
    return Math.max(1, count);
  }

  /**
   * Issues the puts of the due entries, one batch per real topic and queue (each stored in queue order), and
   * notes each entry's batch in its `put`.
   */
  private async issue(l: Level, due: readonly Due[]): Promise<Promise<PutResult>[]> {
    const open = new Map<string, { msgs: MessageInput[]; put: number }>();
    const batches: MessageInput[][] = [];
    for (let i = 0; i < due.length; i++) {
      const d = due[i] as Due;
      const real = d.real;
      if (typeof real === 'string') {
        this.undeliverable(l, d.queueOffset, real);
      } else if (d.suspect !== undefined && (await this.alreadyDelivered(d.suspect))) {
        this.stats.duplicatesSkipped++;
      } else {
        const key = `${real.queueId}@${real.topic}`;
        let b = open.get(key);
        if (b === undefined || b.msgs.length >= putBatchMax) {
          b = { msgs: [], put: batches.length };
          batches.push(b.msgs);
          open.set(key, b);
        }
        b.msgs.push(real);
        d.put = b.put;
      }
    }
    return batches.map((b) => this.deps.putRewrittenBatch(b));
  }

  /** Moves the level's progress past the entries stored, in order; false when one failed (retried later). */
  private async settle(l: Level, due: readonly Due[], puts: readonly Promise<PutResult>[]): Promise<boolean> {
    const settled = await Promise.allSettled(puts);
    let failed: unknown;
    for (let i = 0; i < due.length; i++) {
      const k = (due[i] as Due).put;
      const s = k < 0 ? undefined : (settled[k] as PromiseSettledResult<PutResult>);
      const ok = s === undefined || (s.status === 'fulfilled' && s.value.status === 'PUT_OK');
      if (failed !== undefined) {
        // Past the first failure progress stays put, so a stored one here will be put again.
        if (ok && s !== undefined) this.stats.duplicatesPut++;
        continue;
      }
      if (!ok) {
        failed =
          s.status === 'rejected' ? s.reason : new Error(`store answered ${s.value.status}: ${s.value.remark ?? ''}`);
        continue;
      }
      if (s !== undefined) this.stats.delivered++;
      this.moveTo(l, (due[i] as Due).queueOffset + 1n);
    }
    if (failed === undefined) {
      this.episode.succeeded();
      return true;
    }
    this.stats.putFailures++;
    this.episode.failed(failed);
    this.wakeIn(l, this.episode.nextDelayMs);
    return false;
  }

  private async alreadyDelivered(msg: MessageExt): Promise<boolean> {
    const topic = msg.properties.get(Prop.realTopic);
    const uniqKey = msg.properties.get(Prop.uniqKey);
    if (topic === undefined || uniqKey === undefined) return false;
    const found = await this.deps.store.queryMessage(topic, uniqKey, 64, msg.storeTimestamp, BigInt(this.nowMs()) + 1n);
    return found.records.some((r) => {
      const stored = decodedOrWhy(r);
      return typeof stored !== 'string' && isRedeliveryOf(stored, msg);
    });
  }

  private undeliverable(l: Level, queueOffset: bigint, why: string): void {
    this.stats.undeliverable++;
    this.deps.log.warn('delayed message cannot be delivered; passed', { level: l.level, queueOffset, why });
  }

  private moveTo(l: Level, offset: bigint): void {
    if (offset <= l.offset) return;
    l.offset = offset;
    this.dirty = true;
  }
}
