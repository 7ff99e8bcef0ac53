/**
 * One periodic background job (RocketMQ's scheduleAtFixedRate): runs every `periodMs` on an unref'd timer, never
 * two runs at once (a run still going defers the next tick until it ends), logs a failure with the task's name
 * and keeps going, and stops cleanly (stop() waits for a run in progress). Structurally a broker service.
 */
import type { Logger } from './log.js';

export interface PeriodicTaskOptions {
  /** Names the task in logs. */
  name: string;
  periodMs: number;
  /** The job; a thrown error or rejected promise is logged, and the next run still happens. */
  run: () => unknown;
  log: Logger;
  /** Run once at start instead of one period after it. */
  runAtStart?: boolean;
}

export class PeriodicTask {
  readonly name: string;
  private readonly opts: PeriodicTaskOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private active = false;
  private runs = 0;

  constructor(opts: PeriodicTaskOptions) {
    if (!(opts.periodMs > 0)) throw new RangeError(`task ${opts.name}: periodMs must be > 0, got ${opts.periodMs}`);
    this.opts = opts;
    this.name = opts.name;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    // Restarted while a run is still going: that run arms the next tick when it ends.
    if (this.running === undefined) this.arm(this.opts.runAtStart === true ? 0 : this.opts.periodMs);
  }

  /** Cancels the next tick and waits for a run in progress. */
  async stop(): Promise<void> {
    this.active = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Runs completed (or failed) so far. */
  get completedRuns(): number {
    return this.runs;
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(() => this.tick(), delayMs);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    const startedMs = Date.now();
    this.running = this.runOnce().finally(() => {
      this.running = undefined;
      this.runs++;
      // Fixed rate while runs are short; a run longer than the period is followed at once by the next, never overlapped.
      if (this.active) this.arm(Math.max(0, this.opts.periodMs - (Date.now() - startedMs)));
    });
  }

  private async runOnce(): Promise<void> {
    try {
      await this.opts.run();
    } catch (err) {
      this.opts.log.error('periodic task failed', { task: this.name, err });
    }
  }
}
