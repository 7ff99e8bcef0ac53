/**
 * Long polling of pops (RocketMQ's PopLongPollingService): a pop that found nothing waits here until a message its
 * filter takes arrives on the topic or its retry topic (the store's arrival hook), a FIFO queue of the topic is
 * released, its deadline passes or its caller gives up.
 */
import type { MessageFilter } from '../../store/types.js';

/** woken: look again; timeout: `untilMs` passed or the caller aborted; full: too many wait; closed: shutting down. */
export type WaitOutcome = 'woken' | 'timeout' | 'full' | 'closed';

interface Waiter {
  readonly filter: MessageFilter | undefined;
  done(outcome: WaitOutcome): void;
}

export class PopWaiters {
  private readonly byTopic = new Map<string, Set<Waiter>>();
  /** A POP retry topic → the topic whose waiters its arrivals wake. */
  private readonly aliases = new Map<string, string>();
  private count = 0;
  private closed = false;

  constructor(private readonly waitersMax: number) {}

  get size(): number {
    return this.count;
  }

  /** Waits until woken, `untilMs`, or `signal` aborts. */
  wait(
    topic: string,
    retryTopic: string | undefined,
    filter: MessageFilter | undefined,
    untilMs: number,
    signal?: AbortSignal,
  ): Promise<WaitOutcome> {
    if (this.closed) return Promise.resolve('closed');
    if (this.count >= this.waitersMax) return Promise.resolve('full');
    if (signal?.aborted === true) return Promise.resolve('timeout');
    if (retryTopic !== undefined) this.aliases.set(retryTopic, topic);
    return new Promise((resolve) => {
      let set = this.byTopic.get(topic);
      if (set === undefined) {
        set = new Set();
        this.byTopic.set(topic, set);
      }
      const waiters = set;
      const onAbort = () => w.done('timeout');
      const timer = setTimeout(() => w.done('timeout'), Math.max(0, untilMs - Date.now()));
      const w: Waiter = {
        filter,
        done: (outcome) => {
          if (!waiters.delete(w)) return;
          this.count--;
          if (waiters.size === 0 && this.byTopic.get(topic) === waiters) this.byTopic.delete(topic);
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      };
      waiters.add(w);
      this.count++;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Store arrival: wakes the waiters of the topic (or of the topic a retry topic serves) whose filter takes it. */
  notifyArrival(topic: string, tagsCode: bigint): void {
    if (this.count === 0) return;
    const set = this.byTopic.get(this.aliases.get(topic) ?? topic);
    if (set === undefined) return;
    for (const w of [...set]) if (w.filter === undefined || w.filter.isMatchedByTagsCode(tagsCode)) w.done('woken');
  }

  /** Something other than an arrival may have made messages poppable (a FIFO queue released). */
  wakeTopic(topic: string): void {
    const set = this.byTopic.get(topic);
    if (set !== undefined) for (const w of [...set]) w.done('woken');
  }

  /** Answers every waiter, and every later wait at once (shutdown). */
  close(): void {
    this.closed = true;
    for (const set of [...this.byTopic.values()]) for (const w of [...set]) w.done('closed');
  }
}
