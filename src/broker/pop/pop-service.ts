/**
 * The broker's PopService: pop (read like a pull, hand the messages out invisible, record a check point), ack,
 * changeInvisible, long polling, FIFO queues, and the revive pass that brings unacked messages back through
 * `%RETRY%<group>_<topic>` (or `%DLQ%<group>` past the group's retryMaxTimes) at their deadline.
 * Every consume offset move of a non-FIFO pop follows the durable write of its check point (revive-log.ts).
 */
import os from 'node:os';
import type { MessageExt } from '../../common/message.js';
import { decodeRecord } from '../../common/record.js';
import { popRetryTopicOf, reviveLogTopicOf, SystemGroup } from '../../common/topics.js';
import { ResponseCode } from '../../remoting/codes.js';
import { GetStatus, type MessageFilter } from '../../store/types.js';
import { Perm } from '../metadata/perm.js';
import type { TopicConfig } from '../metadata/topic-config.js';
import {
  allAcked,
  type CheckPoint,
  CheckPointTable,
  ckKeyOf,
  deadlineMsOf,
  indexOfOffset,
  isAcked,
} from './check-points.js';
import { buildExtraInfo, type ExtraInfo, parseExtraInfo } from './extra-info.js';
import { FifoQueues } from './fifo.js';
import { KeyedMutex } from './keyed-mutex.js';
import { orderKeyOf } from './order-state.js';
import { checkPopRequest } from './pop-check.js';
import { PopCursors, type ReadMark } from './pop-cursors.js';
import { type PopDeps, type QueuePop, queueOf, refused } from './pop-deps.js';
import { PopWaiters } from './pop-waiters.js';
import { ReadStash, readAheadPops, StashedRead, stashReadMax } from './read-stash.js';
import { readBack, reviveDue } from './revive.js';
import { ReviveLog } from './revive-log.js';
import { storedPoppedOf } from './stored-popped.js';
import {
  type AckBatch,
  type AckBatchResult,
  type AckResult,
  type ChangeResult,
  invisibleTimeMsMin,
  orderReviveQid,
  type PoppedMessage,
  type PoppedQueue,
  type PopRequest,
  type PopResult,
  type PopService,
} from './types.js';

export type { PopDeps } from './pop-deps.js';

const none = { status: 'none' } as const;
/** RocketMQ's accessMessageInMemoryMaxRatio (40) of this machine's memory. */
const hotBytesMax = BigInt(Math.floor(os.totalmem() * 0.4));
const expired = { status: 'expired' } as const;
const ok = { status: 'ok' } as const;

export class BrokerPopService implements PopService {
  readonly checkPoints = new CheckPointTable();
  private readonly mutex = new KeyedMutex();
  private readonly cursors = new PopCursors();
  private readonly stash = new ReadStash();
  private readonly fifo: FifoQueues;
  readonly waiters: PopWaiters;
  readonly reviveLog: ReviveLog;
  readonly reviveTopic: string;
  private popCount = 0;
  /** Messages put back by revive passes, and those of them (and of FIFO queues) that went to a DLQ. */
  readonly counters = { revived: 0, deadLettered: 0 };

  constructor(readonly deps: PopDeps) {
    const c = deps.config;
    this.waiters = new PopWaiters(c.maxPopPollingSize);
    this.fifo = new FifoQueues(deps, this.mutex, this.waiters);
    this.reviveTopic = reviveLogTopicOf(c.brokerClusterName);
    this.reviveLog = new ReviveLog({
      store: deps.store,
      putRaw: (msg) => deps.put.putRewritten(msg),
      topic: this.reviveTopic,
      brokerName: c.brokerName,
      brokerAddr: deps.brokerAddr,
    });
  }

  /** Creates the revive log topic and reads back the check points it holds (before requests are served). */
  async start(): Promise<void> {
    const { topics, config } = this.deps;
    topics.ensureTopic(this.reviveTopic, config.reviveQueueNum, Perm.read | Perm.write);
    await readBack(this);
  }

  /** One revive pass: due check points put back, then the revive checkpoint moved. */
  async revive(nowMs = Date.now()): Promise<void> {
    await reviveDue(this, nowMs);
    const safe = this.reviveLog.safeOffsets(this.checkPoints.lowestReviveOffsets(), this.deps.config.reviveQueueNum);
    for (const [q, offset] of safe) {
      const at = this.deps.offsets.query(SystemGroup.revive, this.reviveTopic, q);
      if (at === undefined || offset > at) this.deps.offsets.commit(SystemGroup.revive, this.reviveTopic, q, offset);
    }
  }

