/**
 * A job that writes the latest state (a metadata file, a NameServer registration) coalesced: one run in flight,
 * any number of requests during a run ask for exactly one more run after it, which reads the state when it
 * begins (the latest wins, no copies are queued). Runs begin at least `gapMsMin` apart, so a flood of changes
 * costs at most 1000 / gapMsMin runs a second, each serialising the state once.
 */
/** Gap between two writes of one metadata file, and between two registrations with the NameServers (ms). */
export const metadataWriteGapMsMin = 100;

export class CoalescedJob {
  private inFlight: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private runs = 0;

  constructor(
    private readonly job: () => Promise<void>,
    private readonly gapMsMin = 0,
  ) {}

  /** Runs begun so far. */
  get started(): number {
    return this.runs;
  }

  /** Settles when a run that began after this call has ended (rejects with that run's error). */
  request(): Promise<void> {
    if (this.next !== undefined) return this.next;
    const waitMs = this.lastStartMs + this.gapMsMin - Date.now();
    if (this.inFlight === undefined && waitMs <= 0) return this.begin();
    const prev = this.inFlight ?? Promise.resolve();
    this.next = prev
      .catch(() => undefined)
      .then(() => this.gapElapsed())
      .then(() => {
        this.next = undefined;
        return this.begin();
      });
    return this.next;
  }

  /** Settles when no run is in flight or scheduled. */
  async idle(): Promise<void> {
    while (this.inFlight !== undefined || this.next !== undefined) {
      await (this.next ?? this.inFlight)?.catch(() => undefined);
    }
  }

  private async gapElapsed(): Promise<void> {
    // A timer counts from the event loop's cached time, so it may fire early by the wall clock: check again.
    for (
      let ms = this.lastStartMs + this.gapMsMin - Date.now();
      ms > 0;
      ms = this.lastStartMs + this.gapMsMin - Date.now()
    ) {
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
  }

  private begin(): Promise<void> {
    this.runs++;
    this.lastStartMs = Date.now();
    const run = this.job().finally(() => {
      if (this.inFlight === run) this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }
}
