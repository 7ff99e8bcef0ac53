/**
 * The revive log (RocketMQ's `rmq_sys_REVIVE_LOG_<cluster>`): every check point and every ack of a non-FIFO pop is
 * a record in the CommitLog, stored before the pop (or ack) is answered and before the group's consume offset
 * moves, so it survives a SIGKILL like any message. At start the records after each revive queue's checkpointed
 * offset are read back into the check point table. Bodies are JSON with RocketMQ's short names (ck: so pt it bm n
 * q t c d bn rq, plus ours: nb = consume offset after the pop, ot = the popped topic; ack: ao or aol so c t q pt bn).
 */
import { encodeProperties, Prop } from '../../common/properties.js';
import { decodeRecord } from '../../common/record.js';
import { GetStatus, type MessageInput, type MessageStore, type PutResult } from '../../store/types.js';
import { tagsCodeOf } from '../filter/tag-filter.js';
import { answerOfPutStatus } from '../put/put-status.js';
import { type CheckPoint, ckKeyOf } from './check-points.js';

export const ReviveTag = { ck: 'ck', ack: 'ack', batchAck: 'bAck' } as const;
export type ReviveTag = (typeof ReviveTag)[keyof typeof ReviveTag];

export interface ReviveLogDeps {
  readonly store: MessageStore;
  /** Stores a record as it is (no put hooks: the revive log is the broker's own). */
  readonly putRaw: (msg: MessageInput) => Promise<PutResult>;
  readonly topic: string;
  readonly brokerName: string;
  readonly brokerAddr: () => string;
}

/** An ack read back from the log. */
export interface LoggedAck {
  readonly key: string;
  readonly offsets: readonly bigint[];
}

const readBatchMax = 256;
const readBytesMax = 4 * 1024 * 1024;

/** What every record of one tag shares: its properties text and tag hash (not rebuilt per write). */
const tagParts = new Map(
  Object.values(ReviveTag).map((tag) => [
    tag,
    { properties: encodeProperties({ [Prop.tags]: tag }), tagsCode: tagsCodeOf(tag) },
  ]),
);

export class ReviveLog {
  /** Revive-log end offsets at the start of check point writes still in flight, per revive queue. */
  private readonly pending = new Map<number, Map<number, bigint>>();
  private nextPendingId = 0;

  constructor(private readonly deps: ReviveLogDeps) {}

  /** Stores the check point; sets its reviveOffset. False when the store refused it. */
  async writeCk(ck: CheckPoint): Promise<boolean> {
    const body = ckBodyOf(ck, this.deps.brokerName);
    // Until it is stored, the revive checkpoint may not pass where it will land.
    const id = this.nextPendingId++;
    let floors = this.pending.get(ck.reviveQid);
    if (floors === undefined) {
      floors = new Map();
      this.pending.set(ck.reviveQid, floors);
    }
    floors.set(id, this.deps.store.getMaxOffsetInQueue(this.deps.topic, ck.reviveQid));
    try {
      const r = await this.write(ck.reviveQid, ReviveTag.ck, body);
      if (r === undefined) return false;
      ck.reviveOffset = r.queueOffset;
      return true;
    } finally {
      floors.delete(id);
    }
  }

  /** Stores an ack of some offsets of a check point. False when the store refused it. */
  async writeAck(ck: CheckPoint, offsets: readonly bigint[]): Promise<boolean> {
    const tag = offsets.length === 1 ? ReviveTag.ack : ReviveTag.batchAck;
    const r = await this.write(ck.reviveQid, tag, ackBodyOf(ck, offsets, this.deps.brokerName));
    return r !== undefined;
  }

  /**
   * The offset each revive queue may be checkpointed at: below the lowest unresolved check point and any check
   * point still being written; else the queue's end.
   */
  safeOffsets(lowest: ReadonlyMap<number, bigint>, queueNums: number): Map<number, bigint> {
    const out = new Map<number, bigint>();
    for (let q = 0; q < queueNums; q++) {
      let safe = this.deps.store.getMaxOffsetInQueue(this.deps.topic, q);
      const low = lowest.get(q);
      if (low !== undefined && low < safe) safe = low;
      for (const floor of this.pending.get(q)?.values() ?? []) if (floor < safe) safe = floor;
      out.set(q, safe);
    }
    return out;
  }

  /** Reads revive queue `queueId` from `from` to its end, handing back check points and acks in log order. */
  async replay(
    queueId: number,
    from: bigint,
    onCk: (ck: CheckPoint) => void,
    onAck: (ack: LoggedAck) => void,
  ): Promise<number> {
    const { store, topic } = this.deps;
    let offset = from < store.getMinOffsetInQueue(topic, queueId) ? store.getMinOffsetInQueue(topic, queueId) : from;
    let records = 0;
    for (;;) {
      const r = await store.getMessage(topic, queueId, offset, readBatchMax, readBytesMax);
      if (r.status !== GetStatus.FOUND) {
        if (r.nextBeginOffset > offset) {
          offset = r.nextBeginOffset;
          continue;
        }
        return records;
      }
      try {
        for (let i = 0; i < r.records.length; i++) {
          records++;
          const { msg } = decodeRecord(r.records[i] as Buffer);
          const parsed = parseRecord(msg.properties.get(Prop.tags), msg.body, r.queueOffsets[i] as bigint);
          if (parsed?.kind === 'ck') onCk(parsed.ck);
          else if (parsed?.kind === 'ack') onAck(parsed.ack);
        }
      } finally {
        r.release?.();
      }
      offset = r.nextBeginOffset;
    }
  }