  stop(): void {
    this.waiters.close();
  }

  /** Store arrival hook. */
  notifyArrival(topic: string, tagsCode: bigint): void {
    this.waiters.notifyArrival(topic, tagsCode);
  }

  async pop(req: PopRequest, signal?: AbortSignal): Promise<PopResult> {
    const checked = checkPopRequest(this.deps, req);
    if (checked.status === 'refused') return checked;
    const { tc, filter } = checked;
    const pollMs = Math.min(Math.max(0, req.pollTimeMs), this.deps.config.longPollingHoldMsMax);
    const deadlineMs = Date.now() + pollMs;
    for (;;) {
      const watermark = this.watermark(req, tc);
      const r = await this.popOnce(req, tc, filter);
      if (r.status !== 'none' || pollMs === 0 || isAborted(signal)) return r.result;
      const now = Date.now();
      if (now >= deadlineMs) return none;
      // A message that arrived while the reads were in flight woke nobody: read again now.
      if (this.watermark(req, tc) !== watermark) continue;
      const until = r.retryAtMs === undefined ? deadlineMs : Math.min(deadlineMs, r.retryAtMs);
      const retryTopic = req.fifo ? undefined : popRetryTopicOf(req.group, req.topic);
      const outcome = await this.waiters.wait(req.topic, retryTopic, filter, until, signal);
      if (outcome === 'full') {
        return refused(
          ResponseCode.POLLING_FULL,
          `too many pops waiting (maxPopPollingSize ${this.deps.config.maxPopPollingSize})`,
        );
      }
      // Closed (shutdown), aborted, or the poll's own deadline passed: nothing came.
      if (outcome === 'closed' || isAborted(signal) || (outcome === 'timeout' && until >= deadlineMs)) return none;
    }
  }

  async ack(group: string, topic: string, handle: string): Promise<AckResult> {
    const e = this.parseHandle(handle);
    if (typeof e === 'string') return refused(ResponseCode.INVALID_PARAMETER, e);
    if (e.reviveQid === orderReviveQid) return this.fifo.ack(group, topic, e);
    const r = await this.ackBatch({ group, topic, ...e, offsets: [e.queueOffset] });
    if (r.status === 'refused') return r;
    return r.expired.length > 0 ? expired : ok;
  }

  async ackHandles(group: string, topic: string, handles: readonly string[]): Promise<AckResult[]> {
    const out: AckResult[] = new Array(handles.length);
    const byCheckPoint = new Map<string, { batch: AckBatch & { offsets: bigint[] }; at: number[] }>();
    for (let i = 0; i < handles.length; i++) {
      const e = this.parseHandle(handles[i] as string);
      if (typeof e === 'string') out[i] = refused(ResponseCode.INVALID_PARAMETER, e);
      else if (e.reviveQid === orderReviveQid) out[i] = await this.fifo.ack(group, topic, e);
      else {
        const key = this.ckKeyOfHandle(group, topic, e);
        const known = byCheckPoint.get(key);
        if (known === undefined) {
          byCheckPoint.set(key, { batch: { group, topic, ...e, offsets: [e.queueOffset] }, at: [i] });
        } else {
          known.batch.offsets.push(e.queueOffset);
          known.at.push(i);
        }
      }
    }
    for (const { batch, at } of byCheckPoint.values()) {
      const r = await this.ackBatch(batch);
      // An offset named twice is acked by its first handle and expired for the later one (as two single acks
      // would be): matched from the end.
      const expiredLeft = r.status === 'ok' ? [...r.expired] : [];
      for (let j = at.length - 1; j >= 0; j--) {
        let result: AckResult = ok;
        if (r.status === 'refused') result = r;
        else {
          const k = expiredLeft.indexOf(batch.offsets[j] as bigint);
          if (k >= 0) {
            expiredLeft.splice(k, 1);
            result = expired;
          }
        }
        out[at[j] as number] = result;
      }
    }
    return out;
  }

