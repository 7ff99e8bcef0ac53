/**
 * A SimpleConsumer's acks, gathered per broker until the event loop's next turn and sent as one
 * BATCH_ACK_MESSAGE (RocketMQ's BatchAck body: one entry per check point), so acking what one receive() returned
 * costs one request and one revive-log record per check point instead of one of each per message. A lone ack, a
 * handle a BatchAck cannot carry, and every ack to a broker without the request go as ACK_MESSAGE.
 */
import { ResponseCode } from '../remoting/codes.js';
import type { BatchAck } from '../remoting/protocol/pop.js';
import { batchAckOffsetsMax } from '../remoting/protocol/pop.js';
import { type PopExtraInfo, PopRetryMark } from '../remoting/protocol/pop-extra-info.js';
import type { AckAnswer, BatchAckAnswer } from './pop-api.js';

/** One ack waiting for its request. */
export interface PendingAck {
  readonly info: PopExtraInfo;
  /** The popped (original) topic. */
  readonly topic: string;
  /** The receipt handle (ACK_MESSAGE's extraInfo, should it go alone). */
  readonly extraInfo: string;
  /**
   * Shared by every ack of one check point (the handle parts of one queue of one POP answer), so they are grouped
   * without a text key per ack; absent for a handle parsed from its text.
   */
  readonly checkPoint?: object | undefined;
}

export interface PopAckSender {
  single(addr: string, ack: PendingAck): Promise<AckAnswer>;
  batch(addr: string, brokerName: string, acks: BatchAck[]): Promise<BatchAckAnswer>;
}

/** How one ack ended: the broker's answer, or the request's error. */
export type AckOutcome = AckAnswer | { readonly status: 'failed'; readonly error: unknown };

/** The outcomes of one add() or addAll() call: one promise per call, not one per ack. */
class Outcomes {
  readonly out: AckOutcome[];
  private left: number;

  constructor(
    n: number,
    private readonly done: (o: AckOutcome[]) => void,
  ) {
    this.out = new Array<AckOutcome>(n);
    this.left = n;
  }

  settle(i: number, o: AckOutcome): void {
    this.out[i] = o;
    if (--this.left === 0) this.done(this.out);
  }
}

/** An ack of this turn: the caller's PendingAck (not copied) and where its outcome goes. */
class Waiting {
  constructor(
    readonly ack: PendingAck,
    readonly outcomes: Outcomes,
    readonly index: number,
  ) {}

  answer(a: AckAnswer): void {
    this.outcomes.settle(this.index, a);
  }

  fail(error: unknown): void {
    this.outcomes.settle(this.index, { status: 'failed', error });
  }
}

const ok: AckAnswer = { status: 'ok' };
const tooLate: AckAnswer = {
  status: 'gone',
  code: ResponseCode.NO_MESSAGE,
  remark: 'the receipt handle expired or was already acked or changed',
};

interface BatchEntry {
  readonly ack: BatchAck;
  readonly waiting: Waiting[];
  /** Bit per offset from the check point's start: a second ack of one message goes alone. */
  readonly seen: Uint32Array;
}

export class PopAcks {
  /** Per broker address: the acks of this turn. */
  private pending = new Map<string, Waiting[]>();
  private scheduled = false;
  /** Brokers that answered REQUEST_CODE_NOT_SUPPORTED to a batch ack. */
  private readonly singleOnly = new Set<string>();

  constructor(
    private readonly group: string,
    private readonly sender: PopAckSender,
  ) {}

  async add(addr: string, ack: PendingAck): Promise<AckAnswer> {
    const [o] = (await this.addAll([addr], [ack])) as [AckOutcome];
    if (o.status === 'failed') throw o.error;
    return o;
  }

