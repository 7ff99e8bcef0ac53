/**
 * Orderly consumption (RocketMQ's ConsumeMessageOrderlyService): each queue is consumed by one chain, one
 * message at a time in offset order, and only while this client holds the queue's broker lock (clustering).
 * A failed message suspends its chain (`suspendMs`, 1 s) and is retried locally, so no later message of that
 * chain passes it; past `maxReconsumeTimes` it goes to `%DLQ%<group>` (sent to `%RETRY%<group>` with its
 * count at the maximum, which the broker stores in the DLQ) and the chain moves on. Offsets advance only past
 * consumed messages (the smallest offset still in the queue). Chains run in parallel up to `concurrency`
 * handlers at once. With `keyOf` (per-key scope, beyond RocketMQ) each key of a queue is a chain of its own.
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
  /**
   * Per-key scope (beyond RocketMQ): the key of a message; messages of different keys in one queue are consumed
   * in parallel, each key strictly in order. Undefined: queue scope (RocketMQ's), one message per queue at a time.
   */
  keyOf?: ((msg: ReceivedMessage) => string) | undefined;
  log?: Logger;
}

const Step = { consumed: 'consumed', retry: 'retry', dropped: 'dropped' } as const;
type Step = (typeof Step)[keyof typeof Step];

/** The messages of one key of one queue (all of a queue's in queue scope), consumed one at a time in order. */
interface Chain {
  msgs: Array<ReceivedMessage | undefined>;
  /** Index of the next message to consume in `msgs`. */
  next: number;
  running: boolean;
  /** The message being consumed now (handler, or the DLQ send after it). */
  current: Promise<Step> | undefined;
}

/** A chain compacts its array once this many consumed slots lead it. */
const chainCompactAt = 1024;

export class ConsumeOrderlyService {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** Per queue, its chains by key ('' for every message in queue scope). */
  private readonly chains = new Map<ProcessQueue<ReceivedMessage>, Map<string, Chain>>();
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly opts: OrderlyConsumeOptions) {
    this.log = opts.log ?? createLogger('client.consume');
  }

  /** New messages of a queue (ascending offsets): each joins its key's chain, which starts unless it runs. */
  submit(mq: MessageQueue, pq: ProcessQueue<ReceivedMessage>, msgs: readonly ReceivedMessage[]): void {
    let chains = this.chains.get(pq);
    if (chains === undefined) {
      chains = new Map();
      this.chains.set(pq, chains);
    }
    const keyOf = this.opts.keyOf;
    for (const msg of msgs) {
      const key = keyOf === undefined ? '' : keyOf(msg);
      let chain = chains.get(key);
      if (chain === undefined) {
        chain = { msgs: [], next: 0, running: false, current: undefined };
        chains.set(key, chain);
      }
      chain.msgs.push(msg);
    }
    for (const [key, chain] of chains) {
      if (chain.running) continue;
      chain.running = true;
      this.run(mq, pq, chains, key, chain).catch((err) => this.log.error('orderly consume worker failed', { err }));
    }
  }

  /** Messages inside the handler now (one per queue, or per key of a queue, at most). */
  get pending(): number {
    let n = 0;
    for (const chains of this.chains.values()) for (const c of chains.values()) if (c.current !== undefined) n++;
    return n;
  }

  /** Resolves once the messages `pq` is consuming (if any) are done: the queue can then be released. */
  async settled(pq: ProcessQueue<ReceivedMessage>): Promise<void> {
    const chains = this.chains.get(pq);
    if (chains !== undefined) await Promise.allSettled([...chains.values()].map((c) => c.current));
  }

  /** Shutdown: no chain starts another message. */
  stop(): void {
    this.stopped = true;
  }

  /** Resolves when every message being consumed finished (or `timeoutMs` passed). */
  async drain(timeoutMs: number): Promise<void> {
    const current: Array<Promise<Step> | undefined> = [];
    for (const chains of this.chains.values()) for (const c of chains.values()) current.push(c.current);
    await Promise.race([Promise.allSettled(current), sleep(timeoutMs, undefined, { ref: false })]);
  }

  private async run(
    mq: MessageQueue,
    pq: ProcessQueue<ReceivedMessage>,
    chains: Map<string, Chain>,
    key: string,
    chain: Chain,
  ): Promise<void> {
    try {
      for (;;) {
        if (pq.dropped || this.stopped) return;
        const msg = chain.msgs[chain.next];
        // No await from this check to the chain's end (finally): a later submit() starts it again.
        if (msg === undefined) return;
        const locks = this.opts.locks;
        if (locks !== undefined && !pq.lockLive(Date.now(), this.opts.lockLeaseMs)) {
          await sleep(relockDelayMs, undefined, { ref: false });
          if (pq.dropped || this.stopped) return;
          if (!pq.lockLive(Date.now(), this.opts.lockLeaseMs) && !(await locks.lock(mq, pq))) {
            await sleep(relockRefusedDelayMs, undefined, { ref: false });
          }
          continue;
        }
        const step = this.consumeHead(mq, pq, msg);
        chain.current = step;
        const outcome = await step;
        chain.current = undefined;
        if (outcome === Step.consumed) {
          chain.msgs[chain.next++] = undefined;
          if (chain.next >= chainCompactAt && chain.next * 2 >= chain.msgs.length) {
            chain.msgs = chain.msgs.slice(chain.next);
            chain.next = 0;
          }
        } else if (outcome === Step.retry) {
          await sleep(this.opts.suspendMs, undefined, { ref: false });
        }
      }
    } finally {
      chain.running = false;
      chain.current = undefined;
      if (chain.next >= chain.msgs.length || pq.dropped) chains.delete(key);
      if (chains.size === 0 && this.chains.get(pq) === chains) this.chains.delete(pq);
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
