/**
 * At most one log line per period for one kind of event, so that a flood of hostile connections cannot flood
 * the log: each line carries the number of events left unlogged since the previous one.
 */
export class LogThrottle {
  private lastMs = Number.NEGATIVE_INFINITY;
  private unlogged = 0;

  constructor(private readonly periodMs = 10_000) {}

  /** For one event: the number of events unlogged before it when it is to be logged, else undefined. */
  take(nowMs = Date.now()): number | undefined {
    if (nowMs - this.lastMs < this.periodMs) {
      this.unlogged++;
      return undefined;
    }
    const before = this.unlogged;
    this.lastMs = nowMs;
    this.unlogged = 0;
    return before;
  }
}
