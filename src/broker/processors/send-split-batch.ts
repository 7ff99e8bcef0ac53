/**
 * A SEND_BATCH_MESSAGE whose members are delayed (DELAY), timer (TIMER_*, __STARTDELIVERTIME) or half messages
 * (TRAN_MSG, or sysFlag PREPARED in the header). RocketMQ refuses such a batch (MESSAGE_ILLEGAL: its CommitLog
 * takes a batch with a DELAY or a transaction type in the header as illegal, and stores members' own DELAY and
 * timer properties unscheduled); tsrocket serves it: every member goes through the put hooks as if it had been
 * sent alone (same topic rewrites, same delay and timer queues, each half message its own queue offset and
 * CommitLog offset for END_TRANSACTION and check-back), then the members are stored with one put per queue they
 * went to, in batch order within each queue. A refusal of any member refuses the batch before anything is stored.
 *
 * The answer lists every member's offsetMsgId in batch order (`msgId`, as for any batch), queueId / queueOffset
 * of the first member, and `memberQueues` = each member's `queueId:queueOffset` (send.ts), which our SDK reads.
 * The puts of different queues are not one write: if one fails after another stored, the batch is answered with
 * the failure and a retry may store those members twice (at least once, as any retried send).
 */
import type { RemotingCommand } from '../../remoting/command.js';
import { createResponse } from '../../remoting/command.js';
import {
  memberQueuesField,
  memberQueuesText,
  type SendMessageRequestHeader as SendHeader,
} from '../../remoting/protocol/send.js';
import { offsetMsgIdsOf } from '../../store/results.js';
import type { PutResult } from '../../store/types.js';
import { PutStatus } from '../../store/types.js';
import type { BrokerContext } from '../context.js';
import { answerOfPutStatus } from '../put/put-status.js';
import { isPrepared } from '../put/transaction-hook.js';
import { type PutMessage, PutRefusal, type PutRequest } from '../put/types.js';
import { answeredQueueId, sendResponse } from './send-response.js';

/** True when `m` may be moved by the hooks apart from its batch (delay, timer, half message). */
export function needsSplit(m: PutMessage): boolean {
  return m.scheduled === true || isPrepared(m);
}

/** One queue's members: stored as one put. */
interface QueueGroup {
  topic: string;
  queueId: number;
  msgs: PutMessage[];
  /** Index in the batch of each of `msgs`. */
  at: number[];
}

/** Where each member was stored, in batch order. */
export interface SplitPut {
  status: PutStatus;
  remark?: string | undefined;
  /** offsetMsgIds in batch order, comma-separated. */
  msgIds: string;
  queueIds: number[];
  queueOffsets: bigint[];
}

/**
 * Rewrites every member as a single send (no `batch` in the request: the half hook accepts it), then stores each
 * queue's members. Resolves with each member's place, or the first failed put's status.
 */
export function putSplit(
  ctx: BrokerContext,
  inputs: readonly PutMessage[],
  h: SendHeader,
  queueIdSent: number,
): Promise<SplitPut> | PutRefusal {
  const alone: PutRequest = { reconsumeTimes: h.reconsumeTimes, maxReconsumeTimes: h.maxReconsumeTimes };
  const groups: QueueGroup[] = [];
  const queueIds: number[] = new Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const m = inputs[i] as PutMessage;
    const refused = ctx.put.rewrite(m, alone);
    if (refused !== undefined) return refused;
    queueIds[i] = answeredQueueId(m, queueIdSent);
    let g: QueueGroup | undefined;
    for (let k = 0; k < groups.length; k++) {
      const c = groups[k] as QueueGroup;
      if (c.queueId === m.queueId && c.topic === m.topic) {
        g = c;
        break;
      }
    }
    if (g === undefined) {
      g = { topic: m.topic, queueId: m.queueId, msgs: [], at: [] };
      groups.push(g);
    }
    g.msgs.push(m);
    g.at.push(i);
  }
  // Every put starts in this turn, so the CommitLog writes them together.
  return Promise.all(groups.map((g) => ctx.put.putRewrittenBatch(g.msgs))).then((results) =>
    placesOf(ctx, groups, results, queueIds),
  );
}

function placesOf(
  ctx: BrokerContext,
  groups: readonly QueueGroup[],
  results: PutResult[],
  queueIds: number[],
): SplitPut {
  const ids: string[] = new Array(queueIds.length);
  const queueOffsets: bigint[] = new Array(queueIds.length);
  let failed: PutResult | undefined;
  let degraded: PutResult | undefined;
  for (let k = 0; k < groups.length; k++) {
    const g = groups[k] as QueueGroup;
    const r = results[k] as PutResult;
    if (!answerOfPutStatus(r.status, r.remark).stored) {
      failed ??= r;
      continue;
    }
    if (r.status !== PutStatus.PUT_OK) degraded ??= r;
    ctx.stats.recordPut(g.topic, r.msgNum, r.wroteBytes);
    const groupIds = offsetMsgIdsOf(r);
    for (let j = 0; j < g.at.length; j++) {
      const i = g.at[j] as number;
      ids[i] = groupIds[j] ?? '';
      queueOffsets[i] = r.queueOffset + BigInt(j);
    }
  }
  // A failed put fails the answer; a stored but not durable one (FLUSH_DISK_TIMEOUT) is answered as such.
  const worst = failed ?? degraded;
  return {
    status: worst?.status ?? PutStatus.PUT_OK,
    remark: worst?.remark,
    msgIds: ids.join(','),
    queueIds,
    queueOffsets,
  };
}

/** The send answer of a split batch: as any batch's, plus each member's queue and offset. */
export async function sendSplit(
  ctx: BrokerContext,
  req: RemotingCommand,
  inputs: readonly PutMessage[],
  h: SendHeader,
  queueIdSent: number,
): Promise<RemotingCommand> {
  const put = putSplit(ctx, inputs, h, queueIdSent);
  if (put instanceof PutRefusal) return createResponse(req, put.code, put.remark);
  const p = await put;
  const answer = answerOfPutStatus(p.status, p.remark);
  if (!answer.stored) return createResponse(req, answer.code, answer.remark ?? 'send failed');
  const resp = sendResponse(ctx, req, answer, p.msgIds, p.queueIds[0] as number, p.queueOffsets[0] as bigint);
  (resp.extFields as Record<string, string>)[memberQueuesField] = memberQueuesText(p.queueIds, p.queueOffsets);
  return resp;
}
