/**
 * The consume RPCs' requests as @grpc/proto-loader hands them over (camelCase, int64 as strings, enums as names,
 * absent messages null). Every field is optional here: a client may leave any of them out, and the handlers
 * answer a missing one with a status instead of a TypeError.
 */

export interface ProtoResource {
  readonly resourceNamespace?: string;
  readonly name?: string;
}

export interface ProtoDuration {
  readonly seconds?: string | number;
  readonly nanos?: number;
}

export interface ProtoMessageQueue {
  readonly topic?: ProtoResource | null;
  readonly id?: number;
  readonly broker?: { readonly name?: string } | null;
}

export interface ReceiveMessageRequest {
  readonly group?: ProtoResource | null;
  readonly messageQueue?: ProtoMessageQueue | null;
  readonly filterExpression?: { readonly type?: string; readonly expression?: string } | null;
  readonly batchSize?: number;
  readonly invisibleDuration?: ProtoDuration | null;
  readonly autoRenew?: boolean;
  readonly longPollingTimeout?: ProtoDuration | null;
  readonly attemptId?: string;
}

export interface AckMessageEntry {
  readonly messageId?: string;
  readonly receiptHandle?: string;
}

export interface AckMessageRequest {
  readonly group?: ProtoResource | null;
  readonly topic?: ProtoResource | null;
  readonly entries?: readonly AckMessageEntry[];
}

export interface ChangeInvisibleDurationRequest {
  readonly group?: ProtoResource | null;
  readonly topic?: ProtoResource | null;
  readonly receiptHandle?: string;
  readonly invisibleDuration?: ProtoDuration | null;
  readonly messageId?: string;
}

export interface ForwardMessageToDeadLetterQueueRequest {
  readonly group?: ProtoResource | null;
  readonly topic?: ProtoResource | null;
  readonly receiptHandle?: string;
  readonly messageId?: string;
  readonly deliveryAttempt?: number;
  readonly maxDeliveryAttempts?: number;
}

export interface QueryAssignmentRequest {
  readonly topic?: ProtoResource | null;
  readonly group?: ProtoResource | null;
}

/** Milliseconds of a Duration; undefined when absent or not a finite non-negative value. */
export function msOfDuration(d: ProtoDuration | null | undefined): number | undefined {
  if (d === null || d === undefined) return undefined;
  const seconds = Number(d.seconds ?? 0);
  const nanos = Number(d.nanos ?? 0);
  const ms = seconds * 1000 + Math.trunc(nanos / 1_000_000);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
