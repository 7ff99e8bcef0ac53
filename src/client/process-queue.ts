/**
 * Per-queue bookkeeping of a push consumer (RocketMQ's ProcessQueue): messages pulled but not yet consumed,
 * their count and bytes for flow control, and the offset that is safe to commit — the smallest offset still
 * in flight, or, when nothing is in flight, the end of everything pulled (past messages the subscription
 * filtered out, so a filtered tail does not stay as lag).
 */

/** Pulling a queue pauses while it caches more than this many messages (RocketMQ's pullThresholdForQueue). */
export const cachedMessagesMaxDefault = 1000;
/** … or more than this many body bytes (pullThresholdSizeForQueue, 100 MiB). */
export const cachedBytesMaxDefault = 100 * 1024 * 1024;

export interface OffsetMessage {
  queueOffset: bigint;
  body: Buffer;
}

export class ProcessQueue<M extends OffsetMessage = OffsetMessage> {
  /** Set when the queue is taken away by a rebalance or the consumer stops; pulls and commits then stop. */
  dropped = false;
  /** Last time a pull returned (ms); informational. */
  lastPullMs = Date.now();
  /** Orderly: the broker granted this client the queue's lock, last at `lastLockMs` (renewed every 20 s). */
  locked = false;
  lastLockMs = 0;
  // Insertion order is offset order (pulls return ascending offsets), so the first key is the smallest.
  private readonly inFlight = new Map<bigint, M>();
  private bytes = 0;
  private maxOffset = -1n;
  /** nextBeginOffset of the latest pull: every offset below it was added here or filtered out. */
  private pulledEnd = -1n;

  get count(): number {
    return this.inFlight.size;
  }

  get cachedBytes(): number {
    return this.bytes;
  }

  /** Adds pulled messages; offsets at or below the largest seen are ignored (a re-pull after a race). */
  add(msgs: readonly M[]): M[] {
    const added: M[] = [];
    for (const m of msgs) {
      if (m.queueOffset <= this.maxOffset) continue;
      this.inFlight.set(m.queueOffset, m);
      this.bytes += m.body.length;
      this.maxOffset = m.queueOffset;
      added.push(m);
    }
    return added;
  }

  /** Records that a pull answered up to `nextBeginOffset` (call after add() with that pull's messages). */
  pulledUpTo(nextBeginOffset: bigint): void {
    if (nextBeginOffset > this.pulledEnd) this.pulledEnd = nextBeginOffset;
  }

  /**
   * Removes consumed messages and returns the offset to commit: the smallest one still in flight, or, when
   * the queue is drained, the end of what was pulled (at least max seen + 1); -1 when nothing was pulled.
   */
  remove(msgs: readonly M[]): bigint {
    for (const m of msgs) {
      const had = this.inFlight.get(m.queueOffset);
      if (had !== undefined) {
        this.inFlight.delete(m.queueOffset);
        this.bytes -= had.body.length;
      }
    }
    return this.commitOffset();
  }

  /** Orderly: the lock is held and was granted or renewed within `leaseMs` (RocketMQ's isLockExpired). */
  lockLive(nowMs: number, leaseMs: number): boolean {
    return this.locked && nowMs - this.lastLockMs <= leaseMs;
  }

  /** The offset that is safe to commit now (see remove). */
  commitOffset(): bigint {
    for (const first of this.inFlight.keys()) return first;
    const afterMax = this.maxOffset < 0n ? -1n : this.maxOffset + 1n;
    return afterMax > this.pulledEnd ? afterMax : this.pulledEnd;
  }

  /** True when pulling should pause (cache over either limit). */
  isOverLimit(messagesMax = cachedMessagesMaxDefault, bytesMax = cachedBytesMaxDefault): boolean {
    return this.inFlight.size > messagesMax || this.bytes > bytesMax;
  }

  clear(): void {
    this.inFlight.clear();
    this.bytes = 0;
  }
}
