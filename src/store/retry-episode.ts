/**
 * One episode of a failing write that is retried (checkpoint, ConsumeQueue, index, metadata, a CommitLog repair):
 * logs its start and its end once each, not every attempt, and paces attempts with doubling back-off.
 */
import type { Logger } from '../common/log.js';

export const retryDelayMsMin = 100;
export const retryDelayMsMax = 5000;

export class RetryEpisode {
  /** Date.now() of the first failure of the running episode, undefined while all is well. */
  sinceMs: number | undefined;
  /** Failed attempts in the running episode. */
  failures = 0;
  private delayMs = retryDelayMsMin;
  private nextAtMs = 0;

  constructor(
    private readonly what: string,
    private readonly log: Logger,
  ) {}

  /** False while the back-off after the last failure runs (a periodic caller skips its turn). */
  due(nowMs = Date.now()): boolean {
    return nowMs >= this.nextAtMs;
  }

  /** The wait before the next attempt. */
  get nextDelayMs(): number {
    return this.delayMs;
  }

  failed(err: unknown, nowMs = Date.now()): void {
    this.failures++;
    if (this.sinceMs === undefined) {
      this.sinceMs = nowMs;
      this.log.warn(`${this.what} failed; retrying with back-off`, { err: err as Error });
    } else {
      this.delayMs = Math.min(this.delayMs * 2, retryDelayMsMax);
    }
    this.nextAtMs = nowMs + this.delayMs;
  }

  succeeded(nowMs = Date.now()): void {
    if (this.sinceMs === undefined) return;
    this.log.info(`${this.what} succeeded again`, {
      failedAttempts: this.failures,
      failingForMs: nowMs - this.sinceMs,
    });
    this.sinceMs = undefined;
    this.failures = 0;
    this.delayMs = retryDelayMsMin;
    this.nextAtMs = 0;
  }
}

/** A wait that does not keep the process alive. */
export function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A back-off wait that `wake` ends early (a close must not wait out a back-off, nor hang on an unref'd timer). */
export class Pause {
  private wakers: Array<() => void> = [];

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      const self = this;
      function done(): void {
        clearTimeout(t);
        self.wakers = self.wakers.filter((w) => w !== done);
        resolve();
      }
      this.wakers.push(done);
    });
  }

  wake(): void {
    for (const w of [...this.wakers]) w();
  }
}
