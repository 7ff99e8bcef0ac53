/**
 * The shared retry helper: exponential back-off with jitter, bounded by attempts and an overall deadline.
 * Whether an error is worth another try comes from its `retriable` flag (TsRocketError) unless told otherwise.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TsRocketError } from '../common/errors.js';

export interface BackoffPolicy {
  /** Delay before the second attempt. */
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** 0..1: the delay is drawn from [delay × (1 − jitter), delay]. */
  jitter: number;
}

export const backoffDefault: BackoffPolicy = { initialMs: 10, maxMs: 1000, multiplier: 2, jitter: 0.2 };

/** Delay before attempt `attempt` (1-based; attempt 1 has none). */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy = backoffDefault, random = Math.random): number {
  if (attempt <= 1) return 0;
  const raw = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** (attempt - 2));
  return Math.round(raw * (1 - policy.jitter * random()));
}

export function isRetriable(err: unknown): boolean {
  return err instanceof TsRocketError && err.retriable;
}

/** All attempts failed; `cause` is the last error, `errors` every one. */
export class RetriesExhaustedError extends TsRocketError {
  readonly errors: readonly unknown[];
  constructor(what: string, errors: readonly unknown[]) {
    const last = errors[errors.length - 1];
    const reason = last instanceof Error ? last.message : String(last);
    super(`${what} failed after ${errors.length} attempt(s): ${reason}`, {
      code: last instanceof TsRocketError ? last.code : 1,
      retriable: false,
      cause: last,
    });
    this.errors = errors;
  }
}

export interface RetryOptions {
  /** Name of the operation, for the final error. */
  what: string;
  attempts: number;
  backoff?: BackoffPolicy;
  /** Absolute time (ms since epoch) after which no new attempt starts. */
  deadlineMs?: number;
  shouldRetry?: (err: unknown) => boolean;
  /** Called after each failed attempt (e.g. to mark a broker faulty). */
  onError?: (err: unknown, attempt: number) => void;
}

/**
 * Runs `fn(attempt)` until it resolves, a non-retriable error occurs (rethrown as is), attempts run out or
 * the deadline passes (RetriesExhaustedError).
 */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const errors: unknown[] = [];
  const shouldRetry = opts.shouldRetry ?? isRetriable;
  for (let attempt = 1; attempt <= Math.max(1, opts.attempts); attempt++) {
    const delay = backoffDelayMs(attempt, opts.backoff);
    if (opts.deadlineMs !== undefined && Date.now() + delay >= opts.deadlineMs && attempt > 1) break;
    if (delay > 0) await sleep(delay);
    try {
      return await fn(attempt);
    } catch (err) {
      errors.push(err);
      opts.onError?.(err, attempt);
      if (!shouldRetry(err)) throw err;
    }
  }
  throw new RetriesExhaustedError(opts.what, errors);
}