  async ackBatch(b: AckBatch): Promise<AckBatchResult> {
    if (b.reviveQid === orderReviveQid) return this.ackFifo(b);
    const realTopic = b.retry ? popRetryTopicOf(b.group, b.topic) : b.topic;
    const ck = this.checkPoints.get(ckKeyOf(b.group, realTopic, b.queueId, b.ckOffset, b.popTimeMs));
    if (ck === undefined || ck.reviving) return { status: 'ok', expired: b.offsets };
    let bits = 0;
    const gone: bigint[] = [];
    const taken: bigint[] = [];
    for (const o of b.offsets) {
      const i = indexOfOffset(ck, o);
      if (i < 0 || isAcked(ck, i) || (bits & (1 << i)) !== 0) gone.push(o);
      else {
        bits |= 1 << i;
        taken.push(o);
      }
    }
    if (taken.length === 0) return { status: 'ok', expired: gone };
    // Marked before the write, so a revive pass meanwhile does not put these back.
    ck.ackedBits |= bits;
    if (!(await this.reviveLog.writeAck(ck, taken))) {
      ck.ackedBits &= ~bits;
      return refused(ResponseCode.SYSTEM_ERROR, 'the ack could not be stored (store not writable)');
    }
    if (allAcked(ck)) this.checkPoints.delete(ck.key);
    return { status: 'ok', expired: gone };
  }

  /** FIFO acks are in memory (no revive-log record): one at a time. */
  private async ackFifo(b: AckBatch): Promise<AckBatchResult> {
    const gone: bigint[] = [];
    for (const queueOffset of b.offsets) {
      const e: ExtraInfo = { ...b, brokerName: this.deps.config.brokerName, queueOffset };
      const r = await this.fifo.ack(b.group, b.topic, e);
      if (r.status === 'refused') return r;
      if (r.status === 'expired') gone.push(queueOffset);
    }
    return { status: 'ok', expired: gone };
  }

  async changeInvisible(group: string, topic: string, handle: string, invisibleTimeMs: number): Promise<ChangeResult> {
    if (!Number.isSafeInteger(invisibleTimeMs) || invisibleTimeMs < invisibleTimeMsMin) {
      return refused(
        ResponseCode.INVALID_PARAMETER,
        `invisibleTime ${invisibleTimeMs} ms is below ${invisibleTimeMsMin}`,
      );
    }
    const e = this.parseHandle(handle);
    if (typeof e === 'string') return refused(ResponseCode.INVALID_PARAMETER, e);
    const now = Date.now();
    if (e.reviveQid === orderReviveQid) return this.fifo.change(group, topic, e, invisibleTimeMs, now);
    const ck = this.checkPoints.get(this.ckKeyOfHandle(group, topic, e));
    const i = ck === undefined ? -1 : indexOfOffset(ck, e.queueOffset);
    if (ck === undefined || ck.reviving || i < 0 || isAcked(ck, i) || deadlineMsOf(ck) <= now) return expired;
    // The new check point holds this one message (RocketMQ: ckOffset = its queue offset), then the old is acked.
    const popTimeMs = Math.max(now, ck.popTimeMs + 1);
    const next: CheckPoint = {
      ...ck,
      key: ckKeyOf(group, ck.realTopic, ck.queueId, e.queueOffset, popTimeMs),
      startOffset: e.queueOffset,
      popTimeMs,
      invisibleTimeMs,
      reviveQid: this.nextReviveQid(),
      offsets: [e.queueOffset],
      reviveOffset: -1n,
      ackedBits: 0,
      reviving: false,
    };
    ck.ackedBits |= 1 << i;
    // In the table while it is written, so no revive checkpoint is moved past it meanwhile.
    this.checkPoints.add(next);
    if (!(await this.reviveLog.writeCk(next))) {
      this.checkPoints.delete(next.key);
      ck.ackedBits &= ~(1 << i);
      return refused(ResponseCode.SYSTEM_ERROR, 'the new check point could not be stored (store not writable)');
    }
    // Should this ack be lost in a crash, the message comes back once more: never lost.
    await this.reviveLog.writeAck(ck, [e.queueOffset]);
    if (allAcked(ck)) this.checkPoints.delete(ck.key);
    const info = this.extraInfoOf(next, e.queueOffset);
    return {
      status: 'ok',
      handle: `${buildExtraInfo(info)} ${e.commitLogOffset ?? -1n}`,
      popTimeMs,
      invisibleTimeMs,
    };
  }

