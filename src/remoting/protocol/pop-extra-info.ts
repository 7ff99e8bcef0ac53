/**
 * POP's extra info strings (RocketMQ's ExtraInfoUtil), written by the broker or the client and read by both.
 *
 * POP_CK of a popped message (what ACK and CHANGE_MESSAGE_INVISIBLETIME carry as extraInfo), fields split by ' ':
 *   ckOffset popTime invisibleTime reviveQid retry brokerName queueId queueOffset
 * where retry is 0 (the topic itself), 1 (`%RETRY%<group>_<topic>`) or 2 (`%RETRY%<group>+<topic>`) and ckOffset
 * is the first queue offset of the pop's checkpoint on that queue.
 *
 * The POP response's info lists, entries split by ';', fields by ' ':
 *   startOffsetInfo  `retry queueId startOffset`
 *   msgOffsetInfo    `retry queueId o1,o2,…`
 *   orderCountInfo   `retry queueId count` or `retry qo<queueId>%<queueOffset> count` (FIFO delivery counts)
 */
import { isPopRetryTopicV2, isRetryTopic, popRetryTopicOf, popRetryTopicV2Of } from '../../common/topics.js';

export const PopRetryMark = { none: '0', v1: '1', v2: '2' } as const;
export type PopRetryMark = (typeof PopRetryMark)[keyof typeof PopRetryMark];

/** The revive queue of FIFO pops (RocketMQ's KeyBuilder.POP_ORDER_REVIVE_QUEUE). */
export const popOrderReviveQid = 999;

const fieldSeparator = ' ';
const entrySeparator = ';';

export interface PopExtraInfo {
  ckOffset: bigint;
  popTimeMs: number;
  invisibleTimeMs: number;
  reviveQid: number;
  retry: PopRetryMark;
  brokerName: string;
  queueId: number;
  queueOffset: bigint;
}

/** The retry mark of the topic a message was popped from. */
export function retryMarkOf(topic: string): PopRetryMark {
  if (isPopRetryTopicV2(topic)) return PopRetryMark.v2;
  return isRetryTopic(topic) ? PopRetryMark.v1 : PopRetryMark.none;
}

/** The topic an ACK or CHANGE names: the POP retry topic for a revived message (ExtraInfoUtil.getRealTopic). */
export function realTopicOf(retry: PopRetryMark, topic: string, group: string): string {
  if (retry === PopRetryMark.v1) return popRetryTopicOf(group, topic);
  if (retry === PopRetryMark.v2) return popRetryTopicV2Of(group, topic);
  return topic;
}

export function encodeExtraInfo(e: PopExtraInfo): string {
  return [
    e.ckOffset,
    e.popTimeMs,
    e.invisibleTimeMs,
    e.reviveQid,
    e.retry,
    e.brokerName,
    e.queueId,
    e.queueOffset,
  ].join(fieldSeparator);
}

const longPattern = /^-?\d{1,19}$/;
const intPattern = /^-?\d{1,10}$/;

/** Reads a POP_CK string; a string answer says what is wrong with it. */
export function parseExtraInfo(text: string): PopExtraInfo | string {
  if (typeof text !== 'string') return 'extra info is not a string';
  const f = text.split(fieldSeparator);
  if (f.length < 8) return `extra info has ${f.length} fields, not 8: '${text}'`;
  const [ck, pt, it, rq, retry, brokerName, qid, qo] = f as [string, ...string[]];
  for (const [name, v, pattern] of [
    ['ckOffset', ck, longPattern],
    ['popTime', pt, longPattern],
    ['invisibleTime', it, longPattern],
    ['reviveQid', rq, intPattern],
    ['queueId', qid, intPattern],
    ['queueOffset', qo, longPattern],
  ] as const) {
    if (v === undefined || !pattern.test(v)) return `extra info field ${name} is not an integer: '${String(v)}'`;
  }
  if (retry !== PopRetryMark.none && retry !== PopRetryMark.v1 && retry !== PopRetryMark.v2) {
    return `extra info retry mark is not 0, 1 or 2: '${String(retry)}'`;
  }
  if (brokerName === undefined || brokerName === '') return 'extra info names no broker';
  return {
    ckOffset: BigInt(ck),
    popTimeMs: Number(pt),
    invisibleTimeMs: Number(it),
    reviveQid: Number(rq),
    retry,
    brokerName,
    queueId: Number(qid),
    queueOffset: BigInt(qo as string),
  };
}

/** Key of an info-list entry: `<retry>@<queueId>` (or `<retry>@qo<queueId>%<queueOffset>`). */
export function infoKey(retry: PopRetryMark, queueId: number, queueOffset?: bigint): string {
  return queueOffset === undefined ? `${retry}@${queueId}` : `${retry}@qo${queueId}%${queueOffset}`;
}

/** Splits an info list into key → value text; a string answer says what is wrong. Absent or empty → empty map. */
export function parseInfoList(text: string | undefined): Map<string, string> | string {
  const out = new Map<string, string>();
  if (text === undefined || text === '') return out;
  for (const entry of text.split(entrySeparator)) {
    const f = entry.split(fieldSeparator);
    if (f.length !== 3) return `info entry '${entry}' does not have 3 fields`;
    const key = `${f[0]}@${f[1]}`;
    if (out.has(key)) return `info entry ${key} is listed twice`;
    out.set(key, f[2] as string);
  }
  return out;
}
