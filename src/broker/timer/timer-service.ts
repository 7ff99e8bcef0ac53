/**
 * The timer service: delivers rmq_sys_wheel_timer messages when due. The timer queue's ConsumeQueue is the
 * durable timer log (each entry's tagsCode is its deliver time, timer-hook.ts); a TimerIndex holds the pending
 * ones in memory, fed by the store's arrivals and, at start, reloaded from the queue past the checkpoint
 * (timer-checkpoint.ts), so a restart reads 20 bytes per pending message, not the records. Due slots are read in
 * runs of consecutive queue offsets and put to their real topics with many puts in flight, which is what lets a
 * burst of 100,000 messages due in one second go out within it. A failed put is retried (after
 * `retryDelayMs`), never skipped.
 */
import type { Logger } from '../../common/log.js';
import { SystemTopic } from '../../common/topics.js';
import type { MessageInput, MessageStore, PutResult } from '../../store/types.js';
import type { ConfigFile } from '../metadata/config-file.js';
import { answerOfPutStatus } from '../put/put-status.js';
import type { BrokerService } from '../services/lifecycle.js';
import { fireOutcomeOf } from './fire-message.js';
import { recallKeyOf, recallMarkerOf } from './recall.js';
import { type TimerCheckpoint, timerCheckpointOf } from './timer-checkpoint.js';
import { TimerIndex } from './timer-index.js';

const timerTopic = SystemTopic.wheelTimer;
/**
 * The index's slot width, at most: timerPrecisionMs (100–1000) is the lateness promised, but a slot of that width
 * makes every message wait for its slot's end (p99 ≈ the width) and fires a stream in lumps the consumer then
 * queues behind. Slots this fine cost a timer per tick at most; a busy wheel takes every due tick in one step.
 */
const fireTickMsMax = 10;
/** Queue entries read per step when reloading. */
const reloadEntriesMax = 8192;
/** Messages taken per firing step: their puts are in flight together. */
const fireBatchMax = 4096;
/** Messages per batch put to one real queue. */
const putBatchMax = 256;
/** Records per read of consecutive queue offsets, and its byte bound. */
const readRunMax = 1024;
const readRunBytesMax = 8 * 1024 * 1024;
/** Bytes of reads a step holds for the views its batches hold; past this the bodies are copied. */
const heldReadBytesMaxDefault = 64 * 1024 * 1024;
export const timerRetryDelayMs = 1000;
export const timerCheckpointPeriodMs = 1000;
/** A tagsCode outside these bounds is not a deliver time (an entry rebuilt by other code): read the record. */
const deliverMsMin = 1e12;
const deliverMsMax = 1e14;

export interface TimerServiceDeps {
  readonly store: MessageStore;
  /** Stores messages of one topic and queue without a second pass of the put hooks (PutPipeline.putRewrittenBatch). */
  readonly putRewrittenBatch: (msgs: readonly MessageInput[]) => Promise<PutResult>;
  readonly checkpointFile: ConfigFile;
  readonly precisionMs: number;
  readonly log: Logger;
  /** Epoch ms; injected by tests. */
  readonly nowMs?: () => number;
  /** Default 64 MiB; injected by tests (-1: every fired body is copied). */
  readonly heldReadBytesMax?: number;
}

/** How a recall went: marked (the message will not be delivered), already due, or the marker not stored. */
export type RecallOutcome =
  | { readonly status: 'recalled' }
  | { readonly status: 'due' }
  | { readonly status: 'failed'; readonly remark: string };

export interface TimerStats {
  timerPending: number;
  timerDelivered: number;
  /** Messages not delivered because they were recalled. */
  timerRecalled: number;
  timerPutRetries: number;
  /** Entries whose record was gone (retention) or damaged: cannot be delivered. */
  timerLost: number;
}