  /** Runtime figures (broker runtime info). */
  stats(): Record<string, number> {
    return {
      popCheckPoints: this.checkPoints.size,
      popInFlight: this.checkPoints.inFlight(),
      popOrderQueues: this.fifo.size,
      popWaiting: this.waiters.size,
      popRevived: this.counters.revived,
      popDeadLettered: this.counters.deadLettered + this.fifo.deadLettered,
    };
  }

  /** The queues a pop reads: the topic's (all, from a rotating start, or the one asked) and the retry topic's. */
  private queuesOf(
    req: PopRequest,
    tc: TopicConfig,
    turn: number,
  ): Array<{ realTopic: string; queueId: number; retry: boolean }> {
    const out: Array<{ realTopic: string; queueId: number; retry: boolean }> = [];
    if (req.queueId >= 0) out.push({ realTopic: req.topic, queueId: req.queueId, retry: false });
    else
      for (let i = 0; i < tc.readQueueNums; i++)
        out.push({ realTopic: req.topic, queueId: (turn + i) % tc.readQueueNums, retry: false });
    if (!req.fifo) {
      const retryTopic = popRetryTopicOf(req.group, req.topic);
      if (this.deps.topics.get(retryTopic) !== undefined) {
        const retry = { realTopic: retryTopic, queueId: 0, retry: true };
        // Now and then the retry topic first (RocketMQ: 20 % of pops), so a backlog cannot starve revived messages.
        if (turn % 5 === 0) out.unshift(retry);
        else out.push(retry);
      }
    }
    return out;
  }

  /** Sum of the end offsets of the queues a pop reads: changes when anything arrives there. */
  private watermark(req: PopRequest, tc: TopicConfig): bigint {
    // The queues of queuesOf, summed without building its list (taken before every pop).
    const { store, topics } = this.deps;
    let sum = 0n;
    if (req.queueId >= 0) sum += store.getMaxOffsetInQueue(req.topic, req.queueId);
    else for (let i = 0; i < tc.readQueueNums; i++) sum += store.getMaxOffsetInQueue(req.topic, i);
    if (!req.fifo) {
      const retryTopic = popRetryTopicOf(req.group, req.topic);
      if (topics.get(retryTopic) !== undefined) sum += store.getMaxOffsetInQueue(retryTopic, 0);
    }
    return sum;
  }

  private async popOnce(
    req: PopRequest,
    tc: TopicConfig,
    filter: MessageFilter | undefined,
  ): Promise<
    | { status: 'found' | 'refused'; result: PopResult }
    | { status: 'none'; result: PopResult; retryAtMs?: number | undefined }
  > {
    const turn = this.popCount++;
    const popTimeMs = Date.now();
    const reviveQid = req.fifo ? orderReviveQid : this.nextReviveQid();
    const messages: PoppedMessage[] = [];
    const queues: PoppedQueue[] = [];
    let rest = 0n;
    let retryAtMs: number | undefined;
    for (const q of this.queuesOf(req, tc, turn)) {
      const want = req.maxMessages - messages.length;
      const key = orderKeyOf(req.group, q.realTopic, q.queueId);
      let r: QueuePop =
        want <= 0
          ? { messages: [], rest: this.restOf(req, q.realTopic, q.queueId) }
          : await this.mutex.run(key, () =>
              this.popQueue(req, q.realTopic, q.queueId, q.retry, filter, want, popTimeMs, reviveQid),
            );
      // Outside the queue's mutex: the next pop of the queue reads while this one's check point is written.
      if (r.stored !== undefined && !(await r.stored)) r = storeRefused(r.rest);
      if (r.failed !== undefined) {
        if (messages.length === 0) return { status: 'refused', result: r.failed };
        break;
      }
      rest += r.rest;
      if (r.queue !== undefined) queues.push(r.queue);
      for (const m of r.messages) messages.push(m);
      if (r.blockedUntilMs !== undefined) retryAtMs = Math.min(retryAtMs ?? r.blockedUntilMs, r.blockedUntilMs);
    }
    if (messages.length === 0) return { status: 'none', result: none, retryAtMs };
    let bytes = 0;
    for (const m of messages) bytes += m.storeSize;
    this.deps.stats.recordGet(req.group, req.topic, messages.length, bytes);
    return {
      status: 'found',
      result: {
        status: 'found',
        popTimeMs,
        invisibleTimeMs: req.invisibleTimeMs,
        reviveQid,
        messages,
        restNum: Number(rest),
        queues,
      },
    };
  }

