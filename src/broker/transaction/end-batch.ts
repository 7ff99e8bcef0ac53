/**
 * Ends transactions in batches (the idea of RocketMQ 5's TransactionalOpBatchService): the commits and rollbacks
 * that arrive in one event-loop turn are stored together — the committed messages of one real queue as one batch
 * put, and one op record whose body lists every half offset closed (RocketMQ 5's comma list) — instead of two
 * puts per transaction. Each caller still gets its own answer, and the order of the old one-by-one path holds:
 * an op record names a half only after its commit was stored; a commit that was not stored releases its claim
 * so that the next answer (or the check pass) may commit it.
 *
 * END_TRANSACTION hands over its header (`endByHeader`): the halves of a turn are read together as bytes
 * (half-reads.ts, half-record.ts), and a oneway request waits for nothing. Halves not read that way are looked up
 * the checked async way.
 */
import { createLogger } from '../../common/log.js';
import { Prop } from '../../common/properties.js';
import { ResponseCode } from '../../remoting/codes.js';
import { type EndTransactionRequestHeader, EndTransactionType } from '../../remoting/protocol/transaction.js';
import type { PutResult } from '../../store/types.js';
import { answerOfPutStatus } from '../put/put-status.js';
import type { PutMessage, PutRefusal, PutRequest } from '../put/types.js';
import type { ClosedHalves } from './closed-halves.js';
import { committedMessageOf, offsetsToMarkDone, opRecordOf, originOffsetOf } from './half-message.js';
import { readHalvesNow } from './half-reads.js';
import { committedOfRecord, type HalfRecord } from './half-record.js';
import type { FoundHalf, Resolved } from './resolve-half.js';

const log = createLogger('broker.transaction');

/** Ends taken per turn; the rest wait for the next turn. */
export const endBatchMax = 1024;
/** Turns a flush waits at most while each brings more ends. */
const endWaitTurnsMax = 8;
/** Committed messages per batch put, and their body bytes. */
const commitBatchMax = 256;
const commitBatchBytesMax = 4 * 1024 * 1024;
/** Body bytes of one op record (RocketMQ's transactionOpMsgMaxSize). */
export const opBodyBytesMax = 4096;

export interface EndBatchDeps {
  readonly closedHalves: ClosedHalves;
  readonly put: {
    rewrite(msg: PutMessage, req: PutRequest): PutRefusal | undefined;
    putRewrittenBatch(msgs: readonly PutMessage[]): Promise<PutResult>;
  };
  readonly recordPut: (topic: string, msgs: number, bytes: number) => void;
  readonly brokerAddr: () => string;
  /** The log's recent bytes now (MessageStore.readLogNow); undefined: the half is looked up with `findHalf`. */
  readonly readLogNow?: ((offset: number, len: number) => Buffer | undefined) | undefined;
  /** The checked async lookup (resolve-half.ts). */
  readonly findHalf?: ((commitLogOffset: bigint) => Promise<FoundHalf | string>) | undefined;
}

/** A half to close: found decoded (`found`) or read as bytes (`record`). */
interface PendingEnd {
  readonly found: FoundHalf | undefined;
  readonly record: HalfRecord | undefined;
  readonly commit: boolean;
  /** Undefined for a oneway END_TRANSACTION: nobody waits for the answer. */
  readonly resolve: ((r: Resolved) => void) | undefined;
}

/** An END_TRANSACTION whose half is still to be read. */
interface PendingHeader {
  readonly h: EndTransactionRequestHeader;
  readonly resolve: ((r: Resolved) => void) | undefined;
}

/** RocketMQ's EndTransactionProcessor checks, in its order; the remark when one fails. */
export function endCheckFails(
  h: EndTransactionRequestHeader,
  half: { producerGroup: string | undefined; queueOffset: bigint; commitLogOffset: bigint },
): string | undefined {
  if (half.producerGroup !== h.producerGroup) return 'The producer group wrong';
  if (half.queueOffset !== h.tranStateTableOffset) return 'The transaction state table offset wrong';
  if (half.commitLogOffset !== h.commitLogOffset) return 'The commit log offset wrong';
  return undefined;
}

interface Commit {
  readonly end: PendingEnd;
  readonly msg: PutMessage;
  readonly origin: bigint;
}

export class TransactionEndBatch {
  private pending: PendingEnd[] = [];
  private headers: PendingHeader[] = [];
  private scheduled = false;
  /** Ends queued when the flush was last put off, and how many turns it was. */
  private seen = 0;
  private waitedTurns = 0;

  constructor(private readonly deps: EndBatchDeps) {}

  /** Commits (or rolls back) a found half message together with the other ends of this turn. */
  end(found: FoundHalf, commit: boolean): Promise<Resolved> {
    return new Promise((resolve) => {
      this.pending.push({ found, record: undefined, commit, resolve });
      this.schedule();
    });
  }