export class TimerService implements BrokerService {
  readonly name = 'timer';
  private readonly index: TimerIndex;
  private readonly now: () => number;
  /** Offsets below this were in the queue at start and are reloaded, not taken from arrivals. */
  private reloadEnd = 0;
  private seenOffset = 0;
  /** The step being delivered: counted as pending by the checkpoint until its puts are answered. */
  private inflight: { minOffset: number; floorMs: number } | undefined;
  private firing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private armedForMs = Number.POSITIVE_INFINITY;
  private pausedUntilMs = 0;
  private listening = false;
  private active = false;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private saved: TimerCheckpoint | undefined;
  private readonly counts = { delivered: 0, retries: 0, lost: 0, recalled: 0 };
  /** Recall keys → deliver time: set by a recall of this run or by a marker that fired before its message. */
  private readonly recalled = new Map<string, number>();

  constructor(private readonly deps: TimerServiceDeps) {
    this.index = new TimerIndex(Math.min(deps.precisionMs, fireTickMsMax));
    this.now = deps.nowMs ?? Date.now;
  }

  async start(): Promise<void> {
    const { store } = this.deps;
    const cp = timerCheckpointOf(await this.loadCheckpoint());
    this.reloadEnd = Number(store.getMaxOffsetInQueue(timerTopic, 0));
    this.seenOffset = this.reloadEnd;
    if (!this.listening) {
      this.listening = true;
      store.addArrivalListener((topic, _queueId, queueOffset, tagsCode) => {
        if (topic === timerTopic && this.active) this.arrived(Number(queueOffset), tagsCode);
      });
    }
    this.active = true;
    await this.reload(cp);
    this.arm();
    this.checkpointTimer = setInterval(() => void this.saveCheckpoint(), timerCheckpointPeriodMs);
    this.checkpointTimer.unref();
  }

