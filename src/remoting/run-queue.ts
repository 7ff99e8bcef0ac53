/**
 * How long the calling thread (the event loop's, when a server's periodic task asks) was runnable but waiting for a
 * core, as a share of the wall time since it last asked: Linux's /proc/thread-self/schedstat (on-CPU ns, run-queue
 * ns, slices). A high share means the machine's cores are oversubscribed — then a V8 helper thread is as likely to
 * be off-CPU as this one, and a parallel scavenge waits for it (gc-mode.ts).
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** Run-queue share of wall time from which the cores count as oversubscribed. */
export const runQueueShareBusyMin = 0.1;

export class RunQueueMeter {
  private fd: number | undefined;
  private unavailable = false;
  private readonly buf = Buffer.alloc(128);
  private lastWaitNs = -1;
  private lastAtNs = 0n;

  /** The share (0–1) of the wall time since the previous call spent waiting; undefined at the first call or without schedstat. */
  sample(): number | undefined {
    const waitNs = this.waitNs();
    const atNs = process.hrtime.bigint();
    if (waitNs === undefined) return undefined;
    const prevWaitNs = this.lastWaitNs;
    const wallNs = Number(atNs - this.lastAtNs);
    this.lastWaitNs = waitNs;
    this.lastAtNs = atNs;
    if (prevWaitNs < 0 || wallNs <= 0) return undefined;
    return Math.min(1, Math.max(0, (waitNs - prevWaitNs) / wallNs));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private waitNs(): number | undefined {
    if (this.unavailable) return undefined;
    try {
      this.fd ??= openSync('/proc/thread-self/schedstat', 'r');
      const n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
      const text = this.buf.toString('latin1', 0, n);
      const wait = Number(text.split(' ')[1]);
      return Number.isFinite(wait) ? wait : undefined;
    } catch {
      // Not Linux, or no schedstat in this kernel: never counts as oversubscribed.
      this.unavailable = true;
      return undefined;
    }
  }
}
