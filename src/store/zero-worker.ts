/**
 * One thread per process that writes zeros ahead of the CommitLog (prealloc.ts): off the event loop and off libuv's
 * thread pool, whose shared queue lock the event loop waits for whenever a pool thread holding it is preempted, so
 * a stream of small pool jobs would add such waits. Jobs run one at a time, in order.
 */
import { Worker } from 'node:worker_threads';

export interface ZeroJob {
  id: number;
  fd: number;
  position: number;
  length: number;
}

export interface ZeroResult {
  id: number;
  /** 'written': the zeros are in the file (the range may take records); 'synced': and fdatasync'd. */
  stage: 'written' | 'synced';
  /** The failure's code (ENOSPC, EIO, …), undefined when the zeros were written and synced. */
  error: string | undefined;
}

/** A zero job that failed in the worker (or the worker itself). */
export class ZeroFillError extends Error {
  constructor(readonly code: string) {
    super(`writing zeros ahead of the commitlog failed: ${code}`);
    this.name = 'ZeroFillError';
  }
}

/** A running job: `written` settles first, then `synced`. */
export interface ZeroFill {
  written: Promise<void>;
  synced: Promise<void>;
}

interface Settlers {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface ZeroWaiter {
  written: Settlers;
  synced: Settlers;
}

let shared: ZeroWorker | undefined;
let startFailed = false;

export class ZeroWorker {
  private nextId = 1;
  private readonly waiting = new Map<number, ZeroWaiter>();
  private failure: ZeroFillError | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (r: ZeroResult) => this.settle(r));
    worker.on('error', (err) => this.fail(err.message));
    worker.on('exit', (code) => this.fail(`zero worker exited (${code})`));
    worker.unref();
  }

  /** The process's worker (started on first call); undefined when it cannot run or failed. */
  static shared(): ZeroWorker | undefined {
    if (shared === undefined && !startFailed) {
      try {
        shared = new ZeroWorker(new Worker(new URL('./zero-worker-thread.js', import.meta.url)));
      } catch {
        startFailed = true;
      }
    }
    return shared?.failure === undefined ? shared : undefined;
  }

  /** Writes `length` zeros at `position` of `fd`, then fdatasyncs it; `fd` must stay open until `synced` settles. */
  zero(fd: number, position: number, length: number): ZeroFill {
    const w = { written: settlers(), synced: settlers() };
    const fill: ZeroFill = { written: w.written.promise, synced: w.synced.promise };
    if (this.failure !== undefined) {
      w.written.reject(this.failure);
      w.synced.reject(this.failure);
      return fill;
    }
    const id = this.nextId++;
    // Referenced while a job runs, so a caller awaiting it keeps the process alive; idle, it never does.
    if (this.waiting.size === 0) this.worker.ref();
    this.waiting.set(id, w);
    const job: ZeroJob = { id, fd, position, length };
    this.worker.postMessage(job);
    return fill;
  }

  private settle(r: ZeroResult): void {
    const w = this.waiting.get(r.id);
    if (w === undefined) return;
    if (r.error !== undefined) {
      const err = new ZeroFillError(r.error);
      if (r.stage === 'written') w.written.reject(err);
      w.synced.reject(err);
      this.forget(r.id);
    } else if (r.stage === 'written') w.written.resolve();
    else {
      w.synced.resolve();
      this.forget(r.id);
    }
  }

  private forget(id: number): void {
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker.unref();
  }

  private fail(reason: string): void {
    this.failure ??= new ZeroFillError(reason);
    for (const w of this.waiting.values()) {
      w.written.reject(this.failure);
      w.synced.reject(this.failure);
    }
    this.waiting.clear();
    this.worker.unref();
  }
}

function settlers(): Settlers & { promise: Promise<void> } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Settled for callers that never look (a failed `written` also fails `synced`, which they await).
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
