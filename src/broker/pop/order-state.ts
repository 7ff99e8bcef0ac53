/**
 * FIFO pops (RocketMQ's ConsumerOrderInfoManager): the messages of a queue handed out and not yet acked block the
 * queue for the group until all are acked (then the consume offset moves past them) or their invisibility ends
 * (then the same messages come first again, one attempt more). Held in memory: after a restart the queue is simply
 * delivered again from its committed offset.
 */

export interface OrderEntry {
  popTimeMs: number;
  invisibleTimeMs: number;
  acked: boolean;
  /** Deliveries of this message so far (1 on its first). */
  attempts: number;
}

export interface OrderBatch {
  readonly startOffset: bigint;
  readonly nextBeginOffset: bigint;
  /** Queue offset → its state, in queue order. */
  readonly entries: Map<bigint, OrderEntry>;
}

export function orderKeyOf(group: string, topic: string, queueId: number): string {
  return `${group}@${topic}@${queueId}`;
}

/** When the queue is free again: the latest deadline of an unacked entry (undefined = free now). */
export function blockedUntilMs(batch: OrderBatch, nowMs: number): number | undefined {
  let until: number | undefined;
  for (const e of batch.entries.values()) {
    if (e.acked) continue;
    const d = e.popTimeMs + e.invisibleTimeMs;
    if (d > nowMs && (until === undefined || d > until)) until = d;
  }
  return until;
}

/** The consume offset the acks allow: the first unacked offset, or past the batch when all are acked. */
export function committableOffset(batch: OrderBatch): bigint {
  for (const [offset, e] of batch.entries) if (!e.acked) return offset;
  return batch.nextBeginOffset;
}

export class OrderTable {
  private readonly batches = new Map<string, OrderBatch>();

  get(key: string): OrderBatch | undefined {
    return this.batches.get(key);
  }

  set(key: string, batch: OrderBatch): void {
    this.batches.set(key, batch);
  }

  delete(key: string): void {
    this.batches.delete(key);
  }

  get size(): number {
    return this.batches.size;
  }
}
