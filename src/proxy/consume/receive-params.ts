/**
 * A ReceiveMessageRequest checked and turned into what a pop needs (RocketMQ 5.3.3's ReceiveMessageActivity):
 * group and topic names, the filter, the batch size, the invisible time (or the auto-renew slice) and how long to
 * poll within the call's deadline. A bad field is answered with its apache.rocketmq.v2.Code, never thrown.
 */

import { compiledSql92 } from '../../broker/filter/sql92-filter.js';
import { isSystemTopic } from '../../common/topics.js';
import { checkGroupName, checkTopicName } from '../../common/validate.js';
import { Code, type Status, status } from '../proto.js';
import { msOfDuration, type ProtoResource, type ReceiveMessageRequest } from './requests.js';

export const ReceiveLimits = {
  /** Shortest long poll (RocketMQ's proxy: 5 s; tsrocket takes 1 s). */
  pollTimeMsMin: 1000,
  /** Longest long poll (RocketMQ's grpcClientConsumerMaxLongPollingTimeoutMillis). */
  pollTimeMsMax: 20_000,
  /** Kept between the end of the poll and the call's deadline, so the answer is written before it. */
  pollReserveMs: 500,
  /** Shortest invisible time asked for (RocketMQ's proxy demands 10 s; tsrocket takes 1 s). */
  invisibleTimeMsMin: 1000,
  /** Longest invisible time (RocketMQ's maxInvisibleTimeMills). */
  invisibleTimeMsMax: 12 * 3600 * 1000,
  /** Most messages one pop returns (the broker refuses more). */
  batchSizeMax: 32,
} as const;

export const FilterKind = { tag: 'TAG', sql92: 'SQL92' } as const;

export interface ReceiveParams {
  readonly group: string;
  readonly topic: string;
  readonly brokerName: string;
  readonly filter: { readonly type: 'TAG' | 'SQL92'; readonly expression: string };
  readonly maxMessages: number;
  /** Undefined with auto_renew: the endpoint picks the slice and renews it. */
  readonly invisibleTimeMs: number | undefined;
  readonly autoRenew: boolean;
  readonly pollTimeMs: number;
  readonly attemptId: string | undefined;
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly status: Status };

function refused<T>(code: Code, message: string): Checked<T> {
  return { ok: false, status: status(code, message) };
}

/** A topic a consumer may name: present, well-formed and not a system topic. */
export function checkedTopic(res: ProtoResource | null | undefined): Checked<string> {
  const name = res?.name ?? '';
  if (name === '') return refused(Code.ILLEGAL_TOPIC, 'topic name cannot be blank');
  const bad = checkTopicName(name);
  if (bad !== undefined) return refused(Code.ILLEGAL_TOPIC, bad);
  if (isSystemTopic(name)) return refused(Code.ILLEGAL_TOPIC, `cannot access system topic ${name}`);
  return { ok: true, value: name };
}

export function checkedGroup(res: ProtoResource | null | undefined): Checked<string> {
  const name = res?.name ?? '';
  if (name === '') return refused(Code.ILLEGAL_CONSUMER_GROUP, 'consumer group name cannot be blank');
  const bad = checkGroupName(name);
  if (bad !== undefined) return refused(Code.ILLEGAL_CONSUMER_GROUP, bad);
  return { ok: true, value: name };
}

/** An invisible time asked for by a client (receive without auto-renew, change invisible duration). */
export function checkedInvisibleTime(ms: number | undefined): Checked<number> {
  if (ms === undefined) return refused(Code.ILLEGAL_INVISIBLE_TIME, 'invisible duration is missing');
  if (ms < ReceiveLimits.invisibleTimeMsMin || ms > ReceiveLimits.invisibleTimeMsMax) {
    return refused(
      Code.ILLEGAL_INVISIBLE_TIME,
      `invisible duration ${ms} ms is outside [${ReceiveLimits.invisibleTimeMsMin}, ${ReceiveLimits.invisibleTimeMsMax}] ms`,
    );
  }
  return { ok: true, value: ms };
}

function checkedFilter(
  f: ReceiveMessageRequest['filterExpression'],
): Checked<{ type: 'TAG' | 'SQL92'; expression: string }> {
  const type = f?.type ?? 'FILTER_TYPE_UNSPECIFIED';
  const expression = (f?.expression ?? '').trim();
  if (type === 'SQL') {
    if (expression === '') return refused(Code.ILLEGAL_FILTER_EXPRESSION, 'SQL filter expression is empty');
    const c = compiledSql92(expression);
    if (!c.ok) return refused(Code.ILLEGAL_FILTER_EXPRESSION, `SQL filter expression: ${c.error.message}`);
    return { ok: true, value: { type: FilterKind.sql92, expression } };
  }
  if (type !== 'TAG' && type !== 'FILTER_TYPE_UNSPECIFIED') {
    return refused(Code.ILLEGAL_FILTER_EXPRESSION, `unknown filter type ${String(type)}`);
  }
  return { ok: true, value: { type: FilterKind.tag, expression: expression === '' ? '*' : expression } };
}

/**
 * How long to hold the poll: the request's long_polling_timeout (or the most the deadline allows), within
 * [pollTimeMsMin, pollTimeMsMax], ending pollReserveMs before the deadline; a deadline too close for the shortest
 * poll is ILLEGAL_POLLING_TIME, as RocketMQ answers.
 */
export function pollTimeOf(requestedMs: number | undefined, remainingMs: number): Checked<number> {
  const { pollTimeMsMin, pollTimeMsMax, pollReserveMs } = ReceiveLimits;
  const room = remainingMs - pollReserveMs;
  let poll = requestedMs ?? room;
  poll = Math.min(Math.max(poll, pollTimeMsMin), pollTimeMsMax);
  if (poll > room) {
    if (room < pollTimeMsMin) {
      return refused(
        Code.ILLEGAL_POLLING_TIME,
        `the deadline leaves ${Math.max(0, Math.trunc(remainingMs))} ms, not enough for a poll of at least ${pollTimeMsMin} ms`,
      );
    }
    poll = room;
  }
  return { ok: true, value: Math.trunc(poll) };
}

/** `remainingMs`: time to the call's deadline (Infinity when the client set none). */
export function receiveParamsOf(req: ReceiveMessageRequest, remainingMs: number): Checked<ReceiveParams> {
  const group = checkedGroup(req.group);
  if (!group.ok) return group;
  const topic = checkedTopic(req.messageQueue?.topic);
  if (!topic.ok) return topic;
  const filter = checkedFilter(req.filterExpression);
  if (!filter.ok) return filter;
  const batch = req.batchSize ?? 0;
  if (!Number.isInteger(batch) || batch <= 0) {
    return refused(Code.BAD_REQUEST, `batch_size must be a positive integer, got ${batch}`);
  }
  const autoRenew = req.autoRenew === true;
  let invisibleTimeMs: number | undefined;
  if (!autoRenew) {
    const inv = checkedInvisibleTime(msOfDuration(req.invisibleDuration));
    if (!inv.ok) return inv;
    invisibleTimeMs = inv.value;
  }
  const poll = pollTimeOf(msOfDuration(req.longPollingTimeout), remainingMs);
  if (!poll.ok) return poll;
  return {
    ok: true,
    value: {
      group: group.value,
      topic: topic.value,
      brokerName: req.messageQueue?.broker?.name ?? '',
      filter: filter.value,
      maxMessages: Math.min(batch, ReceiveLimits.batchSizeMax),
      invisibleTimeMs,
      autoRenew,
      pollTimeMs: poll.value,
      attemptId: req.attemptId ? req.attemptId : undefined,
    },
  };
}
