/**
 * Check points of popped messages (RocketMQ's PopCheckPoint): one per pop of one queue, naming the queue offsets
 * handed out, when they were popped, for how long they are invisible and which of them are acked. They live here
 * in memory; the revive log (revive-log.ts) makes them durable.
 */

export interface CheckPoint {
  readonly key: string;
  readonly group: string;
  /** The topic the consumer popped (the original topic also for a check point of the retry topic). */
  readonly topic: string;
  /** Where the messages are: `topic`, or the group's POP retry topic. */
  readonly realTopic: string;
  readonly retry: boolean;
  readonly queueId: number;
  /** Where the pop started reading (RocketMQ's ck startOffset, the first field of POP_CK). */
  readonly startOffset: bigint;
  readonly popTimeMs: number;
  readonly invisibleTimeMs: number;
  readonly reviveQid: number;
  /** Queue offsets of the messages, in queue order (at most 32). */
  readonly offsets: readonly bigint[];
  /** The consume offset after this pop: restored from the revive log after a crash. */
  readonly nextBeginOffset: bigint;
  /** Queue offset of its record in the revive log (-1 before it is stored). */
  reviveOffset: bigint;
  /** Bit i set = offsets[i] acked. */
  ackedBits: number;
  /** The revive pass is putting its unacked messages back: acks and changes are too late. */
  reviving: boolean;
}

export function ckKeyOf(group: string, realTopic: string, queueId: number, startOffset: bigint, popTimeMs: number) {
  return `${group}@${realTopic}@${queueId}@${startOffset}@${popTimeMs}`;
}

/** Index of queue offset `o` in the check point, or -1; offsets of a pop are mostly consecutive: tried first. */
export function indexOfOffset(ck: CheckPoint, o: bigint): number {
  const guess = Number(o - ck.startOffset);
  if (ck.offsets[guess] === o) return guess;
  return ck.offsets.indexOf(o);
}

export function isAcked(ck: CheckPoint, index: number): boolean {
  return (ck.ackedBits & (1 << index)) !== 0;
}

export function allAcked(ck: CheckPoint): boolean {
  const all = ck.offsets.length >= 32 ? 0xffffffff : (1 << ck.offsets.length) - 1;
  return ck.ackedBits >>> 0 === all >>> 0;
}

export function deadlineMsOf(ck: CheckPoint): number {
  return ck.popTimeMs + ck.invisibleTimeMs;
}

export class CheckPointTable {
  private readonly cks = new Map<string, CheckPoint>();

  get size(): number {
    return this.cks.size;
  }

  get(key: string): CheckPoint | undefined {
    return this.cks.get(key);
  }

  add(ck: CheckPoint): void {
    this.cks.set(ck.key, ck);
  }

  delete(key: string): void {
    this.cks.delete(key);
  }

  /** Stored check points past their deadline that no revive pass has taken yet. */
  due(nowMs: number): CheckPoint[] {
    const out: CheckPoint[] = [];
    for (const ck of this.cks.values()) {
      if (!ck.reviving && ck.reviveOffset >= 0n && deadlineMsOf(ck) <= nowMs) out.push(ck);
    }
    return out;
  }

  /**
   * The lowest revive-log offset still needed per revive queue (a stored, unresolved check point). One still being
   * written (-1) is covered by the revive log's pending floors.
   */
  lowestReviveOffsets(): Map<number, bigint> {
    const out = new Map<number, bigint>();
    for (const ck of this.cks.values()) {
      if (ck.reviveOffset < 0n) continue;
      const low = out.get(ck.reviveQid);
      if (low === undefined || ck.reviveOffset < low) out.set(ck.reviveQid, ck.reviveOffset);
    }
    return out;
  }

  /** Unacked messages held invisible (runtime figure). */
  inFlight(): number {
    let n = 0;
    for (const ck of this.cks.values()) for (let i = 0; i < ck.offsets.length; i++) if (!isAcked(ck, i)) n++;
    return n;
  }
}
