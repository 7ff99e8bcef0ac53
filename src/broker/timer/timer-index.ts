/**
 * The pending timer messages in memory: queue offsets of rmq_sys_wheel_timer in slots of `precisionMs` (slot k
 * holds deliver times in ((k-1)·p, k·p] and is due at k·p, so nothing fires early and lateness is under one
 * slot), with a min-heap of slot numbers. Unlike RocketMQ's wheel it has no window: any delay fits, so no roll.
 */
export class TimerIndex {
  private readonly slots = new Map<number, number[]>();
  private readonly heap: number[] = [];
  private count = 0;

  constructor(readonly precisionMs: number) {}

  get size(): number {
    return this.count;
  }

  add(queueOffset: number, deliverMs: number): void {
    const slot = Math.ceil(deliverMs / this.precisionMs);
    const list = this.slots.get(slot);
    if (list !== undefined) list.push(queueOffset);
    else {
      this.slots.set(slot, [queueOffset]);
      this.push(slot);
    }
    this.count++;
  }

  /** When the earliest slot is due (ms), undefined when nothing is pending. */
  nextDueMs(): number | undefined {
    const top = this.heap[0];
    return top === undefined ? undefined : top * this.precisionMs;
  }

  /** Removes and returns up to `max` queue offsets of the slots due at `nowMs`, earliest slot first. */
  takeDue(nowMs: number, max: number): number[] {
    const out: number[] = [];
    while (this.heap.length > 0 && out.length < max) {
      const slot = this.heap[0] as number;
      if (slot * this.precisionMs > nowMs) break;
      const list = this.slots.get(slot) as number[];
      const n = Math.min(list.length, max - out.length);
      // A big slot (a burst) is taken in parts from its end; the rest stays due.
      for (let i = list.length - n; i < list.length; i++) out.push(list[i] as number);
      list.length -= n;
      if (list.length === 0) {
        this.pop();
        this.slots.delete(slot);
      }
    }
    this.count -= out.length;
    return out;
  }

  /** Every pending deliver time is above this (ms); undefined when nothing is pending. */
  deliverFloorMs(): number | undefined {
    const top = this.heap[0];
    return top === undefined ? undefined : (top - 1) * this.precisionMs;
  }

  /** The smallest pending queue offset (a scan: called once per checkpoint). */
  minOffset(): number | undefined {
    let min = Number.POSITIVE_INFINITY;
    for (const list of this.slots.values())
      for (let i = 0; i < list.length; i++) min = Math.min(min, list[i] as number);
    return min === Number.POSITIVE_INFINITY ? undefined : min;
  }

  private push(v: number): void {
    const h = this.heap;
    let i = h.push(v) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as number) <= v) break;
      h[i] = h[parent] as number;
      i = parent;
    }
    h[i] = v;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as number;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && (h[r] as number) < (h[l] as number) ? r : l;
      if ((h[c] as number) >= last) break;
      h[i] = h[c] as number;
      i = c;
    }
    h[i] = last;
  }
}
