/**
 * The put pipeline: every put the broker makes (send, batch send, send-back) runs the put hooks in order, then
 * reaches the store. Topic rewrites (retry → DLQ today; delay → SCHEDULE_TOPIC_XXXX, prepared → half topic,
 * timer → timer topic later) happen here and nowhere else; the ordered list is in hooks.ts.
 */

import { ResponseCode } from '../../remoting/codes.js';
import type { MessageInput, MessageStore, PlainBatch, PutResult } from '../../store/types.js';
import { type PutHook, type PutMessage, PutRefusal, type PutRequest } from './types.js';

const mixedBatch = new PutRefusal(
  ResponseCode.MESSAGE_ILLEGAL,
  'the messages of a batch would go to different queues (a half or scheduled message in a batch): send them alone',
);

export class PutPipeline {
  /** Whether plain batches may skip the hooks and be stored from their bytes (see `PutHook.leavesPlainAlone`). */
  readonly plainBatches: boolean;

  constructor(
    private readonly store: MessageStore,
    readonly hooks: readonly PutHook[],
  ) {
    this.plainBatches = store.putPlainBatch !== undefined && hooks.every((h) => h.leavesPlainAlone === true);
  }

  /**
   * A batch of plain messages (see `PutHook.leavesPlainAlone`): every hook would leave each alone, so it goes to the
   * store as it is. Only while `plainBatches`; the caller checks the messages are plain.
   */
  putPlainBatch(batch: PlainBatch): Promise<PutResult> {
    const put = this.store.putPlainBatch;
    if (!this.plainBatches || put === undefined) throw new Error('this pipeline does not take plain batches');
    return put.call(this.store, batch);
  }

  /** Runs every hook over `msg` in order; the first refusal stops it. */
  rewrite(msg: PutMessage, req: PutRequest): PutRefusal | undefined {
    const hooks = this.hooks;
    for (let i = 0; i < hooks.length; i++) {
      const refused = (hooks[i] as PutHook).beforePut(msg, req);
      if (refused !== undefined) return refused;
    }
    return undefined;
  }

  /** Rewrites, then stores: a refusal comes back at once (not as a promise), so the send path awaits only puts. */
  put(msg: PutMessage, req: PutRequest): Promise<PutResult> | PutRefusal {
    return this.rewrite(msg, req) ?? this.store.putMessage(msg);
  }

  /** A batch: every message is rewritten; one refusal refuses the whole batch. */
  putBatch(msgs: readonly PutMessage[], req: PutRequest): Promise<PutResult> | PutRefusal {
    const first = msgs[0] as PutMessage;
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i] as PutMessage;
      const refused = this.rewrite(msg, req);
      if (refused !== undefined) return refused;
      // A batch is stored in one queue: a hook that moved only some of its messages cannot be served.
      if (msg.topic !== first.topic || msg.queueId !== first.queueId) return mixedBatch;
    }
    return this.store.putMessages(msgs);
  }

  /** Stores a message that went through `rewrite` when it was accepted (a redelivery held back by send-back). */
  putRewritten(msg: MessageInput): Promise<PutResult> {
    return this.store.putMessage(msg);
  }

  /** The same for several messages of one topic and queue, stored as one batch (a burst of due timer messages). */
  putRewrittenBatch(msgs: readonly MessageInput[]): Promise<PutResult> {
    return this.store.putMessages(msgs);
  }
}