  private restOf(req: PopRequest, realTopic: string, queueId: number): bigint {
    const { store, offsets } = this.deps;
    const max = store.getMaxOffsetInQueue(realTopic, queueId);
    const at = offsets.query(req.group, realTopic, queueId) ?? store.getMinOffsetInQueue(realTopic, queueId);
    return max > at ? max - at : 0n;
  }

  /** Where a group reads a queue next; a group new to the queue starts by initMode and that start is committed. */
  private async startOffsetOf(
    req: PopRequest,
    realTopic: string,
    queueId: number,
    retry: boolean,
  ): Promise<{ offset: bigint; mark: ReadMark }> {
    const key = orderKeyOf(req.group, realTopic, queueId);
    const { store, offsets } = this.deps;
    const min = store.getMinOffsetInQueue(realTopic, queueId);
    const reset = offsets.takeReset(req.group, realTopic, queueId);
    if (reset !== undefined) {
      this.cursors.reset(key);
      this.stash.drop(key);
      offsets.commit(req.group, realTopic, queueId, reset);
      return { offset: reset < min ? min : reset, mark: this.cursors.mark(key) };
    }
    // Taken with the offset, so a write that fails meanwhile makes this read stale (pop-cursors.ts).
    const mark = this.cursors.mark(key);
    if (mark.next !== undefined) return { offset: mark.next < min ? min : mark.next, mark };
    const at = offsets.query(req.group, realTopic, queueId);
    if (at !== undefined) return { offset: at < min ? min : at, mark };
    const init =
      retry || req.initMode === 'min' || (await this.firstStillHot(realTopic, queueId, min))
        ? min
        : store.getMaxOffsetInQueue(realTopic, queueId);
    offsets.commit(req.group, realTopic, queueId, init);
    return { offset: init, mark };
  }

  /**
   * RocketMQ's initPopOffsetByCheckMsgInMem: MAX on a queue that still holds its first message, recent enough to
   * be in memory (within the last 40 % of RAM of the CommitLog), starts from that message, so a new group of a
   * young topic misses nothing sent before its first pop.
   */
  private async firstStillHot(realTopic: string, queueId: number, min: bigint): Promise<boolean> {
    if (min !== 0n) return false;
    const [first] = await this.deps.store.readQueueEntries(realTopic, queueId, 0n, 1);
    if (first === undefined) return true;
    return this.deps.store.getMaxPhyOffset() - first.phyOffset <= hotBytesMax;
  }