  /**
   * END_TRANSACTION (commit or rollback): the half named by the header is read with the other halves of this turn,
   * checked against the header, then ended. `answer` false (oneway): nothing waits, undefined is returned.
   */
  endByHeader(h: EndTransactionRequestHeader, answer: boolean): Promise<Resolved> | undefined {
    if (!answer) {
      this.headers.push({ h, resolve: undefined });
      this.schedule();
      return undefined;
    }
    return new Promise((resolve) => {
      this.headers.push({ h, resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.seen = this.queued();
    this.waitedTurns = 0;
    setImmediate(this.onTurn);
  }

  private queued(): number {
    return this.headers.length + this.pending.length;
  }

  /**
   * At the end of a turn: while the last turn brought more ends (a producer's burst of END_TRANSACTIONs read over
   * several turns, the server sharing each turn among connections), wait one more turn, up to endWaitTurnsMax, so
   * that the burst is stored with one put per queue and one op record rather than one per turn.
   */
  private readonly onTurn = (): void => {
    const n = this.queued();
    if (n > this.seen && n < endBatchMax && this.waitedTurns < endWaitTurnsMax) {
      this.seen = n;
      this.waitedTurns++;
      setImmediate(this.onTurn);
      return;
    }
    this.scheduled = false;
    const headers = this.headers.splice(0, endBatchMax);
    const batch = this.pending.splice(0, endBatchMax - headers.length);
    if (this.queued() > 0) this.schedule();
    this.endAll(headers, batch).catch((err: unknown) => {
      const r = { code: ResponseCode.SYSTEM_ERROR, remark: `end transaction: ${err}` };
      for (const e of batch) e.resolve?.(r);
      for (const e of headers) e.resolve?.(r);
    });
  };

  private async endAll(headers: readonly PendingHeader[], batch: PendingEnd[]): Promise<void> {
    if (headers.length > 0) {
      const readNow = this.deps.readLogNow;
      const later =
        readNow === undefined
          ? headers
          : readHalvesNow(headers, readNow, (e, half) => this.checked(e, half, undefined, batch));
      if (later.length > 0) await Promise.all(later.map((e) => this.findLater(e, batch)));
    }
    await this.flush(batch);
  }

  /** The checked async lookup, for a half not read as bytes. */
  private async findLater(e: PendingHeader, out: PendingEnd[]): Promise<void> {
    const find = this.deps.findHalf;
    // A failed lookup answers its own end only.
    const found =
      find === undefined
        ? 'Find prepared transaction message failed'
        : await find(e.h.commitLogOffset).catch((err: unknown) => `Find prepared transaction message failed: ${err}`);
    this.checked(e, found, found, out);
  }

  /** Queues the end of a half that passes RocketMQ's checks; answers one that does not. */
  private checked(
    e: PendingHeader,
    half: HalfRecord | FoundHalf | string,
    found: FoundHalf | string | undefined,
    out: PendingEnd[],
  ): void {
    if (typeof half === 'string') {
      e.resolve?.({ code: ResponseCode.SYSTEM_ERROR, remark: half });
      return;
    }
    const fields =
      'half' in half
        ? {
            producerGroup: half.half.properties.get(Prop.producerGroup),
            queueOffset: half.half.queueOffset,
            commitLogOffset: half.half.commitLogOffset,
          }
        : half;
    const bad = endCheckFails(e.h, fields);
    if (bad !== undefined) {
      e.resolve?.({ code: ResponseCode.SYSTEM_ERROR, remark: bad });
      return;
    }
    const commit = e.h.commitOrRollback === EndTransactionType.commit;
    if (typeof found === 'object') out.push({ found, record: undefined, commit, resolve: e.resolve });
    else out.push({ found: undefined, record: half as HalfRecord, commit, resolve: e.resolve });
  }

  private async flush(batch: readonly PendingEnd[]): Promise<void> {
    const { closedHalves, put } = this.deps;
    const groups = new Map<string, Commit[]>();
    /** Ends whose half may now be marked done: rollbacks, repeated answers and stored commits. */
    const done: PendingEnd[] = [];
    /** Commits not stored, by reason. */
    const failed = new Map<string, number>();
    for (const end of batch) {
      const origin = end.record?.origin ?? originOffsetOf((end.found as FoundHalf).half);
      // Only the first answer for a transaction commits; a later one just closes its copy.
      if (!(closedHalves.claim(origin) && end.commit)) {
        done.push(end);
        continue;
      }
      const msg =
        end.record !== undefined
          ? committedOfRecord(end.record)
          : committedMessageOf((end.found as FoundHalf).half, (end.found as FoundHalf).target);
      const refused = put.rewrite(msg, { reconsumeTimes: msg.reconsumeTimes, maxReconsumeTimes: undefined });
      if (refused !== undefined) {
        closedHalves.release(origin);
        end.resolve?.({ code: refused.code, remark: refused.remark });
        countFailed(failed, refused.remark ?? `code ${refused.code}`);
        continue;
      }
      // The hooks may move it (a committed delayed message): group by where it is stored.
      const key = `${msg.topic}\u0000${msg.queueId}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [{ end, msg, origin }]);
      else group.push({ end, msg, origin });
    }
    const stored = await Promise.all(
      [...groups.values()].flatMap((g) => chunks(g).map((c) => this.putCommits(c, failed))),
    );
    for (const s of stored) done.push(...s);
    // A oneway END_TRANSACTION (the Java client's) has nobody to tell: say it here, once per turn.
    for (const [why, commits] of failed) {
      log.warn('commits not stored: their half messages stay open and the check service asks the producers again', {
        commits,
        why,
      });
    }
    await this.markDone(done);
  }

  /** Stores one chunk of commits of one queue; answers those not stored. Resolves with the stored ones. */
  private async putCommits(chunk: readonly Commit[], failed: Map<string, number>): Promise<PendingEnd[]> {
    const r = await this.deps.put.putRewrittenBatch(chunk.map((c) => c.msg));
    const answer = answerOfPutStatus(r.status, r.remark);
    if (answer.stored) {
      this.deps.recordPut((chunk[0] as Commit).msg.topic, chunk.length, r.wroteBytes);
      return chunk.map((c) => c.end);
    }
    // A batch is refused as a whole: try its messages alone, so one bad message fails only its own commit.
    if (chunk.length > 1) {
      const alone = await Promise.all(chunk.map((c) => this.putCommits([c], failed)));
      return alone.flat();
    }
    const c = chunk[0] as Commit;
    // Not stored: no op record, so the check service asks the producer again.
    this.deps.closedHalves.release(c.origin);
    const why = answer.remark ?? 'commit failed';
    c.end.resolve?.({ code: answer.code, remark: why });
    countFailed(failed, why);
    return [];
  }

  /** Writes the op records naming every half of `ends` and answers them. */
  private async markDone(ends: readonly PendingEnd[]): Promise<void> {
    const puts: Promise<void>[] = [];
    let offsets: bigint[] = [];
    let members: PendingEnd[] = [];
    let bytes = 0;
    const cut = () => {
      if (members.length === 0) return;
      puts.push(this.putOp(offsets, members));
      offsets = [];
      members = [];
      bytes = 0;
    };
    for (const end of ends) {
      const mine = marksOf(end);
      const more = mine.reduce((n, o) => n + o.toString().length + 1, 0);
      if (bytes + more > opBodyBytesMax) cut();
      offsets.push(...mine);
      members.push(end);
      bytes += more;
    }
    cut();
    await Promise.all(puts);
  }

  private async putOp(offsets: readonly bigint[], members: readonly PendingEnd[]): Promise<void> {
    const r = await this.deps.put.putRewrittenBatch([opRecordOf(offsets, this.deps.brokerAddr())]);
    const answer = answerOfPutStatus(r.status, r.remark);
    if (answer.stored) {
      for (const m of members) m.resolve?.(succeeded);
      return;
    }
    // Committed but not marked done: a later check may commit it again (at least once, as RocketMQ).
    log.warn('writing the transaction op record failed; its half messages will be checked again', {
      halves: offsets.length,
      status: r.status,
    });
    for (const m of members) m.resolve?.({ code: answer.code, remark: answer.remark ?? 'op record not stored' });
  }
}

const succeeded: Resolved = { code: ResponseCode.SUCCESS };

function countFailed(failed: Map<string, number>, why: string): void {
  failed.set(why, (failed.get(why) ?? 0) + 1);
}

/** The half queue offsets the op record names for `end`: its own and, for a check's copy, the first one. */
function marksOf(end: PendingEnd): bigint[] {
  const r = end.record;
  if (r === undefined) return offsetsToMarkDone((end.found as FoundHalf).half);
  return r.origin === r.queueOffset ? [r.queueOffset] : [r.queueOffset, r.origin];
}

/** The commits of one queue cut into batch puts of at most commitBatchMax messages and commitBatchBytesMax. */
function chunks(commits: readonly Commit[]): Commit[][] {
  const out: Commit[][] = [];
  let cur: Commit[] = [];
  let bytes = 0;
  for (const c of commits) {
    if (cur.length > 0 && (cur.length >= commitBatchMax || bytes + c.msg.body.length > commitBatchBytesMax)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(c);
    bytes += c.msg.body.length;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
