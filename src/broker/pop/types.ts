/**
 * The POP contract (RocketMQ 5's pop consumption): what the remoting processors (200050/200051/200053/200151) and,
 * in-process, the gRPC endpoint call. A popped message is invisible to the group for `invisibleTimeMs`; acked it
 * never comes back, else it is revived from `%RETRY%<group>_<topic>` (or in place for FIFO) with one more attempt.
 */
import type { MessageExt } from '../../common/message.js';

export interface PopFilter {
  readonly type: 'TAG' | 'SQL92';
  readonly expression: string;
}

export interface PopRequest {
  readonly group: string;
  readonly topic: string;
  /** -1: every readable queue of the topic on this broker (and the retry topic). */
  readonly queueId: number;
  /** 1..32 */
  readonly maxMessages: number;
  /** >= 1000 */
  readonly invisibleTimeMs: number;
  /** 0: answer at once; else long-poll up to this long. */
  readonly pollTimeMs: number;
  /** Where a group with no offset starts. */
  readonly initMode: 'min' | 'max';
  readonly filter: PopFilter;
  /** Order: a queue's next messages only after the previous are acked (or their invisibility ends). */
  readonly fifo: boolean;
  readonly attemptId?: string | undefined;
}

export interface PoppedMessage {
  /** Topic = the original topic (also for a revived message; RETRY_TOPIC names it too), queueId/queueOffset as stored. */
  readonly msg: MessageExt;
  /** POP_CK extraInfo + ' ' + commitLogOffset: what ack and changeInvisible need (opaque to callers). */
  readonly handle: string;
  /** reconsumeTimes + 1 */
  readonly deliveryAttempt: number;
  /** Bytes of its record as stored. */
  readonly storeSize: number;
}

/** One queue a pop took messages from, for the remoting answer's startOffsetInfo / msgOffsetInfo / orderCountInfo. */
export interface PoppedQueue {
  readonly retry: boolean;
  readonly queueId: number;
  readonly startOffset: bigint;
  readonly msgOffsets: readonly bigint[];
  /** FIFO: how many times these messages were delivered before (the same for all of a batch). */
  readonly orderCount: number;
}

export type PopResult =
  | {
      readonly status: 'found';
      readonly popTimeMs: number;
      readonly invisibleTimeMs: number;
      readonly reviveQid: number;
      readonly messages: readonly PoppedMessage[];
      /** Messages left behind in the queues popped (a hint, like RocketMQ's). */
      readonly restNum: number;
      readonly queues: readonly PoppedQueue[];
    }
  | { readonly status: 'none' }
  | { readonly status: 'refused'; readonly code: number; readonly remark: string };

export type AckResult =
  | { readonly status: 'ok' }
  /** The handle is past its deadline or already acked (or changed): nothing was done. */
  | { readonly status: 'expired' }
  | { readonly status: 'refused'; readonly code: number; readonly remark: string };

/** The offsets of one check point acked at once (a BATCH_ACK_MESSAGE entry, RocketMQ's BatchAck). */
export interface AckBatch {
  readonly group: string;
  /** The popped topic (the original one also for a revived message: `retry` marks those). */
  readonly topic: string;
  readonly retry: boolean;
  readonly queueId: number;
  /** The check point's start offset (POP_CK's first field). */
  readonly ckOffset: bigint;
  readonly popTimeMs: number;
  readonly invisibleTimeMs: number;
  readonly reviveQid: number;
  readonly offsets: readonly bigint[];
}

export type AckBatchResult =
  /** `expired`: the offsets past their deadline, already acked or changed, or never popped (nothing done). */
  | { readonly status: 'ok'; readonly expired: readonly bigint[] }
  | { readonly status: 'refused'; readonly code: number; readonly remark: string };

export type ChangeResult =
  | { readonly status: 'ok'; readonly handle: string; readonly popTimeMs: number; readonly invisibleTimeMs: number }
  | { readonly status: 'expired' }
  | { readonly status: 'refused'; readonly code: number; readonly remark: string };

export interface PopService {
  pop(req: PopRequest, signal?: AbortSignal): Promise<PopResult>;
  ack(group: string, topic: string, handle: string): Promise<AckResult>;
  /** Acks offsets of one check point with one revive-log record; the others are acked even if some expired. */
  ackBatch(batch: AckBatch): Promise<AckBatchResult>;
  /**
   * Acks receipt handles of one group and topic: those of one check point together (one revive-log record), a
   * result per handle in the given order.
   */
  ackHandles(group: string, topic: string, handles: readonly string[]): Promise<AckResult[]>;
  changeInvisible(group: string, topic: string, handle: string, invisibleTimeMs: number): Promise<ChangeResult>;
  /** Runtime figures for GET_BROKER_RUNTIME_INFO (check points, messages in flight, revived, dead-lettered, …). */
  stats?(): Record<string, number>;
}

/** RocketMQ's limit on one pop (PopMessageProcessor refuses more with INVALID_PARAMETER). */
export const popMessagesMax = 32;
/** Shortest invisible time accepted (RocketMQ's proxy demands 10 s; the issue asks for 1 s). */
export const invisibleTimeMsMin = 1000;
/** reviveQid of FIFO (order) check points: they live in memory and never revive through the retry topic. */
export const orderReviveQid = 999;
