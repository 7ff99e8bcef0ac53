/**
 * Commits or rolls back one stored half message (RocketMQ's EndTransactionProcessor after its checks): commit puts
 * the real message through the put hooks (so a committed delayed message is delayed) and the store; either way an
 * op record marks the half done, both batched with the other ends of the turn (end-batch.ts). Only the first
 * answer for a transaction (any copy of its half message) commits: a later one just closes its copy
 * (closed-halves.ts). Shared by END_TRANSACTION (37) and gRPC EndTransaction.
 */
import type { MessageExt } from '../../common/message.js';
import { decodeRecord } from '../../common/record.js';
import type { BrokerContext } from '../context.js';
import { TransactionEndBatch } from './end-batch.js';
import { realTargetOf } from './half-message.js';

/** A half message found at a CommitLog offset, with where it goes on commit. */
export interface FoundHalf {
  readonly half: MessageExt;
  readonly target: { topic: string; queueId: number };
}

/** The half message at `commitLogOffset`, or the remark of why there is none. */
export async function findHalf(ctx: BrokerContext, commitLogOffset: bigint): Promise<FoundHalf | string> {
  const record = commitLogOffset < 0n ? undefined : await ctx.store.lookMessageByOffset(commitLogOffset);
  if (record === undefined) return 'Find prepared transaction message failed';
  const half = decodeRecord(record).msg;
  const target = realTargetOf(half);
  // A record that is not a half message must not be re-put.
  if (target === undefined) return `the message at commitLogOffset ${commitLogOffset} is not a half message`;
  return { half, target };
}

/** The outcome as a remoting response code and remark. */
export interface Resolved {
  readonly code: number;
  readonly remark?: string | undefined;
}

/** One batcher per broker (its put pipeline), made on first use. */
const batches = new WeakMap<object, TransactionEndBatch>();

/** The broker's batcher of transaction ends (END_TRANSACTION hands it the header: `endByHeader`). */
export function endBatchOf(ctx: BrokerContext): TransactionEndBatch {
  let batch = batches.get(ctx.put);
  if (batch === undefined) {
    const store = ctx.store;
    batch = new TransactionEndBatch({
      closedHalves: ctx.closedHalves,
      put: ctx.put,
      recordPut: (topic, msgs, bytes) => ctx.stats.recordPut(topic, msgs, bytes),
      brokerAddr: ctx.brokerAddr,
      readLogNow: store.readLogNow === undefined ? undefined : (offset, len) => store.readLogNow?.(offset, len),
      findHalf: (offset) => findHalf(ctx, offset),
    });
    batches.set(ctx.put, batch);
  }
  return batch;
}

export function resolveHalf(ctx: BrokerContext, found: FoundHalf, commit: boolean): Promise<Resolved> {
  return endBatchOf(ctx).end(found, commit);
}
