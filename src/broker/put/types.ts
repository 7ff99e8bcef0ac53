/**
 * What a put hook sees and answers (RocketMQ's PutMessageHook): the message on its way to the store, the facts
 * of the request that carried it, and a refusal.
 */
import type { MessageInput } from '../../store/types.js';

/** A message on its way to the store, plus what hooks need that the record does not hold. */
export interface PutMessage extends MessageInput {
  /** TRAN_MSG=true in the properties: the producer marked it a half (prepared) message. */
  transactionPrepared?: boolean | undefined;
  /** REPLY_TO_CLIENT in the properties: a request of request-reply, which gets the CLUSTER property. */
  replyRequest?: boolean | undefined;
  /** The properties hold DELAY or a timer property (TIMER_*, __STARTDELIVERTIME): the delay and timer hooks decode them. */
  scheduled?: boolean | undefined;
}

/** Per request (a batch shares one). The send header satisfies it as it is, so the send path allocates none. */
export interface PutRequest {
  /** The count compared with maxReconsumeTimes when the topic is a %RETRY% topic. */
  readonly reconsumeTimes: number;
  /** The consumer's retry budget; undefined = its group's retryMaxTimes. */
  readonly maxReconsumeTimes: number | undefined;
  /** The consumer asked for the DLQ at once (send-back with delayLevel < 0). */
  readonly deadLetterNow?: boolean | undefined;
  /** The message is one of a batch (SEND_BATCH_MESSAGE): rewrites that move single messages refuse it. */
  readonly batch?: boolean | undefined;
}

/** A hook's "no": answered to the client as `code` with `remark`; nothing is stored. */
export class PutRefusal {
  constructor(
    readonly code: number,
    readonly remark: string,
  ) {}
}

export interface PutHook {
  /** Names the hook in logs and docs. */
  readonly name: string;
  /**
   * True when `beforePut` returns undefined and changes nothing for every plain message: a topic without attributes
   * that is no %RETRY% topic, a sysFlag without transaction type, and properties without TRAN_MSG, REPLY_TO_CLIENT,
   * DELAY or a timer property. While every hook says so, the send path stores a batch of plain messages from its
   * bytes (`PutPipeline.putPlainBatch`) without running the hooks per message.
   */
  readonly leavesPlainAlone?: boolean;
  /** Rewrites `msg` in place (topic, queue, properties) or refuses it; undefined lets it go on. Synchronous: hot. */
  beforePut(msg: PutMessage, req: PutRequest): PutRefusal | undefined;
}