  async stop(): Promise<void> {
    this.active = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.checkpointTimer !== undefined) clearInterval(this.checkpointTimer);
    this.timer = undefined;
    await this.firing;
    await this.saveCheckpoint();
  }

  stats(): TimerStats {
    return {
      timerPending: this.index.size,
      timerDelivered: this.counts.delivered,
      timerRecalled: this.counts.recalled,
      timerPutRetries: this.counts.retries,
      timerLost: this.counts.lost,
    };
  }

  /**
   * Recalls the message of `topic` / `uniqKey` due at `deliverMs` (recall.ts): remembered now, and a marker
   * stored in the timer queue at the same time so a restart still keeps it from being delivered.
   */
  async recall(topic: string, uniqKey: string, deliverMs: number, bornHost: string): Promise<RecallOutcome> {
    if (deliverMs <= this.now()) return { status: 'due' };
    const key = recallKeyOf(topic, uniqKey);
    this.recalled.set(key, deliverMs);
    const r = await this.deps.putRewrittenBatch([recallMarkerOf(topic, uniqKey, deliverMs, bornHost)]);
    if (!answerOfPutStatus(r.status, r.remark).stored) {
      this.recalled.delete(key);
      return { status: 'failed', remark: r.remark ?? r.status };
    }
    return { status: 'recalled' };
  }

  /** The progress to persist now (see TimerCheckpoint). */
  checkpoint(): TimerCheckpoint {
    const seen = this.seenOffset;
    let delivered = Math.min(seen, this.index.minOffset() ?? seen);
    let firedUpTo = this.now();
    const floor = this.index.deliverFloorMs();
    if (floor !== undefined) firedUpTo = Math.min(firedUpTo, floor);
    const step = this.inflight;
    if (step !== undefined) {
      delivered = Math.min(delivered, step.minOffset);
      firedUpTo = Math.min(firedUpTo, step.floorMs);
    }
    return { deliveredOffset: delivered, firedUpToMs: Math.max(0, firedUpTo), seenOffset: seen };
  }

  /** An unreadable checkpoint (and .bak) means "nothing delivered": messages may repeat, none is lost. */
  private async loadCheckpoint(): Promise<unknown> {
    try {
      return await this.deps.checkpointFile.load();
    } catch (err) {
      this.deps.log.warn('timer checkpoint unreadable, delivering every timer message still in the queue', {
        err: err as Error,
      });
      return undefined;
    }
  }

  private saveCheckpoint(): Promise<void> {
    this.saving = this.saving.then(async () => {
      const cp = this.checkpoint();
      const last = this.saved;
      // Nothing pending and nothing new since the last write: firedUpToMs then covers no entry; skip the fsync.
      const idle =
        last !== undefined &&
        cp.deliveredOffset === cp.seenOffset &&
        last.deliveredOffset === cp.deliveredOffset &&
        last.seenOffset === cp.seenOffset;
      if (idle) return;
      try {
        await this.deps.checkpointFile.save(cp);
        this.saved = cp;
      } catch {
        // ConfigFile logs a failed write and retries it itself.
      }
    });
    return this.saving;
  }

  private async reload(cp: TimerCheckpoint): Promise<void> {
    const { store } = this.deps;
    let at = Math.max(cp.deliveredOffset, Number(store.getMinOffsetInQueue(timerTopic, 0)));
    const nowMs = this.now();
    let loaded = 0;
    while (at < this.reloadEnd) {
      const entries = await store.readQueueEntries(
        timerTopic,
        0,
        BigInt(at),
        Math.min(reloadEntriesMax, this.reloadEnd - at),
      );
      if (entries.length === 0) break;
      for (const e of entries) {
        const offset = Number(e.queueOffset);
        const deliverMs = Number(e.tagsCode);
        if (deliverMs < deliverMsMin || deliverMs > deliverMsMax) {
          this.index.add(offset, nowMs); // unknown time: the record's TIMER_OUT_MS decides when it fires
          loaded++;
        } else if (offset >= cp.seenOffset || deliverMs > cp.firedUpToMs) {
          this.index.add(offset, deliverMs);
          loaded++;
        }
      }
      at = Number((entries[entries.length - 1] as { queueOffset: bigint }).queueOffset) + 1;
    }
    this.deps.log.info('timer messages reloaded', { pending: loaded, from: cp.deliveredOffset, to: this.reloadEnd });
  }

  private arrived(offset: number, tagsCode: bigint): void {
    if (offset < this.reloadEnd) return;
    const deliverMs = Number(tagsCode);
    this.index.add(offset, deliverMs < deliverMsMin || deliverMs > deliverMsMax ? this.now() : deliverMs);
    if (offset >= this.seenOffset) this.seenOffset = offset + 1;
    this.arm();
  }

  /** Sets the timer for the earliest due slot (unless a step is running: it re-arms when done). */
  private arm(): void {
    if (!this.active || this.firing !== undefined) return;
    const due = this.index.nextDueMs();
    if (due === undefined) return;
    const at = Math.max(due, this.pausedUntilMs);
    if (this.timer !== undefined && this.armedForMs <= at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedForMs = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.armedForMs = Number.POSITIVE_INFINITY;
        this.firing = this.fireDue().finally(() => {
          this.firing = undefined;
          this.arm();
        });
      },
      Math.max(0, at - this.now()),
    );
    this.timer.unref();
  }

  private async fireDue(): Promise<void> {
    while (this.active) {
      const nowMs = this.now();
      if (nowMs < this.pausedUntilMs) return;
      const floorMs = this.index.deliverFloorMs() ?? 0;
      const due = this.index.takeDue(nowMs, fireBatchMax);
      if (due.length === 0) return;
      due.sort((a, b) => a - b);
      this.inflight = { minOffset: due[0] as number, floorMs };
      try {
        await this.deliver(due, nowMs, floorMs);
      } finally {
        this.inflight = undefined;
      }
      this.forgetPassedRecalls(nowMs);
    }
  }

  /**
   * Drops recall keys whose time nothing pending can have any more (every pending deliver time is above the
   * index's floor): a marker whose message never fired (a recall of an unknown id) leaves its key behind.
   */
  private forgetPassedRecalls(nowMs: number): void {
    if (this.recalled.size === 0) return;
    const floorMs = Math.min(nowMs, this.index.deliverFloorMs() ?? nowMs);
    for (const [key, deliverMs] of this.recalled) if (deliverMs <= floorMs) this.recalled.delete(key);
  }

  /**
   * Delivers the messages at the (sorted) queue offsets, reading runs of consecutive ones; what cannot be put now
   * goes back to the index. `floorMs` is below every one's deliver time. The messages' bodies are views of the
   * reads, so the reads are released only once every batch of the step is issued (putMessages encodes before it
   * returns); past `heldReadBytesMax` (64 MiB) of held reads the bodies are copied instead.
   */
  private async deliver(offsets: readonly number[], nowMs: number, floorMs: number): Promise<void> {
    const puts = new PutBatches(this, putBatchMax);
    const reads: Reads = { releases: [], bytes: 0 };
    let i = 0;
    while (i < offsets.length) {
      let j = i + 1;
      while (j < offsets.length && j - i < readRunMax && offsets[j] === (offsets[j - 1] as number) + 1) j++;
      const from = offsets[i] as number;
      const end = (offsets[j - 1] as number) + 1;
      const progress = { at: from };
      try {
        await this.deliverRun(progress, end, nowMs, puts, reads);
      } catch (err) {
        // A read failed (I/O): the rest of the run goes back and is tried again after the pause.
        this.deps.log.warn('timer queue read failed, retried later', { err: err as Error, offset: progress.at });
        this.pausedUntilMs = this.now() + timerRetryDelayMs;
      }
      for (let o = progress.at; o < end; o++) this.index.add(o, floorMs + 1);
      i = j;
    }
    const settled = puts.flushAll();
    for (const release of reads.releases) release();
    await settled;
  }

  /** Fires [progress.at, end) of the timer queue, moving `progress.at` past what it handled. */
  private async deliverRun(
    progress: { at: number },
    end: number,
    nowMs: number,
    puts: PutBatches,
    reads: Reads,
  ): Promise<void> {
    while (progress.at < end) {
      const at = progress.at;
      const r = await this.deps.store.getMessage(timerTopic, 0, BigInt(at), end - at, readRunBytesMax);
      // Held until the step's batches are issued (deliver); copies once too much is held.
      const copy = reads.bytes > (this.deps.heldReadBytesMax ?? heldReadBytesMaxDefault);
      reads.bytes += r.bufferTotalBytes;
      if (r.release !== undefined) reads.releases.push(r.release);
      let expected = at;
      for (let k = 0; k < r.queueOffsets.length; k++) {
        const offset = Number(r.queueOffsets[k]);
        if (offset >= end) break;
        this.lose(expected, offset, 'record missing or damaged');
        expected = offset + 1;
        this.fireOne(offset, r.records[k] as Buffer, nowMs, puts, copy);
      }
      const next = Math.min(end, Number(r.nextBeginOffset));
      if (expected === at && next <= at) {
        // Nothing readable and no way past: below the queue's minimum (retention) it is gone.
        const min = Math.min(end, Number(r.minOffset));
        if (at >= min) throw new Error(`timer queue read at ${at} answered ${r.status}`);
        this.lose(at, min, 'deleted by retention before it was due');
        progress.at = min;
        continue;
      }
      this.lose(expected, next, 'record missing or damaged');
      progress.at = Math.max(next, expected);
    }
  }

  private fireOne(offset: number, record: Buffer, nowMs: number, puts: PutBatches, copy: boolean): void {
    let outcome: ReturnType<typeof fireOutcomeOf>;
    try {
      outcome = fireOutcomeOf(record, nowMs);
    } catch (err) {
      outcome = { kind: 'bad', problem: (err as Error).message };
    }
    if (outcome.kind === 'early') this.index.add(offset, outcome.deliverMs);
    else if (outcome.kind === 'bad') this.lose(offset, offset + 1, outcome.problem);
    else if (outcome.kind === 'recall') {
      // Its message (same time, lower offset) waits in this step's batches, was skipped already, or is still in
      // the index: a slot bigger than a step is taken from its end, so it may fire in a later step.
      if (puts.drop(outcome.key)) {
        this.recalled.delete(outcome.key);
        this.counts.recalled++;
      } else if (!this.recalled.has(outcome.key)) this.recalled.set(outcome.key, outcome.deliverMs);
    } else {
      const uniq = outcome.input.uniqKey;
      if (
        uniq !== undefined &&
        this.recalled.size > 0 &&
        this.recalled.delete(recallKeyOf(outcome.input.topic, uniq))
      ) {
        this.counts.recalled++;
        return;
      }
      const input = copy ? { ...outcome.input, body: Buffer.from(outcome.input.body) } : outcome.input;
      puts.add(input, offset, outcome.deliverMs);
    }
  }

  /** Puts one batch for one real queue; on failure its messages go back to the index. */
  putBatch(batch: PendingBatch): Promise<void> {
    return this.deps.putRewrittenBatch(batch.inputs).then(
      (res) => {
        if (answerOfPutStatus(res.status, res.remark).stored) this.counts.delivered += batch.inputs.length;
        else this.retryLater(batch, res.remark ?? res.status);
      },
      (err: unknown) => this.retryLater(batch, (err as Error).message),
    );
  }

  private retryLater(batch: PendingBatch, why: string): void {
    if (this.counts.retries === 0 || this.now() >= this.pausedUntilMs) {
      this.deps.log.warn('timer messages not stored, retried later', { count: batch.inputs.length, why });
    }
    this.counts.retries += batch.inputs.length;
    for (let i = 0; i < batch.offsets.length; i++) {
      this.index.add(batch.offsets[i] as number, batch.deliverMs[i] as number);
    }
    this.pausedUntilMs = this.now() + timerRetryDelayMs;
  }

  private lose(from: number, to: number, why: string): void {
    if (to <= from) return;
    this.counts.lost += to - from;
    this.deps.log.warn('timer messages cannot be delivered', { from, to, why });
  }
}

