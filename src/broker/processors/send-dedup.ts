/**
 * The send path of a de-duplicated topic (tsrocket, beyond RocketMQ; `dedup.window.ms` attribute): a message whose
 * UNIQ_KEY was stored within the window is answered with that first result (offsetMsgId, queueId, queueOffset) and
 * not stored again; a duplicate arriving while the first put is under way waits for it.
 *
 * Keys are checked against the topic the producer sent to, before the put hooks: a delayed or prepared message is
 * keyed by its real topic and answered what it was answered the first time (SCHEDULE_TOPIC_XXXX's or the half
 * topic's offset).
 *
 * A batch: each message is checked; the new ones are stored as one batch, the known ones are not stored again (a
 * key twice in one batch is stored once). The answer lists every message's offsetMsgId in batch order (earlier
 * ones included); queueId and queueOffset are those of the first newly stored message, or, when all were known,
 * the first message's earlier answer.
 */
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import {
  memberQueuesField,
  memberQueuesText,
  type SendMessageRequestHeader as SendHeader,
} from '../../remoting/protocol/send.js';
import { offsetMsgIdsOf } from '../../store/results.js';
import type { BrokerContext } from '../context.js';
import type { DedupEntry, DedupTable, InFlightDone } from '../dedup/dedup-table.js';
import { answerOfPutStatus, type PutAnswer } from '../put/put-status.js';
import { type PutMessage, PutRefusal } from '../put/types.js';
import { answeredQueueId, sendResponse } from './send-response.js';
import { putSplit } from './send-split-batch.js';

const duplicateAnswer: PutAnswer = { code: ResponseCode.SUCCESS, stored: true };

export async function sendDeduped(
  ctx: BrokerContext,
  req: RemotingCommand,
  h: SendHeader,
  batch: boolean,
  inputs: readonly PutMessage[],
  queueIdSent: number,
  table: DedupTable,
  split = false,
): Promise<RemotingCommand> {
  // Waits until no key of the message(s) is being put by another send (each wait ends with that put). From the
  // last check to the put nothing awaits: the check, the lookups and the in-flight marks are one step.
  for (let wait = pendingOf(table, inputs); wait !== undefined; wait = pendingOf(table, inputs)) {
    table.counters.inFlightWaits++;
    await wait;
  }
  const n = inputs.length;
  const earlier: Array<DedupEntry | undefined> = new Array(n);
  const sameAs: number[] = new Array(n).fill(-1);
  const fresh: PutMessage[] = [];
  const freshAt: number[] = [];
  const dones: InFlightDone[] = [];
  const seen = new Map<string, number>();
  const nowMs = Date.now();
  for (let i = 0; i < n; i++) {
    const msg = inputs[i] as PutMessage;
    const key = msg.uniqKey;
    if (key !== undefined && key !== '') {
      const at = seen.get(key);
      if (at !== undefined) {
        sameAs[i] = at;
        continue;
      }
      seen.set(key, i);
      const e = table.lookup(key, nowMs);
      if (e !== undefined) {
        earlier[i] = e;
        continue;
      }
      dones.push(table.begin(key));
    }
    fresh.push(msg);
    freshAt.push(i);
  }
  ctx.dedup.counters.duplicates += n - fresh.length;
  if (fresh.length === 0) {
    const e = earlier[0] as DedupEntry;
    const resp = sendResponse(ctx, req, duplicateAnswer, idsOf(earlier, sameAs, [], []), e.queueId, e.queueOffset);
    if (split) addMemberQueues(resp, earlier, sameAs, [], [], []);
    return resp;
  }

  const settle = (stored: (j: number) => DedupEntry | undefined) => {
    let d = 0;
    for (let j = 0; j < fresh.length; j++) {
      const key = (fresh[j] as PutMessage).uniqKey;
      if (key !== undefined && key !== '') (dones[d++] as InFlightDone)(stored(j));
    }
  };
  const none = () => undefined;
  try {
    const first = fresh[0] as PutMessage;
    if (split) {
      // Delayed, timer or half members of a batch: each stored where it goes alone (send-split-batch.ts).
      const put = putSplit(ctx, fresh, h, queueIdSent);
      if (put instanceof PutRefusal) {
        settle(none);
        return createResponse(req, put.code, put.remark);
      }
      const p = await put;
      const answer = answerOfPutStatus(p.status, p.remark);
      if (!answer.stored) {
        settle(none);
        return createResponse(req, answer.code, answer.remark ?? 'send failed');
      }
      const storeTimeMs = Date.now();
      const freshIds = p.msgIds.split(',');
      settle((j) => ({
        queueId: p.queueIds[j] as number,
        queueOffset: p.queueOffsets[j] as bigint,
        offsetMsgId: freshIds[j] ?? '',
        storeTimeMs,
      }));
      const ids = idsOf(earlier, sameAs, freshAt, freshIds);
      const at0 = places(earlier, sameAs, freshAt, p.queueIds, p.queueOffsets);
      const resp = sendResponse(ctx, req, answer, ids, at0.queueIds[0] as number, at0.queueOffsets[0] as bigint);
      addMemberQueues(resp, earlier, sameAs, freshAt, p.queueIds, p.queueOffsets);
      return resp;
    }
    const put = batch ? ctx.put.putBatch(fresh, h) : ctx.put.put(first, h);
    if (put instanceof PutRefusal) {
      settle(none);
      return createResponse(req, put.code, put.remark);
    }
    const result = await put;
    const answer = answerOfPutStatus(result.status, result.remark);
    if (!answer.stored) {
      settle(none);
      return createResponse(req, answer.code, answer.remark ?? 'send failed');
    }
    ctx.stats.recordPut(first.topic, result.msgNum, result.wroteBytes);
    const queueId = answeredQueueId(first, queueIdSent);
    const storeTimeMs = Number(result.storeTimestamp);
    const offsetMsgIds = offsetMsgIdsOf(result);
    settle((j) => ({
      queueId,
      queueOffset: result.queueOffset + BigInt(j),
      offsetMsgId: offsetMsgIds[j] ?? '',
      storeTimeMs,
    }));
    const msgId = idsOf(earlier, sameAs, freshAt, offsetMsgIds);
    return sendResponse(ctx, req, answer, msgId, queueId, result.queueOffset);
  } catch (err) {
    settle(none);
    throw err;
  }
}

