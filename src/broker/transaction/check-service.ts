/**
 * The transaction check pass (RocketMQ's TransactionalMessageCheckService), run every transactionCheckInterval:
 * reads the op records, then walks the half queue from the check offset. A half message with no op record and
 * older than transactionTimeOut is put back at the end of the half queue with TRANSACTION_CHECK_TIMES + 1 and
 * that copy is sent as CHECK_TRANSACTION_STATE (39) to a live producer of its group, whose END_TRANSACTION
 * resolves it; past transactionCheckMax it is rolled back (an op record) and logged.
 *
 * Everything lives in the store: half and op topics, and the pass's progress as consumer offsets of
 * CID_RMQ_SYS_TRANS on both (consumerOffset.json). After a restart the pass starts where that left off; a
 * progress lost to a crash only repeats checks, never loses a half message.
 */
import type { Logger } from '../../common/log.js';
import type { MessageExt } from '../../common/message.js';
import { Prop } from '../../common/properties.js';
import { decodeRecord } from '../../common/record.js';
import { SystemGroup, SystemTopic } from '../../common/topics.js';
import { RequestCode } from '../../remoting/codes.js';
import { createRequest } from '../../remoting/command.js';
import { encodeCheckTransactionStateHeader } from '../../remoting/protocol/transaction.js';
import { offsetMsgIdsOf } from '../../store/results.js';
import type { MessageStore, PutResult } from '../../store/types.js';
import type { ClientManager } from '../clients/client-manager.js';
import type { BrokerConfig } from '../config.js';
import type { ConsumerOffsetManager } from '../metadata/consumer-offsets.js';
import { answerOfPutStatus } from '../put/put-status.js';
import { halfQueueId } from '../put/transaction-hook.js';
import type { PutMessage } from '../put/types.js';
import { checkTimesOf, decideHalf, HalfDecision, immunityMsOf } from './check-decision.js';
import type { ClosedHalves } from './closed-halves.js';
import {
  checkBodyOf,
  checkCopyOf,
  offsetsToMarkDone,
  opOffsetsOf,
  opRecordOf,
  originOffsetOf,
  realTargetOf,
} from './half-message.js';

/** Records read per store call. */
const readBatch = 32;
/** Half messages one pass looks at, at most; the rest wait for the next pass. */
const halfPerPassMax = 10_000;
/** Time one pass may take (RocketMQ: 60 s). */
const passMsMax = 60_000;

export interface TransactionCheckDeps {
  readonly config: Pick<BrokerConfig, 'transactionTimeOut' | 'transactionCheckMax'>;
  readonly store: MessageStore;
  /** Stores without the put hooks (copies and op records are final). */
  readonly putRewritten: (msg: PutMessage) => Promise<PutResult>;
  readonly offsets: ConsumerOffsetManager;
  readonly clients: ClientManager;
  /** Filled from the op records before any check is sent, so END_TRANSACTION knows what is closed. */
  readonly closedHalves: ClosedHalves;
  readonly brokerAddr: () => string;
  readonly log: Logger;
}

/** What one pass did, for tests and logs. */
export interface CheckPassResult {
  checked: number;
  discarded: number;
  requeued: number;
  done: number;
  /** Checks that found no live producer of the group. */
  noProducer: number;
}

export class TransactionCheckService {
  private producerPick = 0;

  constructor(private readonly deps: TransactionCheckDeps) {}

