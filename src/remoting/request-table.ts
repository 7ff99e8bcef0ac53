/**
 * A connection's pending invokes, keyed by opaque, with one timer for all their deadlines instead of a setTimeout
 * per request (a timer's creation, list insert and clear were ~4 % of a batch sender's client CPU). The timer is
 * armed at the earliest deadline it knows of; when it fires, every request past its deadline rejects with
 * RemotingTimeoutError (in the order sent) and the timer is armed again at the earliest deadline left. A request
 * never times out before its timeoutMs has passed on the monotonic clock.
 */
import { requestCodeName } from './codes.js';
import type { RemotingCommand } from './command.js';
import { RemotingTimeoutError } from './errors.js';

interface Pending {
  resolve: (resp: RemotingCommand) => void;
  reject: (err: Error) => void;
  /** performance.now() after which the request times out. */
  deadlineMs: number;
  code: number;
  timeoutMs: number;
}

/** setTimeout's largest delay: a longer one fires after 1 ms (with a warning). */
const timerDelayMsMax = 0x7fffffff;

export class RequestTable {
  private readonly pending = new Map<number, Pending>();
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now()); +Infinity when none is armed. */
  private timerAtMs = Number.POSITIVE_INFINITY;
  /** Whether the armed timer keeps the process alive: only while a request is pending, as a timer per request did. */
  private timerRefed = false;

  /** `peer` names the connection in timeout errors. */
  constructor(private readonly peer: string) {}

  get size(): number {
    return this.pending.size;
  }

  has(opaque: number): boolean {
    return this.pending.has(opaque);
  }

  add(
    opaque: number,
    code: number,
    timeoutMs: number,
    resolve: (resp: RemotingCommand) => void,
    reject: (err: Error) => void,
  ): void {
    // NaN or ≤ 0 times out at the next timer turn, as setTimeout did.
    const deadlineMs = performance.now() + (timeoutMs > 0 ? timeoutMs : 0);
    this.pending.set(opaque, { resolve, reject, deadlineMs, code, timeoutMs });
    if (deadlineMs < this.timerAtMs) this.arm(deadlineMs);
    else if (!this.timerRefed) {
      this.timerRefed = true;
      this.timer?.ref();
    }
  }

  /** Settles the request `opaque` with its response; false when none is pending (timed out, or never sent). */
  complete(resp: RemotingCommand): boolean {
    const p = this.pending.get(resp.opaque);
    if (p === undefined) return false;
    this.pending.delete(resp.opaque);
    // The timer stays armed for the next requests, but no longer holds the process open by itself.
    if (this.pending.size === 0 && this.timerRefed) {
      this.timerRefed = false;
      this.timer?.unref();
    }
    p.resolve(resp);
    return true;
  }

  /** Rejects every pending request with `err` and stops the timer. */
  rejectAll(err: Error): void {
    this.disarm();
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  private arm(atMs: number): void {
    this.disarm();
    const delayMs = Math.min(timerDelayMsMax, Math.max(1, Math.ceil(atMs - performance.now())));
    this.timerAtMs = atMs;
    this.timerRefed = true;
    this.timer = setTimeout(() => this.expire(), delayMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAtMs = Number.POSITIVE_INFINITY;
    this.timerRefed = false;
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAtMs = Number.POSITIVE_INFINITY;
    this.timerRefed = false;
    const nowMs = performance.now();
    let nextMs = Number.POSITIVE_INFINITY;
    const expired: Array<[number, Pending]> = [];
    for (const [opaque, p] of this.pending) {
      if (p.deadlineMs <= nowMs) expired.push([opaque, p]);
      else if (p.deadlineMs < nextMs) nextMs = p.deadlineMs;
    }
    for (const [opaque] of expired) this.pending.delete(opaque);
    // Armed before the rejections: a caller's reaction may send again.
    if (nextMs !== Number.POSITIVE_INFINITY) this.arm(nextMs);
    for (const [opaque, p] of expired) {
      p.reject(
        new RemotingTimeoutError(
          `${requestCodeName(p.code)} (opaque ${opaque}) to ${this.peer} got no response in ${p.timeoutMs} ms`,
        ),
      );
    }
  }
}
