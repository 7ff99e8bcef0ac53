/**
 * The one load generator every system is driven by: windowed (bounded in-flight, acks awaited) publishing,
 * fixed-rate publishing, and message bodies that carry a sequence number and a send timestamp.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface WindowedResult {
  count: number;
  seconds: number;
  msgsPerSec: number;
}

/** Body of `bytes` (≥ 12): [uint32 seq][float64 performance.now() at send][filler]. */
export function makeBody(template: Buffer, seq: number): Buffer {
  const b = Buffer.allocUnsafe(template.length);
  // TypedArray set: the same bytes as template.copy(b) without Buffer.copy's argument handling per call.
  b.set(template);
  b.writeUInt32BE(seq >>> 0, 0);
  b.writeDoubleBE(performance.now(), 4);
  return b;
}

export function bodySeq(body: Buffer): number {
  return body.readUInt32BE(0);
}

export function bodySentAt(body: Buffer): number {
  return body.readDoubleBE(4);
}

/** Calls `send(i)` for i in 0..count-1 with at most `window` unresolved at once; rejects on the first failure. */
export function runWindowed(
  count: number,
  window: number,
  send: (i: number) => Promise<unknown>,
): Promise<WindowedResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    if (count <= 0) {
      resolve({ count: 0, seconds: 0, msgsPerSec: 0 });
      return;
    }
    let next = 0;
    let done = 0;
    let inFlight = 0;
    let failed = false;
    const pump = (): void => {
      while (!failed && inFlight < window && next < count) {
        const i = next++;
        inFlight++;
        send(i).then(
          () => {
            inFlight--;
            if (++done === count) {
              const seconds = (performance.now() - t0) / 1000;
              resolve({ count, seconds, msgsPerSec: count / seconds });
            } else pump();
          },
          (err: unknown) => {
            failed = true;
            reject(err);
          },
        );
      }
    };
    pump();
  });
}

/** Runs `workers` loops each awaiting `send()` back to back for `durationMs`; returns completed sends per second. */
export async function runClosedLoop(workers: number, durationMs: number, send: (worker: number) => Promise<unknown>) {
  const t0 = performance.now();
  const end = t0 + durationMs;
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (performance.now() < end) {
        await send(w);
        done++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { count: done, seconds, msgsPerSec: done / seconds };
}

export interface PacedResult {
  sent: number;
  seconds: number;
  /** Ticks where the in-flight window was full and sends fell behind schedule. */
  behindTicks: number;
}

/** Sends `ratePerSec` messages per second for `durationMs`, open loop (acks awaited only up to `window`). */
export async function runPaced(
  ratePerSec: number,
  durationMs: number,
  window: number,
  send: (i: number) => Promise<unknown>,
): Promise<PacedResult> {
  const total = Math.round((ratePerSec * durationMs) / 1000);
  const pending = new Set<Promise<unknown>>();
  let firstError: unknown;
  let sent = 0;
  let behindTicks = 0;
  const t0 = performance.now();
  while (sent < total && firstError === undefined) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * ratePerSec) / 1000));
    while (sent < due) {
      if (pending.size >= window) {
        behindTicks++;
        break;
      }
      const p = send(sent++).catch((err: unknown) => {
        firstError ??= err;
      });
      pending.add(p);
      p.finally(() => pending.delete(p));
    }
    await sleep(1);
  }
  await Promise.all([...pending]);
  if (firstError !== undefined) throw firstError;
  return { sent, seconds: (performance.now() - t0) / 1000, behindTicks };
}

/** Counts deliveries of `expected` messages; `done` resolves at the last, rejects when nothing arrives for `stallMs`. */
export class DeliveryCounter {
  received = 0;
  duplicates = 0;
  readonly done: Promise<void>;
  private readonly seen: Uint8Array;
  private resolveDone!: () => void;
  private rejectDone!: (err: Error) => void;
  private lastProgress = performance.now();
  private readonly watchdog: NodeJS.Timeout;

  constructor(
    readonly expected: number,
    stallMs: number,
    readonly what: string,
  ) {
    this.seen = new Uint8Array(expected);
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined);
    this.watchdog = setInterval(() => {
      if (performance.now() - this.lastProgress > stallMs) {
        clearInterval(this.watchdog);
        this.rejectDone(new Error(`${what}: no delivery for ${stallMs} ms, got ${this.received}/${expected}`));
      }
    }, 500);
    if (expected === 0) this.finish();
  }

  /** Records one delivery; returns true when it completed the set. */
  add(seq: number): boolean {
    this.lastProgress = performance.now();
    if (seq < this.expected && this.seen[seq] === 1) {
      this.duplicates++;
      return false;
    }
    if (seq < this.expected) this.seen[seq] = 1;
    if (++this.received === this.expected) {
      this.finish();
      return true;
    }
    return false;
  }

  cancel(): void {
    clearInterval(this.watchdog);
  }

  private finish(): void {
    clearInterval(this.watchdog);
    this.resolveDone();
  }
}