  /** Acks to send this turn, `acks[i]` to broker `addrs[i]`; the outcomes in the same order. */
  addAll(addrs: readonly string[], acks: readonly PendingAck[]): Promise<AckOutcome[]> {
    if (acks.length === 0) return Promise.resolve([]);
    return new Promise<AckOutcome[]>((resolve) => {
      const outcomes = new Outcomes(acks.length, resolve);
      // The acks of one receive() go to one broker: its list is looked up once per run of equal addresses.
      let lastAddr: string | undefined;
      let list: Waiting[] = [];
      for (let i = 0; i < acks.length; i++) {
        const addr = addrs[i] as string;
        if (addr !== lastAddr) {
          let l = this.pending.get(addr);
          if (l === undefined) {
            l = [];
            this.pending.set(addr, l);
          }
          list = l;
          lastAddr = addr;
        }
        list.push(new Waiting(acks[i] as PendingAck, outcomes, i));
      }
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const all = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const [addr, list] of all) {
      if (list.length === 1 || this.singleOnly.has(addr)) {
        for (const w of list) this.sendSingle(addr, w);
        continue;
      }
      this.sendBatch(addr, (list[0] as Waiting).ack.info.brokerName, list);
    }
  }

  private sendSingle(addr: string, w: Waiting): void {
    this.sender.single(addr, w.ack).then(
      (a) => w.answer(a),
      (err) => w.fail(err),
    );
  }

  private sendBatch(addr: string, brokerName: string, list: Waiting[]): void {
    // Keyed by the shared check-point object when the handles came from one answer, else by their text.
    const entries = new Map<object | string, BatchEntry>();
    for (const w of list) {
      const a = w.ack;
      const i = a.info;
      const rel = Number(i.queueOffset - i.ckOffset);
      // A BatchAck names retry as 0/1, offsets as bits from the check point's start, and one broker name.
      if (i.retry === PopRetryMark.v2 || !(rel >= 0 && rel < batchAckOffsetsMax) || i.brokerName !== brokerName) {
        this.sendSingle(addr, w);
        continue;
      }
      const k =
        a.checkPoint ??
        `${a.topic} ${i.retry} ${i.queueId} ${i.ckOffset} ${i.popTimeMs} ${i.invisibleTimeMs} ${i.reviveQid}`;
      let e = entries.get(k);
      if (e === undefined) {
        e = {
          ack: {
            consumerGroup: this.group,
            topic: a.topic,
            retry: i.retry === PopRetryMark.v1,
            startOffset: i.ckOffset,
            queueId: i.queueId,
            reviveQueueId: i.reviveQid,
            popTime: i.popTimeMs,
            invisibleTime: i.invisibleTimeMs,
            offsets: [],
          },
          waiting: [],
          seen: new Uint32Array(batchAckOffsetsMax / 32),
        };
        entries.set(k, e);
      }
      const bit = 1 << (rel & 31);
      if (((e.seen[rel >>> 5] as number) & bit) !== 0) {
        // The same message twice in one turn: the second alone, so exactly one of them succeeds.
        this.sendSingle(addr, w);
        continue;
      }
      e.seen[rel >>> 5] = (e.seen[rel >>> 5] as number) | bit;
      e.ack.offsets.push(i.queueOffset);
      e.waiting.push(w);
    }
    const batch = [...entries.values()];
    if (batch.length === 0) return;
    if (batch.length === 1 && (batch[0] as (typeof batch)[0]).waiting.length === 1) {
      this.sendSingle(addr, (batch[0] as (typeof batch)[0]).waiting[0] as Waiting);
      return;
    }
    this.sender
      .batch(
        addr,
        brokerName,
        batch.map((e) => e.ack),
      )
      .then(
        (answer) => {
          if (answer.status === 'unsupported') {
            this.singleOnly.add(addr);
            for (const e of batch) for (const w of e.waiting) this.sendSingle(addr, w);
            return;
          }
          if (answer.status !== 'ok') {
            for (const e of batch) for (const w of e.waiting) w.answer(answer);
            return;
          }
          if (answer.expired.length === 0) {
            for (const e of batch) for (const w of e.waiting) w.answer(ok);
            return;
          }
          const late = new Map<number, readonly bigint[]>();
          for (const x of answer.expired) late.set(x.ack, x.offsets);
          batch.forEach((e, n) => {
            const offsets = late.get(n);
            for (const w of e.waiting) w.answer(offsets?.includes(w.ack.info.queueOffset) === true ? tooLate : ok);
          });
        },
        (err) => {
          for (const e of batch) for (const w of e.waiting) w.fail(err);
        },
      );
  }
}
