/**
 * Orderly consumption (RocketMQ's ConsumeMessageOrderlyService): each queue is consumed by one worker, one
 * message at a time in offset order, and only while this client holds the queue's broker lock (clustering).
 * A failed message suspends its queue (`suspendMs`, 1 s) and is retried locally, so no later message of that
 * queue passes it; past `maxReconsumeTimes` it goes to `%DLQ%<group>` (sent to `%RETRY%<group>` with its
 * count at the maximum, which the broker stores in the DLQ) and the queue moves on. Offsets advance only past
 * consumed messages. Queues run in parallel up to `concurrency` handlers at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '../common/log.js';
import { ConsumeResult, type MessageHandler } from './consume-service.js';
import type { MessageQueue } from './message-queue.js';
import type { OffsetStore } from './offset-store.js';
import type { ProcessQueue } from './process-queue.js';
import type { QueueLocks } from './queue-locks.js';
import type { ReceivedMessage } from './received-message.js';

/** RocketMQ's suspendCurrentQueueTimeMillis: a failed message is retried after this pause. */
export const suspendMsDefault = 1000;
/** RocketMQ's maxReconsumeTimes of an orderly consumer left at -1: retry locally for ever. */
export const orderlyMaxReconsumeTimesDefault = 2_147_483_647;
/** A queue whose lock is not live waits this long, then tries to lock it again … */
const relockDelayMs = 100;
/** … and this long more when the broker refused (another member holds it). */
const relockRefusedDelayMs = 3000;

export interface OrderlyConsumeOptions {
  concurrency: number;
  handler: () => MessageHandler | undefined;
  offsets: OffsetStore;
  /** Clustering: consume a queue only while its lock is live. Undefined in broadcasting (no locks). */
  locks?: QueueLocks | undefined;
  /** How long a granted or renewed lock is trusted (ms). */
  lockLeaseMs: number;
  maxReconsumeTimes: number;
  suspendMs: number;
  /** Puts a message past its budget into the DLQ; true when stored. Undefined: the message is dropped. */
  sendToDlq?: ((msg: ReceivedMessage) => Promise<boolean>) | undefined;
  log?: Logger;
}

const Step = { consumed: 'consumed', retry: 'retry', dropped: 'dropped' } as const;
type Step = (typeof Step)[keyof typeof Step];

export class ConsumeOrderlyService {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** Queues with a running worker. */
  private readonly workers = new Set<ProcessQueue<ReceivedMessage>>();
  /** The message each queue is consuming now (handler, or the DLQ send after it). */
  private readonly current = new Map<ProcessQueue<ReceivedMessage>, Promise<Step>>();
  private readonly log: Logger;

  constructor(private readonly opts: OrderlyConsumeOptions) {
    this.log = opts.log ?? createLogger('client.consume');
  }

  /** New messages of a queue: starts its worker unless one runs (it takes them in order). */
  submit(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>, _msgs: readonly ReceivedMessage[]): void {
    if (this.workers.has(pq)) return;
    this.workers.add(pq);
    this.work(mq, pq).catch((err) => this.log.error('orderly consume worker failed', { err }));
  }

  /** Messages inside the handler now (one per queue at most). */
  get pending(): number {
    return this.current.size;
  }

  /** Resolves once the message `pq` is consuming (if any) is done: the queue can then be released. */
  async settled(pq: ProcessQueue<ReceivedMessage>): Promise<void> {
    await this.current.get(pq);
  }

  /** Resolves when every message being consumed finished (or `timeoutMs` passed). */
  async drain(timeoutMs: number): Promise<void> {
    await Promise.race([Promise.allSettled([...this.current.values()]), sleep(timeoutMs, undefined, { ref: false })]);
  }

  private async work(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>): Promise<void> {
    try {
      for (;;) {
        if (pq.dropped) return;
        const msg = pq.head(1)[0];
        // No await from this check to the worker's end (finally): a later submit() starts a new worker.
        if (msg === undefined) return;
        const locks = this.opts.locks;
        if (locks !== undefined && !pq.lockLive(Date.now(), this.opts.lockLeaseMs)) {
          await sleep(relockDelayMs, undefined, { ref: false });
          if (pq.dropped) return;
          if (!(await locks.lock(mq, pq))) await sleep(relockRefusedDelayMs, undefined, { ref: false });
          continue;
        }
        const step = this.consumeHead(mq, pq, msg);
        this.current.set(pq, step);
        const outcome = await step;
        this.current.delete(pq);
        if (outcome === Step.retry) await sleep(this.opts.suspendMs, undefined, { ref: false });
      }
    } finally {
      this.workers.delete(pq);
      this.current.delete(pq);
    }
  }

  private async consumeHead(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>, msg: ReceivedMessage): Promise<Step> {
    await this.acquire();
    let ok: boolean;
    try {
      if (pq.dropped) return Step.dropped;
      ok = await this.invoke(msg);
    } finally {
      this.release();
    }
    if (ok) return this.consumed(mq, pq, msg);
    if (msg.reconsumeTimes < this.opts.maxReconsumeTimes) {
      msg.reconsumeTimes += 1;
      return Step.retry;
    }
    const send = this.opts.sendToDlq;
    if (send === undefined) {
      this.log.warn('message past its reconsume budget is dropped', { msgId: msg.msgId, topic: msg.topic });
      return this.consumed(mq, pq, msg);
    }
    if (await send(msg).catch(() => false)) {
      this.log.warn('message past its reconsume budget moved to the DLQ', { msgId: msg.msgId, topic: msg.topic });
      return this.consumed(mq, pq, msg);
    }
    // Not stored: keep it at the head of its queue and try again after the pause.
    msg.reconsumeTimes += 1;
    return Step.retry;
  }

  /** Commits past `msg`. Also after a drop: the queue is released only once this step is done. */
  private consumed(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>, msg: ReceivedMessage): Step {
    const offset = pq.remove([msg]);
    if (offset >= 0n) this.opts.offsets.update(mq, offset, true);
    return Step.consumed;
  }

  private async invoke(msg: ReceivedMessage): Promise<boolean> {
    const handler = this.opts.handler();
    if (handler === undefined) return false;
    try {
      return (await handler(msg)) !== ConsumeResult.RECONSUME_LATER;
    } catch (err) {
      this.log.warn('message handler threw; the queue is suspended and the message retried', {
        msgId: msg.msgId,
        err,
      });
      return false;
    }
  }

  private async acquire(): Promise<void> {
    if (this.active < this.opts.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.active--;
  }
}
