/**
 * Redelivery of sent-back messages after a fixed delay (until delay levels land): a FIFO of pending puts with
 * one timer armed for the head. Pending messages are put at once on close so nothing acked is lost on a clean
 * shutdown.
 */
import { createLogger } from '../../common/log.js';
import type { MessageInput, PutResult } from '../../store/types.js';

const log = createLogger('broker.sendback');
export const pendingSendBacksMax = 100_000;

interface Pending {
  dueMs: number;
  msg: MessageInput;
}

export class SendBackScheduler {
  private readonly queue: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    /** Stores a message the put hooks have already rewritten (PutPipeline.putRewritten). */
    private readonly putRewritten: (msg: MessageInput) => Promise<PutResult>,
    private readonly delayMs: number,
  ) {}

  /** False when too many are pending (the caller answers SYSTEM_BUSY). */
  schedule(msg: MessageInput): boolean {
    if (this.closed || this.size() >= pendingSendBacksMax) return false;
    this.queue.push({ dueMs: Date.now() + this.delayMs, msg });
    this.arm();
    return true;
  }

  size(): number {
    return this.queue.length - this.head;
  }

  private arm(): void {
    if (this.timer !== undefined || this.size() === 0) return;
    const first = this.queue[this.head] as Pending;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.runDue(Date.now());
      },
      Math.max(0, first.dueMs - Date.now()),
    );
    this.timer.unref();
  }

  private async runDue(nowMs: number): Promise<void> {
    while (this.size() > 0 && (this.queue[this.head] as Pending).dueMs <= nowMs) {
      const p = this.queue[this.head++] as Pending;
      await this.put(p.msg);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  }

  private async put(msg: MessageInput): Promise<void> {
    try {
      const r = await this.putRewritten(msg);
      if (r.status !== 'PUT_OK') log.warn('redelivery put failed', { topic: msg.topic, status: r.status });
    } catch (err) {
      log.error('redelivery put failed', { topic: msg.topic, err });
    }
  }

  /** Puts everything pending now (shutdown). */
  async flush(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.size() > 0) await this.put((this.queue[this.head++] as Pending).msg);
  }
}