  async runPass(nowMs = Date.now()): Promise<CheckPassResult> {
    const result: CheckPassResult = { checked: 0, discarded: 0, requeued: 0, done: 0, noProducer: 0 };
    const { store, offsets } = this.deps;
    const half = SystemTopic.transHalf;
    const op = SystemTopic.transOpHalf;
    const group = SystemGroup.transCheck;
    const halfMax = store.getMaxOffsetInQueue(half, halfQueueId);
    if (halfMax === 0n) return result;
    const halfMin = store.getMinOffsetInQueue(half, halfQueueId);
    const opMin = store.getMinOffsetInQueue(op, halfQueueId);
    let halfOffset = maxOf(offsets.query(group, half, halfQueueId) ?? halfMin, halfMin);
    const opStart = maxOf(offsets.query(group, op, halfQueueId) ?? opMin, opMin);

    const ops = await this.readOps(opStart);
    const done = new Set<bigint>();
    for (const o of ops) {
      for (const x of o.offsets) {
        done.add(x);
        this.deps.closedHalves.add(x);
      }
    }

    // Origins of copies passed over unresolved: op records naming them must stay readable.
    let pendingOriginMin: bigint | undefined;
    const passStartMs = nowMs;
    const rules = {
      nowMs,
      passStartMs,
      transactionTimeOut: this.deps.config.transactionTimeOut,
      transactionCheckMax: this.deps.config.transactionCheckMax,
    };
    let seen = 0;
    scan: while (halfOffset < halfMax && seen < halfPerPassMax && Date.now() - passStartMs < passMsMax) {
      const got = await store.getMessage(half, halfQueueId, halfOffset, readBatch, 4 * 1024 * 1024);
      if (got.records.length === 0) {
        // Removed by retention (or a damaged entry): move on to what the store still has.
        if (got.nextBeginOffset <= halfOffset) break;
        halfOffset = got.nextBeginOffset;
        continue;
      }
      try {
        for (let k = 0; k < got.records.length; k++) {
          const queueOffset = got.queueOffsets[k] as bigint;
          const msg = decodeRecord(got.records[k] as Buffer).msg;
          seen++;
          const origin = originOffsetOf(msg);
          const decision = decideHalf(
            {
              resolved: done.has(queueOffset) || done.has(origin),
              checkTimes: checkTimesOf(msg.properties.get(Prop.transactionCheckTimes)),
              storeTimestampMs: Number(msg.storeTimestamp),
              bornTimestampMs: Number(msg.bornTimestamp),
              immunityMs: immunityMsOf(msg.properties.get(Prop.checkImmunityTimeInSeconds)),
            },
            rules,
          );
          if (decision === HalfDecision.stop) break scan;
          if (decision === HalfDecision.done) result.done++;
          else if (decision === HalfDecision.discard) {
            if (!(await this.discard(msg))) break scan;
            result.discarded++;
          } else {
            const times = checkTimesOf(msg.properties.get(Prop.transactionCheckTimes));
            const copy = await this.putCopy(msg, decision === HalfDecision.check ? times + 1 : times);
            if (copy === undefined) break scan;
            if (pendingOriginMin === undefined || origin < pendingOriginMin) pendingOriginMin = origin;
            if (decision === HalfDecision.check) {
              if (this.sendCheck(copy)) result.checked++;
              else result.noProducer++;
            } else result.requeued++;
          }
          halfOffset = queueOffset + 1n;
        }
      } finally {
        got.release?.();
      }
    }

    // Op records are kept while a half message they may name is still ahead of the check offset.
    const keepFrom = pendingOriginMin !== undefined && pendingOriginMin < halfOffset ? pendingOriginMin : halfOffset;
    let opOffset = opStart;
    for (const o of ops) {
      if (o.offsets.some((x) => x >= keepFrom)) break;
      opOffset = o.queueOffset + 1n;
    }
    offsets.commit(group, half, halfQueueId, halfOffset);
    offsets.commit(group, op, halfQueueId, opOffset);
    return result;
  }