  private async write(queueId: number, tag: ReviveTag, body: string): Promise<PutResult | undefined> {
    const parts = tagParts.get(tag) as { properties: string; tagsCode: bigint };
    const r = await this.deps.putRaw({
      topic: this.deps.topic,
      queueId,
      flag: 0,
      body: Buffer.from(body),
      properties: parts.properties,
      sysFlag: 0,
      bornTimestamp: BigInt(Date.now()),
      bornHost: this.deps.brokerAddr(),
      reconsumeTimes: 0,
      preparedTransactionOffset: 0n,
      tagsCode: parts.tagsCode,
    });
    return answerOfPutStatus(r.status, r.remark).stored ? r : undefined;
  }
}

/**
 * A check point's body, written field by field (what JSON.stringify of the object gives, in RocketMQ's names;
 * numbers need no escaping, strings are quoted): it is built on every pop.
 */
export function ckBodyOf(ck: CheckPoint, brokerName: string): string {
  // Queue offsets stay far below 2^53: numbers, not a BigInt subtraction per message.
  const so = Number(ck.startOffset);
  let d = '';
  for (let i = 0; i < ck.offsets.length; i++) d += `${i === 0 ? '' : ','}${Number(ck.offsets[i]) - so}`;
  return (
    `{"so":${so},"pt":${ck.popTimeMs},"it":${ck.invisibleTimeMs},"bm":0,"n":${ck.offsets.length},"q":${ck.queueId},` +
    `"t":${JSON.stringify(ck.realTopic)},"c":${JSON.stringify(ck.group)},"d":[${d}],` +
    `"bn":${JSON.stringify(brokerName)},"rq":${ck.reviveQid},"nb":${ck.nextBeginOffset},"ot":${JSON.stringify(ck.topic)}}`
  );
}

/** An ack's body (`ao` for one offset, `aol` for several), written field by field like ckBodyOf. */
export function ackBodyOf(ck: CheckPoint, offsets: readonly bigint[], brokerName: string): string {
  const head = offsets.length === 1 ? `{"ao":${offsets[0]}` : `{"aol":[${offsets.join(',')}]`;
  return (
    `${head},"so":${ck.startOffset},"c":${JSON.stringify(ck.group)},"t":${JSON.stringify(ck.realTopic)},` +
    `"q":${ck.queueId},"pt":${ck.popTimeMs},"bn":${JSON.stringify(brokerName)}}`
  );
}

type Json = Record<string, unknown>;

function num(o: Json, k: string): number | undefined {
  const v = o[k];
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

function str(o: Json, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' ? v : undefined;
}

/** A check point or an ack from a record, or undefined for a record that is neither (skipped, never fatal). */
type Parsed = { kind: 'ck'; ck: CheckPoint } | { kind: 'ack'; ack: LoggedAck };

function parseRecord(tag: string | undefined, body: Buffer, logOffset: bigint): Parsed | undefined {
  let o: Json;
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (typeof v !== 'object' || v === null) return undefined;
    o = v as Json;
  } catch {
    return undefined;
  }
  const so = num(o, 'so');
  const pt = num(o, 'pt');
  const q = num(o, 'q');
  const t = str(o, 't');
  const c = str(o, 'c');
  if (so === undefined || pt === undefined || q === undefined || t === undefined || c === undefined) return undefined;
  const key = ckKeyOf(c, t, q, BigInt(so), pt);
  if (tag === ReviveTag.ack || tag === ReviveTag.batchAck) {
    const ao = num(o, 'ao');
    const aol = Array.isArray(o['aol']) ? (o['aol'] as unknown[]).filter((x) => typeof x === 'number') : [];
    const offsets = (ao !== undefined ? [ao] : (aol as number[])).map((x) => BigInt(x));
    return { kind: 'ack', ack: { key, offsets } };
  }
  if (tag !== ReviveTag.ck) return undefined;
  const it = num(o, 'it');
  const rq = num(o, 'rq');
  const nb = num(o, 'nb');
  const d = Array.isArray(o['d']) ? (o['d'] as unknown[]) : undefined;
  if (it === undefined || rq === undefined || nb === undefined || d === undefined) return undefined;
  if (!d.every((x) => typeof x === 'number' && Number.isSafeInteger(x))) return undefined;
  if (d.length === 0 || d.length > 32) return undefined;
  const retry = t !== str(o, 'ot');
  const ck: CheckPoint = {
    key,
    group: c,
    topic: str(o, 'ot') ?? t,
    realTopic: t,
    retry,
    queueId: q,
    startOffset: BigInt(so),
    popTimeMs: pt,
    invisibleTimeMs: it,
    reviveQid: rq,
    offsets: (d as number[]).map((x) => BigInt(so) + BigInt(x)),
    nextBeginOffset: BigInt(nb),
    reviveOffset: logOffset,
    ackedBits: 0,
    reviving: false,
  };
  return { kind: 'ck', ck };
}
