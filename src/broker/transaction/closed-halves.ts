/**
 * Half messages known to be closed (committed or rolled back), by the queue offset of their first copy. A check
 * copies a half message and asks its producer while the producer's own END_TRANSACTION may still be on its way;
 * both answers then close the same transaction, and only the first may commit. END_TRANSACTION claims the first
 * copy's offset before it commits; the check pass adds every offset the op records name, so after a restart the
 * set is rebuilt from the store before any new check is sent. Bounded: the oldest entries go first.
 */
export const closedHalvesMax = 100_000;

export class ClosedHalves {
  private readonly offsets = new Set<bigint>();

  constructor(private readonly max = closedHalvesMax) {}

  has(offset: bigint): boolean {
    return this.offsets.has(offset);
  }

  /** Marks `offset` closed; false when it already was (another answer closed this transaction first). */
  claim(offset: bigint): boolean {
    if (this.offsets.has(offset)) return false;
    this.add(offset);
    return true;
  }

  /** Undoes a claim whose commit failed, so the next answer may commit. */
  release(offset: bigint): void {
    this.offsets.delete(offset);
  }

  add(offset: bigint): void {
    this.offsets.add(offset);
    if (this.offsets.size > this.max) {
      const oldest = this.offsets.values().next().value;
      if (oldest !== undefined) this.offsets.delete(oldest);
    }
  }
}
