/**
 * The frames a server's connections may handle in one event-loop turn, shared equally among the connections that
 * have more waiting. Every connection's reads, decodes and processing run on the one event loop, so a request
 * arriving on a quiet connection waits for the rest of the turn: bounding the turn bounds that wait, and the
 * equal share keeps one connection's burst from taking the turn. A lone busy connection gets the whole budget.
 */
export class TurnShare {
  /** Connections with frames waiting for a later turn. */
  private readonly waiting = new Set<object>();

  constructor(readonly framesPerTurnMax: number) {}

  /** Frames one connection may handle in its next pass (at least one). */
  get share(): number {
    return Math.max(1, Math.floor(this.framesPerTurnMax / Math.max(1, this.waiting.size)));
  }

  /** `conn` stopped at its share with frames left. */
  wait(conn: object): void {
    this.waiting.add(conn);
  }

  /** `conn` has no frames waiting (drained or closed). */
  done(conn: object): void {
    this.waiting.delete(conn);
  }

  /** Connections with frames waiting. */
  get waitingCount(): number {
    return this.waiting.size;
  }
}