  /** Every op record from `from` on (their number is bounded by the half messages done ahead of the check). */
  private async readOps(from: bigint): Promise<Array<{ queueOffset: bigint; offsets: bigint[] }>> {
    const { store } = this.deps;
    const op = SystemTopic.transOpHalf;
    const max = store.getMaxOffsetInQueue(op, halfQueueId);
    const out: Array<{ queueOffset: bigint; offsets: bigint[] }> = [];
    let at = from;
    while (at < max) {
      const got = await store.getMessage(op, halfQueueId, at, readBatch, 1024 * 1024);
      try {
        if (got.records.length === 0) {
          if (got.nextBeginOffset <= at) break;
          at = got.nextBeginOffset;
          continue;
        }
        for (let k = 0; k < got.records.length; k++) {
          const msg = decodeRecord(got.records[k] as Buffer).msg;
          out.push({ queueOffset: got.queueOffsets[k] as bigint, offsets: opOffsetsOf(msg.body) });
        }
        at = got.nextBeginOffset;
      } finally {
        got.release?.();
      }
    }
    return out;
  }

  /** Puts a copy back at the end of the half queue; undefined (and logged) when the store refused it. */
  private async putCopy(msg: MessageExt, checkTimes: number): Promise<MessageExt | undefined> {
    const input = checkCopyOf(msg, checkTimes);
    const r = await this.deps.putRewritten(input);
    if (!stored(r)) {
      this.deps.log.warn('transaction check: putting a half message back failed; the next pass retries', {
        status: r.status,
        remark: r.remark,
      });
      return undefined;
    }
    return {
      ...msg,
      queueOffset: r.queueOffset,
      commitLogOffset: r.wroteOffset,
      properties: new Map(msg.properties)
        .set(Prop.transactionCheckTimes, String(checkTimes))
        .set(Prop.tranPreparedQueueOffset, String(originOffsetOf(msg))),
      offsetMsgId: offsetMsgIdsOf(r)[0] ?? msg.offsetMsgId,
      storeTimestamp: r.storeTimestamp,
    };
  }

  /** Rolls back a half message checked too often: an op record, and a log line naming it. */
  private async discard(msg: MessageExt): Promise<boolean> {
    // A commit that claimed it first wins; otherwise no later answer may commit it.
    const origin = originOffsetOf(msg);
    if (!this.deps.closedHalves.claim(origin)) return true;
    const r = await this.deps.putRewritten(opRecordOf(offsetsToMarkDone(msg), this.deps.brokerAddr()));
    if (!stored(r)) {
      this.deps.closedHalves.release(origin);
      return false;
    }
    this.deps.log.warn('transaction check: half message rolled back after transactionCheckMax check-backs', {
      topic: msg.properties.get(Prop.realTopic),
      msgId: msg.properties.get(Prop.uniqKey),
      producerGroup: msg.properties.get(Prop.producerGroup),
      checkTimes: msg.properties.get(Prop.transactionCheckTimes),
      transactionCheckMax: this.deps.config.transactionCheckMax,
    });
    return true;
  }

  /** CHECK_TRANSACTION_STATE (oneway) to a live producer of the message's group; false when none is there. */
  private sendCheck(copy: MessageExt): boolean {
    const group = copy.properties.get(Prop.producerGroup);
    const target = realTargetOf(copy);
    if (group === undefined || target === undefined) return false;
    const channels = [...(this.deps.clients.producers.get(group)?.values() ?? [])].filter((c) => !c.conn.closed);
    if (channels.length === 0) return false;
    const channel = channels[this.producerPick++ % channels.length];
    if (channel === undefined) return false;
    const uniqKey = copy.properties.get(Prop.uniqKey);
    const header = encodeCheckTransactionStateHeader({
      tranStateTableOffset: copy.queueOffset,
      commitLogOffset: copy.commitLogOffset,
      msgId: uniqKey,
      transactionId: uniqKey,
      offsetMsgId: copy.offsetMsgId,
    });
    channel.conn.invokeOneway(createRequest(RequestCode.CHECK_TRANSACTION_STATE, header, checkBodyOf(copy, target)));
    return true;
  }
}

/** Written (a flush or replica timeout still leaves the record in the log). */
function stored(r: PutResult): boolean {
  return answerOfPutStatus(r.status, r.remark).stored;
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