/** The reads of a firing step whose records its batches view, and their bytes. */
interface Reads {
  readonly releases: (() => void)[];
  bytes: number;
}

interface PendingBatch {
  readonly inputs: MessageInput[];
  /** Timer queue offset and deliver time of each input, to index it again if the put fails. */
  readonly offsets: number[];
  readonly deliverMs: number[];
}

/** Fired messages grouped by real topic and queue, put as batches of up to `max`. */
class PutBatches {
  private readonly open = new Map<string, PendingBatch>();
  private readonly puts: Promise<void>[] = [];

  constructor(
    private readonly service: { putBatch(b: PendingBatch): Promise<void> },
    private readonly max: number,
  ) {}

  add(input: MessageInput, offset: number, deliverMs: number): void {
    const key = `${input.queueId}@${input.topic}`;
    let b = this.open.get(key);
    if (b === undefined) {
      b = { inputs: [], offsets: [], deliverMs: [] };
      this.open.set(key, b);
    }
    b.inputs.push(input);
    b.offsets.push(offset);
    b.deliverMs.push(deliverMs);
    if (b.inputs.length >= this.max) {
      this.open.delete(key);
      this.puts.push(this.service.putBatch(b));
    }
  }

  /** Removes a message not put yet whose recall key is `key`; true when there was one. */
  drop(key: string): boolean {
    for (const b of this.open.values()) {
      const i = b.inputs.findIndex((m) => m.uniqKey !== undefined && recallKeyOf(m.topic, m.uniqKey) === key);
      if (i >= 0) {
        b.inputs.splice(i, 1);
        b.offsets.splice(i, 1);
        b.deliverMs.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /** Issues what is still open (at once, before it returns) and answers when every put was answered. */
  flushAll(): Promise<void> {
    for (const b of this.open.values()) if (b.inputs.length > 0) this.puts.push(this.service.putBatch(b));
    this.open.clear();
    return Promise.all(this.puts).then(() => undefined);
  }
}
