/**
 * TransactionProducer (RocketMQ's TransactionMQProducer + TransactionListener): sends a half message, runs the
 * local transaction, then commits or rolls it back with END_TRANSACTION; answers the broker's
 * CHECK_TRANSACTION_STATE for transactions left UNKNOWN (or whose producer died) with `checkLocal`.
 */
import { InvalidArgumentError, TsRocketError } from '../common/errors.js';
import { Prop } from '../common/properties.js';
import { decodeOffsetMsgId } from '../common/record.js';
import { type EndTransactionRequestHeader, EndTransactionType } from '../remoting/protocol/transaction.js';
import { SendStatus } from './client-api.js';
import { ClientInstance, uniqueInstanceName } from './client-instance.js';
import { LocalTransactionError, TransactionStateError } from './errors.js';
import type { Logger } from './logger.js';
import type { Message } from './message.js';
import { Producer, type ProducerOptions, type SendResult } from './producer.js';
import type { ReceivedMessage } from './received-message.js';
import { TraceTransactionState } from './trace/trace-data.js';
import { EndFrameEncoder, type EndFrameFields } from './transaction/end-frames.js';

/** How a local transaction ended (RocketMQ's LocalTransactionState: COMMIT_MESSAGE, ROLLBACK_MESSAGE, UNKNOW). */
export const TransactionState = { COMMIT: 'COMMIT', ROLLBACK: 'ROLLBACK', UNKNOWN: 'UNKNOWN' } as const;
export type TransactionState = (typeof TransactionState)[keyof typeof TransactionState];

const endTypeOf: Readonly<Record<TransactionState, EndTransactionType>> = {
  COMMIT: EndTransactionType.commit,
  ROLLBACK: EndTransactionType.rollback,
  UNKNOWN: EndTransactionType.unknown,
};

/** RocketMQ's LocalTransactionState names, as EndTransaction trace records spell them. */
const traceStateOf: Readonly<Record<TransactionState, TraceTransactionState>> = {
  COMMIT: TraceTransactionState.COMMIT_MESSAGE,
  ROLLBACK: TraceTransactionState.ROLLBACK_MESSAGE,
  UNKNOWN: TraceTransactionState.UNKNOW,
};

export interface TransactionProducerOptions
  extends Omit<ProducerOptions, 'autoBatch' | 'batchMaxMessages' | 'batchMaxBytes' | 'group'> {
  /** Producer group: the broker sends checks to a live producer of this group. Required. */
  group: string;
  /** Runs the local transaction once the half message is stored; a throw counts as UNKNOWN. */
  executeLocal: (msg: Message, arg: unknown) => TransactionState | Promise<TransactionState>;
  /** Tells the broker how the transaction of a half message ended (asked for UNKNOWN and orphaned ones). */
  checkLocal: (msg: ReceivedMessage) => TransactionState | Promise<TransactionState>;
}

/** What `send` resolves with. */
export interface TransactionSendResult {
  sendResult: SendResult;
  /** What was sent as END_TRANSACTION (UNKNOWN sends nothing: the broker checks back later). */
  state: TransactionState;
  /** Why `state` is UNKNOWN when executeLocal threw or returned something else. */
  localError?: LocalTransactionError | TransactionStateError | undefined;
}

export class TransactionProducer {
  readonly group: string;
  private readonly producer: Producer;
  private readonly opts: TransactionProducerOptions;
  private readonly instanceName: string;
  private instance: ClientInstance | undefined;
  private log: Logger | undefined;
  /** Brokers this producer's group was announced to since a half message went there. */
  private readonly announced = new Set<string>();
  /** END_TRANSACTIONs of this turn, written together (`writeEnds`). */
  private ends: QueuedEnd[] = [];
  private endsScheduled = false;
  /** Writes of END_TRANSACTIONs under way: shutdown waits for them. */
  private readonly endWrites = new Set<Promise<void>>();
  /** END_TRANSACTION frames of this group, written from a template. */
  private readonly endFrames: EndFrameEncoder;

