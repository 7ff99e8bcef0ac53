/**
 * Long polling (RocketMQ's PullRequestHoldService): pulls that found nothing wait here until a message
 * arrives on their queue or their deadline passes. One sweep timer serves all held pulls.
 */
import { createLogger } from '../../common/log.js';
import { PeriodicTask } from '../../common/periodic-task.js';
import type { MessageFilter } from '../../store/types.js';

export interface HeldPull {
  topic: string;
  queueId: number;
  /** Queue offset the pull asked for: any arrival at or past it wakes the pull. */
  offset: bigint;
  deadlineMs: number;
  filter?: MessageFilter | undefined;
  /** True once the connection is gone: dropped at the next sweep. */
  isAbandoned(): boolean;
  /** Re-runs the pull; `final` at the deadline (answer whatever is found). */
  wake(final: boolean): void;
}

export const heldPullsMax = 100_000;

export class PullHoldService {
  private readonly held = new Map<string, HeldPull[]>();
  private count = 0;
  private readonly sweeper: PeriodicTask;

  constructor(sweepMs: number) {
    const log = createLogger('broker.pullhold');
    this.sweeper = new PeriodicTask({
      name: 'pull-hold-sweep',
      periodMs: sweepMs,
      log,
      run: () => this.sweep(Date.now()),
    });
  }

  start(): void {
    this.sweeper.start();
  }

  /** False when too many pulls are held (the caller answers at once instead). */
  hold(p: HeldPull): boolean {
    if (this.count >= heldPullsMax) return false;
    const key = keyOf(p.topic, p.queueId);
    const list = this.held.get(key);
    if (list === undefined) this.held.set(key, [p]);
    else list.push(p);
    this.count++;
    return true;
  }

  size(): number {
    return this.count;
  }

  /** Store arrival: wakes pulls on this queue waiting for `queueOffset` whose filter takes the message. */
  notifyArrival(topic: string, queueId: number, queueOffset: number, tagsCode: bigint): void {
    if (this.count === 0) return;
    const key = keyOf(topic, queueId);
    const list = this.held.get(key);
    if (list === undefined) return;
    const keep: HeldPull[] = [];
    const wake: HeldPull[] = [];
    for (const p of list) {
      if (p.isAbandoned()) continue;
      const matches = p.filter === undefined || p.filter.isMatchedByTagsCode(tagsCode);
      if (queueOffset >= p.offset && matches) wake.push(p);
      else keep.push(p);
    }
    this.replace(key, keep, list.length);
    for (const p of wake) p.wake(false);
  }

  /** Answers held pulls whose deadline passed; drops those whose connection closed. */
  sweep(nowMs: number): void {
    for (const [key, list] of [...this.held]) {
      const keep: HeldPull[] = [];
      const due: HeldPull[] = [];
      for (const p of list) {
        if (p.isAbandoned()) continue;
        if (p.deadlineMs <= nowMs) due.push(p);
        else keep.push(p);
      }
      this.replace(key, keep, list.length);
      for (const p of due) p.wake(true);
    }
  }

  /** Answers every held pull now (shutdown). */
  drain(): void {
    const all = [...this.held.values()].flat();
    this.held.clear();
    this.count = 0;
    for (const p of all) if (!p.isAbandoned()) p.wake(true);
  }

  /** Stops the sweep and answers every held pull. */
  async close(): Promise<void> {
    await this.sweeper.stop();
    this.drain();
  }

  private replace(key: string, keep: HeldPull[], before?: number): void {
    const old = before ?? this.held.get(key)?.length ?? 0;
    this.count -= old - keep.length;
    if (keep.length === 0) this.held.delete(key);
    else this.held.set(key, keep);
  }
}

function keyOf(topic: string, queueId: number): string {
  return `${topic}@${queueId}`;
}
