/** What a send returns and accepts: SendResult, SendOptions, SendCallback. */
import type { SendStatus } from './client-api.js';
import type { MessageQueue } from './message-queue.js';
import type { QueueSelector } from './queue-selector.js';

/** Where to send: a sharding key (ordered messages), a selector function, or an exact queue. */
export interface SendOptions {
  shardingKey?: string;
  selector?: QueueSelector;
  /** Passed to `selector`. */
  arg?: unknown;
  queue?: MessageQueue;
  /** Overrides the producer's sendTimeoutMs. */
  timeoutMs?: number;
}

export interface SendResult {
  status: SendStatus;
  /** UNIQ_KEY of the message (comma-separated for a batch). */
  msgId: string;
  /** Broker-assigned offsetMsgId(s). */
  offsetMsgId: string;
  messageQueue: MessageQueue;
  queueOffset: bigint;
  transactionId?: string | undefined;
}

export type SendCallback = (err: Error | null, result?: SendResult) => void;
