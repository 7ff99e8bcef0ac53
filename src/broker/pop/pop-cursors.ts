/**
 * Where the next (non-FIFO) pop of a queue reads while the check points of earlier pops are still being written.
 * Pops of one queue read one after another under the queue's mutex, but each check-point write, and the consume
 * offset move after it, run outside the mutex: the next pop's reads overlap the previous pop's write instead of
 * waiting for it, and the writes of pops in flight are issued at once (one CommitLog write for them all). A per-queue
 * chain keeps the rule of a serial pop: a pop goes out, and the consume offset moves past its messages, only once
 * its check point and every earlier one of the queue were stored. A failed write fails the pops chained after it
 * (a check point of theirs already stored is acked by the caller, so it never brings its messages back) and the
 * queue is read again from the failed pop's start; so does a pop that read before such a failure and chains after
 * it (its read mark is stale: never written).
 */

interface QueueCursor {
  /** Next offset to read: ahead of the committed consume offset by the pops still being written. */
  next: bigint;
  /** Settles true when every write chained so far was stored. */
  tail: Promise<boolean>;
  /** Bumped by a failed write or an offset reset: what was chained before moves no offset. */
  gen: number;
  /** Chained steps not yet settled; the cursor goes when none is left. */
  pending: number;
}

const stored = Promise.resolve(true);
const refused = Promise.resolve(false);

/** Where a pop started reading: the queue's cursor then (if any) and its generation. */
export interface ReadMark {
  readonly cursor: QueueCursor | undefined;
  readonly gen: number;
  /** Where to read, while writes of earlier pops are in flight; else undefined (the committed offset). */
  readonly next: bigint | undefined;
}

export class PopCursors {
  private readonly cursors = new Map<string, QueueCursor>();

  /** Taken when a pop decides where to read (synchronously with that decision), handed back to chain/advance. */
  mark(key: string): ReadMark {
    const cursor = this.cursors.get(key);
    return { cursor, gen: cursor?.gen ?? 0, next: cursor?.next };
  }

  /** Where the next pop of `key` reads, while writes of earlier pops are in flight; else undefined. */
  nextOf(key: string): bigint | undefined {
    return this.cursors.get(key)?.next;
  }

  /** The consume offset was reset: steps chained before commit nothing, the next pop reads the committed offset. */
  reset(key: string): void {
    const c = this.cursors.get(key);
    if (c === undefined) return;
    c.gen++;
    this.cursors.delete(key);
  }

  /**
   * A pop read `[start, next)`: `write` stores its check point at once (the check points of the queue's pops in
   * flight go to the log together), and once it and every earlier write of the queue were stored, `commit` moves
   * the consume offset. Resolves to whether this pop may go out: its check point and all earlier ones stored.
   * `undo` runs when its own write was stored but an earlier one failed (the pop is refused, its messages read
   * again): the caller acks that check point so it never brings them back.
   */
  chain(
    key: string,
    mark: ReadMark,
    start: bigint,
    next: bigint,
    write: () => Promise<boolean>,
    commit: () => void,
    undo: () => void = () => {},
  ): Promise<boolean> {
    // An earlier write failed (or the offset was reset) while this pop read: it read past what is read again.
    if (isStale(mark)) return refused;
    const c = this.cursorOf(key, next);
    const gen = c.gen;
    let own: Promise<boolean>;
    try {
      own = write().catch(() => false);
    } catch {
      own = refused;
    }
    const mine = c.tail.then(async (before) => {
      const wrote = await own;
      const ok = before && wrote;
      if (c.gen === gen) {
        if (ok) commit();
        else {
          // The first failure of this generation: read again from its start with a fresh chain.
          c.gen++;
          c.next = start;
          c.tail = stored;
        }
      }
      if (wrote && !ok) undo();
      this.settled(key, c);
      return ok;
    });
    c.tail = mine;
    return mine;
  }

  /** A read moved past messages without popping any (filtered out, or back into range): the offset follows. */
  advance(key: string, mark: ReadMark, next: bigint, commit: () => void): void {
    if (isStale(mark)) return;
    const c = this.cursors.get(key);
    if (c === undefined) {
      commit();
      return;
    }
    c.next = next;
    c.pending++;
    const gen = c.gen;
    c.tail = c.tail.then((ok) => {
      if (ok && c.gen === gen) commit();
      this.settled(key, c);
      return ok;
    });
  }

  get size(): number {
    return this.cursors.size;
  }

  private cursorOf(key: string, next: bigint): QueueCursor {
    let c = this.cursors.get(key);
    if (c === undefined) {
      c = { next, tail: stored, gen: 0, pending: 0 };
      this.cursors.set(key, c);
    }
    c.next = next;
    c.pending++;
    return c;
  }

  private settled(key: string, c: QueueCursor): void {
    if (--c.pending === 0 && this.cursors.get(key) === c) this.cursors.delete(key);
  }
}

function isStale(mark: ReadMark): boolean {
  return mark.cursor !== undefined && mark.cursor.gen !== mark.gen;
}
