/**
 * The frames a server's connections may handle in one event-loop turn, shared equally among the connections that
 * handle frames. Every connection's reads, decodes and processing run on the one event loop, so a request arriving
 * on a quiet connection waits for the rest of the turn: bounding the turn bounds that wait, and the equal share
 * keeps one connection's burst from taking the turn. A lone busy connection gets the whole budget.
 */
export class TurnShare {
  private turnNo = 0;
  private turnArmed = false;
  /** Connections that handled frames in the current turn and in the one before. */
  private activeNow = 0;
  private activeBefore = 0;

  constructor(readonly framesPerTurnMax: number) {}

  /**
   * The current turn's number: it changes once per event-loop iteration (in its check phase) while anyone asks,
   * so frames counted against one number were handled within about one iteration.
   */
  get turn(): number {
    if (!this.turnArmed) {
      this.turnArmed = true;
      setImmediate(() => {
        this.turnArmed = false;
        this.turnNo++;
        this.activeBefore = this.activeNow;
        this.activeNow = 0;
      });
    }
    return this.turnNo;
  }

  /** A connection starts handling frames in the current turn. */
  activate(): void {
    this.activeNow++;
  }

  /** Frames one connection may handle in one turn (at least one). */
  get share(): number {
    const active = Math.max(1, this.activeNow, this.activeBefore);
    return Math.max(1, Math.floor(this.framesPerTurnMax / active));
  }
}