  constructor(opts: TransactionProducerOptions) {
    if (typeof opts?.group !== 'string' || opts.group === '') {
      throw new InvalidArgumentError('a transactional producer needs a group');
    }
    if (typeof opts.executeLocal !== 'function') throw new InvalidArgumentError('executeLocal must be a function');
    if (typeof opts.checkLocal !== 'function') throw new InvalidArgumentError('checkLocal must be a function');
    this.opts = opts;
    this.group = opts.group;
    this.endFrames = new EndFrameEncoder(opts.group);
    // Its own client instance unless one is named: the broker checks back over the connection of a client id.
    this.instanceName = opts.instanceName ?? uniqueInstanceName();
    // Auto-batched: the half messages of concurrent sends issued in one turn travel as one batch (tsrocket's broker
    // stores each as a half message of its own; against RocketMQ's they go one by one), and the END_TRANSACTIONs
    // they lead to leave together in the turn their answer arrives in.
    this.producer = new Producer({ ...opts, instanceName: this.instanceName, autoBatch: true });
  }

  async start(): Promise<void> {
    if (this.instance !== undefined) return;
    await this.producer.start();
    const inst = ClientInstance.acquire({ ...this.opts, instanceName: this.instanceName });
    try {
      inst.registerTransactionChecker(this.group, (msg, header, reply) => {
        this.answerCheck(msg, header.tranStateTableOffset, header.commitLogOffset, header.transactionId, reply);
      });
    } catch (err) {
      await inst.release();
      await this.producer.shutdown();
      throw err;
    }
    this.instance = inst;
    this.log = inst.logFor('transaction-producer');
    // Brokers learn the group now, so a check can reach this producer before the first periodic heartbeat.
    await inst.sendHeartbeatToAll();
  }

  async shutdown(): Promise<void> {
    const inst = this.instance;
    if (inst === undefined) return;
    this.instance = undefined;
    inst.unregisterTransactionChecker(this.group);
    this.writeEnds(inst);
    await Promise.all([...this.endWrites]);
    await this.producer.shutdown();
    await inst.release();
  }

  /**
   * Sends `msg` as a half message (invisible to consumers), runs `executeLocal(msg, arg)` and ends the
   * transaction as it answers. A failed send throws (nothing was stored); a local transaction that throws or
   * answers UNKNOWN leaves the message to the broker's check-back. The END_TRANSACTION leaves with the others of
   * this turn, just after it (`writeEnds`); if it never arrives, the broker's check-back asks `checkLocal`.
   */
  async send(msg: Message, arg?: unknown): Promise<TransactionSendResult> {
    const inst = this.instance;
    if (inst === undefined) throw new TsRocketError(`transactional producer ${this.group} is not started`);
    const properties = { ...msg.properties, [Prop.transactionPrepared]: 'true', [Prop.producerGroup]: this.group };
    const sendResult = await this.producer.send({ ...msg, properties });
    this.announceTo(inst, sendResult.messageQueue.brokerName);
    let state: TransactionState = TransactionState.ROLLBACK;
    let localError: TransactionSendResult['localError'];
    // As RocketMQ: a half message not stored durably is rolled back without running the local transaction.
    if (sendResult.status === SendStatus.SEND_OK) {
      try {
        const answered = await this.opts.executeLocal(msg, arg);
        if (isState(answered)) state = answered;
        else {
          state = TransactionState.UNKNOWN;
          localError = new TransactionStateError(sendResult.msgId, answered);
        }
      } catch (err) {
        state = TransactionState.UNKNOWN;
        localError = new LocalTransactionError(sendResult.msgId, err);
      }
    }
    if (state !== TransactionState.UNKNOWN) this.end(inst, msg, sendResult, state);
    return { sendResult, state, localError };
  }

  /**
   * Heartbeats at once when a half message first reaches a broker: checks go to producers the broker knows, and
   * the periodic heartbeat may be 30 s away.
   */
  private announceTo(inst: ClientInstance, brokerName: string): void {
    const addr = inst.masterAddr(brokerName);
    if (addr === undefined || this.announced.has(addr)) return;
    this.announced.add(addr);
    inst.sendHeartbeatToAll().catch((err: unknown) => this.log?.debug('heartbeat failed', { err }));
  }