/** The put under way of a key of `inputs`, if any. */
function pendingOf(table: DedupTable, inputs: readonly PutMessage[]): Promise<unknown> | undefined {
  if (table.inFlightCount === 0) return undefined;
  for (let i = 0; i < inputs.length; i++) {
    const key = (inputs[i] as PutMessage).uniqKey;
    const p = key === undefined ? undefined : table.pending(key);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** Every message's offsetMsgId in batch order: an earlier answer's, this put's, or a same-key sibling's. */
function idsOf(
  earlier: ReadonlyArray<DedupEntry | undefined>,
  sameAs: readonly number[],
  freshAt: readonly number[],
  freshIds: readonly string[],
): string {
  const ids: string[] = new Array(earlier.length);
  for (let i = 0; i < earlier.length; i++) ids[i] = earlier[i]?.offsetMsgId ?? '';
  for (let j = 0; j < freshAt.length; j++) ids[freshAt[j] as number] = freshIds[j] ?? '';
  for (let i = 0; i < sameAs.length; i++) {
    const at = sameAs[i] as number;
    if (at >= 0) ids[i] = ids[at] as string;
  }
  return ids.join(',');
}

/** Every member's queue and offset in batch order (split batches): an earlier answer's, this put's, a sibling's. */
function places(
  earlier: ReadonlyArray<DedupEntry | undefined>,
  sameAs: readonly number[],
  freshAt: readonly number[],
  queueIds: readonly number[],
  queueOffsets: readonly bigint[],
): { queueIds: number[]; queueOffsets: bigint[] } {
  const n = earlier.length;
  const qids: number[] = new Array(n).fill(0);
  const offsets: bigint[] = new Array(n).fill(0n);
  for (let i = 0; i < n; i++) {
    const e = earlier[i];
    if (e !== undefined) {
      qids[i] = e.queueId;
      offsets[i] = e.queueOffset;
    }
  }
  for (let j = 0; j < freshAt.length; j++) {
    qids[freshAt[j] as number] = queueIds[j] as number;
    offsets[freshAt[j] as number] = queueOffsets[j] as bigint;
  }
  for (let i = 0; i < n; i++) {
    const at = sameAs[i] as number;
    if (at >= 0) {
      qids[i] = qids[at] as number;
      offsets[i] = offsets[at] as bigint;
    }
  }
  return { queueIds: qids, queueOffsets: offsets };
}

function addMemberQueues(
  resp: RemotingCommand,
  earlier: ReadonlyArray<DedupEntry | undefined>,
  sameAs: readonly number[],
  freshAt: readonly number[],
  queueIds: readonly number[],
  queueOffsets: readonly bigint[],
): void {
  const at = places(earlier, sameAs, freshAt, queueIds, queueOffsets);
  (resp.extFields as Record<string, string>)[memberQueuesField] = memberQueuesText(at.queueIds, at.queueOffsets);
}
