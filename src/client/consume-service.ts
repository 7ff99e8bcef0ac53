/**
 * Concurrent consumption (RocketMQ's ConsumeMessageConcurrentlyService): runs the user's handler on pulled
 * messages with a concurrency limit, then advances the queue's commit offset to the smallest offset still in
 * flight. A failed message is sent back to the broker for redelivery through `%RETRY%<group>` (clustering),
 * or dropped with a warning (broadcasting).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '../common/log.js';
import type { MessageQueue } from './message-queue.js';
import type { OffsetStore } from './offset-store.js';
import type { ProcessQueue } from './process-queue.js';
import type { ReceivedMessage } from './received-message.js';

/** What a handler may return; a throw counts as RECONSUME_LATER. */
export const ConsumeResult = { CONSUME_SUCCESS: 'CONSUME_SUCCESS', RECONSUME_LATER: 'RECONSUME_LATER' } as const;
export type ConsumeResult = (typeof ConsumeResult)[keyof typeof ConsumeResult];

/**
 * The user's message handler. Returning nothing or `'CONSUME_SUCCESS'` (or resolving so) acknowledges the
 * message; throwing, rejecting or returning `'RECONSUME_LATER'` has it redelivered later. Any other return value
 * is a compile error, so a misspelt status cannot silently acknowledge.
 */
export type MessageHandler = (msg: ReceivedMessage) => HandlerOutcome | Promise<HandlerOutcome>;
/** What a handler returns: a ConsumeResult, or nothing for success. */
// biome-ignore lint/suspicious/noConfusingVoidType: `void` lets handlers whose last statement is a call (`(m) => log(m)`) compile.
export type HandlerOutcome = ConsumeResult | undefined | void;

/** Retrying a message locally after every send-back path failed waits this long. */
export const consumeLaterDelayMs = 5000;

export interface ConsumeServiceOptions {
  concurrency: number;
  handler: () => MessageHandler | undefined;
  offsets: OffsetStore;
  /** Returns true when the broker (or the retry topic) took the message back; undefined = broadcasting. */
  sendBack?: (msg: ReceivedMessage) => Promise<boolean>;
  log?: Logger;
}

export class ConsumeService {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly running = new Set<Promise<void>>();

  private readonly log: Logger;

  constructor(private readonly opts: ConsumeServiceOptions) {
    this.log = opts.log ?? createLogger('client.consume');
  }

  /** Queues messages of one pull; returns at once. */
  submit(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>, msgs: readonly ReceivedMessage[]): void {
    for (const msg of msgs) {
      const p = this.consumeOne(mq, pq, msg).catch((err) => this.log.error('consume task failed', { err }));
      this.running.add(p);
      p.finally(() => this.running.delete(p));
    }
  }

  /** Messages waiting for or inside the handler. */
  get pending(): number {
    return this.running.size;
  }

  /** Resolves when every submitted message finished (or `timeoutMs` passed). */
  async drain(timeoutMs: number): Promise<void> {
    await Promise.race([Promise.allSettled([...this.running]), sleep(timeoutMs, undefined, { ref: false })]);
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

  private async consumeOne(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>, msg: ReceivedMessage): Promise<void> {
    await this.acquire();
    let ok: boolean;
    try {
      if (pq.dropped) return;
      ok = await this.invoke(msg);
    } finally {
      this.release();
    }
    if (!ok && this.opts.sendBack !== undefined) {
      const taken = await this.opts.sendBack(msg).catch(() => false);
      if (!taken) {
        // Keep it in flight (the offset cannot pass it) and try again later.
        await sleep(consumeLaterDelayMs, undefined, { ref: false });
        if (!pq.dropped) await this.consumeOne(mq, pq, msg);
        return;
      }
    } else if (!ok) {
      this.log.warn('broadcast message failed and is dropped', { msgId: msg.msgId, topic: msg.topic });
    }
    const offset = pq.remove([msg]);
    if (offset >= 0n && !pq.dropped) this.opts.offsets.update(mq, offset, true);
  }

  private async invoke(msg: ReceivedMessage): Promise<boolean> {
    const handler = this.opts.handler();
    if (handler === undefined) return false;
    try {
      const result = await handler(msg);
      return result !== ConsumeResult.RECONSUME_LATER;
    } catch (err) {
      this.log.warn('message handler threw; message will be redelivered', { msgId: msg.msgId, err });
      return false;
    }
  }
}