  /** Queues the END_TRANSACTION after the local transaction; a failure is logged and left to the check-back. */
  private end(inst: ClientInstance, msg: Message, r: SendResult, state: TransactionState): void {
    const addr = inst.masterAddr(r.messageQueue.brokerName);
    if (addr === undefined) {
      this.log?.warn('END_TRANSACTION was not sent; the broker will check the transaction back', {
        msgId: r.msgId,
        state,
        err: new TsRocketError(`broker ${r.messageQueue.brokerName} has no known master`),
      });
      return;
    }
    this.ends.push({ addr, msg, r, state });
    if (this.endsScheduled) return;
    this.endsScheduled = true;
    // Two turns' ends: the half messages the finished sends' callers issue next leave first (the send accumulator
    // flushes at the end of this turn), so the broker stores them before it works through these commits.
    setImmediate(() => setImmediate(() => this.writeEnds(inst)));
  }

  /** Writes the queued END_TRANSACTIONs, those of one broker in one socket write. */
  private writeEnds(inst: ClientInstance): void {
    this.endsScheduled = false;
    const ends = this.ends;
    if (ends.length === 0) return;
    this.ends = [];
    const byAddr = new Map<string, QueuedEnd[]>();
    for (const e of ends) {
      const group = byAddr.get(e.addr);
      if (group === undefined) byAddr.set(e.addr, [e]);
      else group.push(e);
    }
    for (const [addr, all] of byAddr) {
      const group: QueuedEnd[] = [];
      const fields: EndFrameFields[] = [];
      for (const e of all) {
        const f = fieldsOf(e);
        if (typeof f === 'string') {
          this.log?.warn('END_TRANSACTION was not sent; the broker will check the transaction back', {
            msgId: e.r.msgId,
            err: new TsRocketError(f),
          });
          continue;
        }
        group.push(e);
        fields.push(f);
      }
      if (group.length === 0) continue;
      const w = inst.remoting.writeOneway(addr, this.endFrames.encode(fields)).then(
        () => {
          const tracer = this.producer.tracer;
          if (tracer !== undefined) for (const e of group) tracer.endTransaction(e.msg, e.r, traceStateOf[e.state]);
        },
        (err: unknown) => {
          this.log?.warn('END_TRANSACTION was not sent; the broker will check the transaction back', {
            msgIds: group.map((e) => e.r.msgId).join(','),
            err,
          });
        },
      );
      this.endWrites.add(w);
      w.finally(() => this.endWrites.delete(w));
    }
  }

  private answerCheck(
    msg: ReceivedMessage,
    tranStateTableOffset: bigint,
    commitLogOffset: bigint,
    transactionId: string | undefined,
    reply: (h: EndTransactionRequestHeader) => void,
  ): void {
    Promise.resolve()
      .then(() => this.opts.checkLocal(msg))
      .then(
        (answered) => {
          if (!isState(answered)) throw new TransactionStateError(msg.msgId, answered);
          if (answered === TransactionState.UNKNOWN) return;
          reply({
            producerGroup: this.group,
            tranStateTableOffset,
            commitLogOffset,
            commitOrRollback: endTypeOf[answered],
            fromTransactionCheck: true,
            msgId: msg.msgId,
            transactionId: transactionId ?? msg.msgId,
            topic: msg.topic,
          });
        },
        (err: unknown) => {
          throw new LocalTransactionError(msg.msgId, err);
        },
      )
      .catch((err: unknown) => this.log?.warn('checkLocal gave no answer; the broker will ask again', { err }));
  }
}

/** An END_TRANSACTION waiting for the end of the turn. */
interface QueuedEnd {
  readonly addr: string;
  readonly msg: Message;
  readonly r: SendResult;
  readonly state: TransactionState;
}

/**
 * The END_TRANSACTION header values of a queued end (fromTransactionCheck false); why not, when the send's
 * offsetMsgId names no CommitLog offset (the check-back resolves that transaction).
 */
function fieldsOf(e: QueuedEnd): EndFrameFields | string {
  const { r } = e;
  let commitLogOffset: bigint;
  try {
    commitLogOffset = decodeOffsetMsgId(r.offsetMsgId).commitLogOffset;
  } catch (err) {
    return `the send's offsetMsgId names no CommitLog offset: ${(err as Error).message}`;
  }
  return {
    tranStateTableOffset: r.queueOffset,
    commitLogOffset,
    commitOrRollback: endTypeOf[e.state],
    msgId: r.msgId,
    transactionId: r.transactionId ?? r.msgId,
    topic: r.messageQueue.topic,
  };
}

function isState(v: unknown): v is TransactionState {
  return v === TransactionState.COMMIT || v === TransactionState.ROLLBACK || v === TransactionState.UNKNOWN;
}