  /** Pops one queue (under its mutex). */
  private async popQueue(
    req: PopRequest,
    realTopic: string,
    queueId: number,
    retry: boolean,
    filter: MessageFilter | undefined,
    want: number,
    popTimeMs: number,
    reviveQid: number,
  ): Promise<QueuePop> {
    const { store, offsets, config } = this.deps;
    const orderKey = orderKeyOf(req.group, realTopic, queueId);
    const held = req.fifo ? this.fifo.held(orderKey, popTimeMs) : undefined;
    const batch = held?.batch;
    if (held?.blockedUntilMs !== undefined) {
      return { messages: [], rest: this.restOf(req, realTopic, queueId), blockedUntilMs: held.blockedUntilMs };
    }
    const { offset, mark } = await this.startOffsetOf(req, realTopic, queueId, retry);
    // An unfiltered pop reads ahead for the pops after it (read-stash.ts); FIFO and filtered pops read what they want.
    const ahead = !req.fifo && filter === undefined;
    let read = ahead ? this.stash.takeAt(orderKey, offset, store.getMaxOffsetInQueue(realTopic, queueId)) : undefined;
    if (read === undefined) {
      const readNum = ahead ? Math.min(want * readAheadPops, stashReadMax) : want;
      const r = await store.getMessage(realTopic, queueId, offset, readNum, config.pullBytesMax, filter);
      if (r.status !== GetStatus.FOUND) {
        r.release?.();
        const rest = r.maxOffset > r.nextBeginOffset ? r.maxOffset - r.nextBeginOffset : 0n;
        // Past filtered-out messages, or back into the queue's range: nothing popped, so nothing to check point.
        if (r.nextBeginOffset !== offset && batch === undefined) {
          const next = r.nextBeginOffset;
          this.cursors.advance(orderKey, mark, next, () => offsets.commit(req.group, realTopic, queueId, next));
        }
        return { messages: [], rest };
      }
      if (req.fifo) {
        const rest = r.maxOffset > r.nextBeginOffset ? r.maxOffset - r.nextBeginOffset : 0n;
        let msgs: MessageExt[];
        try {
          msgs = r.records.map((rec) => decodeRecord(rec).msg);
        } finally {
          r.release?.();
        }
        const f = await this.fifo.pop(req, orderKey, batch, offset, r.nextBeginOffset, msgs, popTimeMs, rest);
        // Each round moves the consume offset forward, so this ends.
        if (f.readAgain === true)
          return this.popQueue(req, realTopic, queueId, retry, filter, want, popTimeMs, reviveQid);
        return f;
      }
      try {
        // Copied into one buffer, so the store's read blocks go back now: no decode, no per-message re-encode.
        read = StashedRead.of(r.bodyParts ?? r.records, r.queueOffsets, r.nextBeginOffset);
      } finally {
        r.release?.();
      }
    }
    const took = read.take(want);
    if (read.left > 0) this.stash.put(orderKey, read);
    const next = took.next;
    const queueMax = store.getMaxOffsetInQueue(realTopic, queueId);
    const rest = queueMax > next ? queueMax - next : 0n;
    const ck: CheckPoint = {
      key: ckKeyOf(req.group, realTopic, queueId, offset, popTimeMs),
      group: req.group,
      topic: req.topic,
      realTopic,
      retry,
      queueId,
      startOffset: offset,
      popTimeMs,
      invisibleTimeMs: req.invisibleTimeMs,
      reviveQid,
      offsets: read.queueOffsets.slice(took.first, took.end),
      nextBeginOffset: next,
      reviveOffset: -1n,
      ackedBits: 0,
      reviving: false,
    };
    const popped = storedPoppedOf(read, took.first, took.end, req.topic, this.extraInfoOf(ck, 0n));
    // Durable first: the consume offset never passes popped messages whose check point could be lost (the
    // queue's chain, pop-cursors.ts). In the table while it is written, so no revive checkpoint passes it.
    this.checkPoints.add(ck);
    const stored = this.cursors
      .chain(
        orderKey,
        mark,
        offset,
        next,
        () => this.reviveLog.writeCk(ck),
        () => offsets.commit(req.group, realTopic, queueId, next),
        // Stored, but an earlier check point of the queue was not: these messages are read again, so this one
        // must never bring them back (should this ack fail, they come back once more: never lost).
        () => void this.reviveLog.writeAck(ck, ck.offsets).catch(() => false),
      )
      .then((ok) => {
        if (!ok) {
          this.checkPoints.delete(ck.key);
          this.stash.drop(orderKey);
        }
        return ok;
      });
    return { messages: popped, rest, queue: queueOf(ck.retry, queueId, offset, ck.offsets, 0), stored };
  }

  private extraInfoOf(ck: CheckPoint, queueOffset: bigint): ExtraInfo {
    return {
      ckOffset: ck.startOffset,
      popTimeMs: ck.popTimeMs,
      invisibleTimeMs: ck.invisibleTimeMs,
      reviveQid: ck.reviveQid,
      retry: ck.retry,
      brokerName: this.deps.config.brokerName,
      queueId: ck.queueId,
      queueOffset,
    };
  }

  private parseHandle(handle: string): ExtraInfo | string {
    const e = parseExtraInfo(handle);
    if (typeof e === 'string') return e;
    if (e.brokerName !== this.deps.config.brokerName) {
      return `the handle is of broker ${e.brokerName}, this is ${this.deps.config.brokerName}`;
    }
    return e;
  }

  private ckKeyOfHandle(group: string, topic: string, e: ExtraInfo): string {
    const realTopic = e.retry ? popRetryTopicOf(group, topic) : topic;
    return ckKeyOf(group, realTopic, e.queueId, e.ckOffset, e.popTimeMs);
  }

  private nextReviveQid(): number {
    return this.popCount % this.deps.config.reviveQueueNum;
  }
}

function storeRefused(rest: bigint): QueuePop {
  return {
    messages: [],
    rest,
    failed: refused(ResponseCode.SYSTEM_ERROR, 'the pop check point could not be stored (store not writable)'),
  };
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
