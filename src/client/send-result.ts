/** What a send returns and accepts: SendResult, SendOptions, SendCallback. */
import type { SendStatus } from './client-api.js';
import type { MessageQueue } from './message-queue.js';
import type { QueueSelector } from './queue-selector.js';

/** Where to send: a sharding key (ordered messages), a selector function, or an exact queue. */
export interface SendOptions {
  /** Same key, same queue (hash of the key); also stored as the `__SHARDINGKEY` property. */
  shardingKey?: string;
  selector?: QueueSelector;
  /** Passed to `selector`. */
  arg?: unknown;
  queue?: MessageQueue;
  /** Overrides the producer's sendTimeoutMs. */
  timeoutMs?: number;
}

/** What a send resolves with. `JSON.stringify` works on it: the 64-bit queue offset is written as a decimal string. */
export class SendResult {
  constructor(
    readonly status: SendStatus,
    /** UNIQ_KEY of the message (comma-separated for a batch). */
    readonly msgId: string,
    /** Broker-assigned offsetMsgId(s). */
    readonly offsetMsgId: string,
    readonly messageQueue: MessageQueue,
    /** Offset in the queue; -1 for a oneway send. */
    readonly queueOffset: bigint,
    readonly transactionId?: string | undefined,
  ) {}

  toJSON(): SendResultJson {
    const json: SendResultJson = {
      status: this.status,
      msgId: this.msgId,
      offsetMsgId: this.offsetMsgId,
      messageQueue: this.messageQueue,
      queueOffset: String(this.queueOffset),
    };
    if (this.transactionId !== undefined) json.transactionId = this.transactionId;
    return json;
  }
}

/** The JSON form of a SendResult (BigInt has no JSON form, so the offset is a string). */
export interface SendResultJson {
  status: SendStatus;
  msgId: string;
  offsetMsgId: string;
  messageQueue: MessageQueue;
  queueOffset: string;
  transactionId?: string;
}

export type SendCallback = (err: Error | null, result?: SendResult) => void;
