/**
 * Records a non-FIFO pop read past what it wanted, kept for the next pop of the same queue by the same group.
 * Pops of one queue read one after another under the queue's mutex (pop-service.ts), so with several consumers on
 * one queue each pop's store reads (ConsumeQueue, then CommitLog, each a thread-pool round trip) are the queue's
 * critical path. An unfiltered pop reads up to `readAheadPops` pops' worth at once; the pops after it that start
 * where it ended take their messages from here without a read. Nothing here is popped: no check point names these
 * records and the consume offset has not moved past them, so a stash lost or dropped costs only a read again.
 * Records at a queue offset never change, so a stash is served exactly when a pop starts at its first offset.
 */

/** Unfiltered pops read this many pops' worth of messages (at most `stashReadMax`). */
export const readAheadPops = 8;
export const stashReadMax = 256;
/** All stashes together hold at most this many bytes; the oldest go first. */
export const stashBytesMax = 8 * 1024 * 1024;

/** A read's records copied into one buffer, from record `first` on. */
export class StashedRead {
  constructor(
    readonly buf: Buffer,
    /** Start of each record in `buf`. */
    readonly starts: readonly number[],
    readonly queueOffsets: readonly bigint[],
    /** Queue offset after the read. */
    readonly nextBeginOffset: bigint,
    public first = 0,
  ) {}

  /** Copies the store's parts (the read blocks go back to the store right after). */
  static of(parts: readonly Buffer[], queueOffsets: readonly bigint[], nextBeginOffset: bigint): StashedRead {
    const buf = parts.length === 1 ? Buffer.from(parts[0] as Buffer) : Buffer.concat(parts);
    const starts: number[] = new Array(queueOffsets.length);
    let at = 0;
    for (let i = 0; i < queueOffsets.length; i++) {
      starts[i] = at;
      at += buf.readInt32BE(at);
    }
    return new StashedRead(buf, starts, queueOffsets, nextBeginOffset);
  }

  get left(): number {
    return this.starts.length - this.first;
  }

  /** Queue offset the records left start at (where the next pop must read for them to be its). */
  get from(): bigint {
    return this.left > 0 ? (this.queueOffsets[this.first] as bigint) : this.nextBeginOffset;
  }

  /** Bytes of the records left. */
  get bytes(): number {
    return this.left > 0 ? this.buf.length - (this.starts[this.first] as number) : 0;
  }

  /** The next `n` records (fewer when fewer are left): [first, end) of the arrays, and the offset after them. */
  take(n: number): { first: number; end: number; next: bigint } {
    const first = this.first;
    const end = Math.min(this.starts.length, first + n);
    this.first = end;
    return { first, end, next: this.from };
  }
}

export class ReadStash {
  private readonly byKey = new Map<string, StashedRead>();
  private held = 0;

  /**
   * The stash of `key` when a pop starts at `offset` and the queue still reaches its end (`queueMax`, the queue's
   * end offset now); a stash that does not fit is dropped.
   */
  takeAt(key: string, offset: bigint, queueMax: bigint): StashedRead | undefined {
    const s = this.byKey.get(key);
    if (s === undefined) return undefined;
    this.drop(key);
    return s.from === offset && s.nextBeginOffset <= queueMax ? s : undefined;
  }

  /** Keeps what is left of `s` for the next pop of `key` (when it fits under the bytes limit). */
  put(key: string, s: StashedRead): void {
    this.drop(key);
    const bytes = s.bytes;
    if (s.left === 0 || bytes > stashBytesMax) return;
    // Oldest first (a Map iterates in insertion order).
    for (const [k] of this.byKey) {
      if (this.held + bytes <= stashBytesMax) break;
      this.drop(k);
    }
    this.byKey.set(key, s);
    this.held += bytes;
  }

  drop(key: string): void {
    const s = this.byKey.get(key);
    if (s === undefined) return;
    this.byKey.delete(key);
    this.held -= s.bytes;
  }

  get size(): number {
    return this.byKey.size;
  }

  get bytes(): number {
    return this.held;
  }
}
