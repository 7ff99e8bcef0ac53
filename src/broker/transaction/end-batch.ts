/**
 * Ends transactions in batches (the idea of RocketMQ 5's TransactionalOpBatchService): the commits and rollbacks
 * that arrive in one event-loop turn are stored together — the committed messages of one real queue as one batch
 * put, and one op record whose body lists every half offset closed (RocketMQ 5's comma list) — instead of two
 * puts per transaction. Each caller still gets its own answer, and the order of the old one-by-one path holds:
 * an op record names a half only after its commit was stored; a commit that was not stored releases its claim
 * so that the next answer (or the check pass) may commit it.
 */
import { createLogger } from '../../common/log.js';
import { ResponseCode } from '../../remoting/codes.js';
import type { PutResult } from '../../store/types.js';
import { answerOfPutStatus } from '../put/put-status.js';
import type { PutMessage, PutRefusal, PutRequest } from '../put/types.js';
import type { ClosedHalves } from './closed-halves.js';
import { committedMessageOf, offsetsToMarkDone, opRecordOf, originOffsetOf } from './half-message.js';
import type { FoundHalf, Resolved } from './resolve-half.js';

const log = createLogger('broker.transaction');

/** Ends taken per turn; the rest wait for the next turn. */
export const endBatchMax = 1024;
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
}

interface PendingEnd {
  readonly found: FoundHalf;
  readonly commit: boolean;
  readonly resolve: (r: Resolved) => void;
}

interface Commit {
  readonly end: PendingEnd;
  readonly msg: PutMessage;
  readonly origin: bigint;
}

export class TransactionEndBatch {
  private pending: PendingEnd[] = [];
  private scheduled = false;

  constructor(private readonly deps: EndBatchDeps) {}

  /** Commits (or rolls back) a found half message together with the other ends of this turn. */
  end(found: FoundHalf, commit: boolean): Promise<Resolved> {
    return new Promise((resolve) => {
      this.pending.push({ found, commit, resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.pending.splice(0, endBatchMax);
      if (this.pending.length > 0) this.schedule();
      this.flush(batch).catch((err: unknown) => {
        for (const e of batch) e.resolve({ code: ResponseCode.SYSTEM_ERROR, remark: `end transaction: ${err}` });
      });
    });
  }

  private async flush(batch: readonly PendingEnd[]): Promise<void> {
    const { closedHalves, put } = this.deps;
    const groups = new Map<string, Commit[]>();
    /** Ends whose half may now be marked done: rollbacks, repeated answers and stored commits. */
    const done: PendingEnd[] = [];
    for (const end of batch) {
      const { half, target } = end.found;
      const origin = originOffsetOf(half);
      // Only the first answer for a transaction commits; a later one just closes its copy.
      if (!(closedHalves.claim(origin) && end.commit)) {
        done.push(end);
        continue;
      }
      const msg = committedMessageOf(half, target);
      const refused = put.rewrite(msg, { reconsumeTimes: msg.reconsumeTimes, maxReconsumeTimes: undefined });
      if (refused !== undefined) {
        closedHalves.release(origin);
        end.resolve({ code: refused.code, remark: refused.remark });
        continue;
      }
      // The hooks may move it (a committed delayed message): group by where it is stored.
      const key = `${msg.topic}\u0000${msg.queueId}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [{ end, msg, origin }]);
      else group.push({ end, msg, origin });
    }
    const stored = await Promise.all([...groups.values()].flatMap((g) => chunks(g).map((c) => this.putCommits(c))));
    for (const s of stored) done.push(...s);
    await this.markDone(done);
  }

  /** Stores one chunk of commits of one queue; answers those not stored. Resolves with the stored ones. */
  private async putCommits(chunk: readonly Commit[]): Promise<PendingEnd[]> {
    const r = await this.deps.put.putRewrittenBatch(chunk.map((c) => c.msg));
    const answer = answerOfPutStatus(r.status, r.remark);
    if (answer.stored) {
      this.deps.recordPut((chunk[0] as Commit).msg.topic, chunk.length, r.wroteBytes);
      return chunk.map((c) => c.end);
    }
    // A batch is refused as a whole: try its messages alone, so one bad message fails only its own commit.
    if (chunk.length > 1) {
      const alone = await Promise.all(chunk.map((c) => this.putCommits([c])));
      return alone.flat();
    }
    const c = chunk[0] as Commit;
    // Not stored: no op record, so the check service asks the producer again.
    this.deps.closedHalves.release(c.origin);
    c.end.resolve({ code: answer.code, remark: answer.remark ?? 'commit failed' });
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
      const mine = offsetsToMarkDone(end.found.half);
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
      for (const m of members) m.resolve({ code: ResponseCode.SUCCESS });
      return;
    }
    // Committed but not marked done: a later check may commit it again (at least once, as RocketMQ).
    log.warn('writing the transaction op record failed; its half messages will be checked again', {
      halves: offsets.length,
      status: r.status,
    });
    for (const m of members) m.resolve({ code: answer.code, remark: answer.remark ?? 'op record not stored' });
  }
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
