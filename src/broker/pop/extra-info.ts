/**
 * RocketMQ's POP extraInfo (ExtraInfoUtil), the POP_CK property of a popped message:
 * `ckQueueOffset popTime invisibleTime reviveQid retry brokerName queueId queueOffset` (retry 1 = the group's POP
 * retry topic). A receipt handle is that plus ' ' + commitLogOffset (the proxy's ReceiptHandle). The info headers
 * of a POP answer list per queue `retry queueId startOffset` and `retry queueId o1,o2`, ';' between queues.
 */
import { keySeparator } from '../../common/properties.js';
import type { PoppedQueue } from './types.js';

export interface ExtraInfo {
  readonly ckOffset: bigint;
  readonly popTimeMs: number;
  readonly invisibleTimeMs: number;
  readonly reviveQid: number;
  readonly retry: boolean;
  readonly brokerName: string;
  readonly queueId: number;
  readonly queueOffset: bigint;
  /** Present in a receipt handle (9 fields), absent in a bare POP_CK (8). */
  readonly commitLogOffset?: bigint | undefined;
}

export function buildExtraInfo(e: ExtraInfo): string {
  return [
    e.ckOffset,
    e.popTimeMs,
    e.invisibleTimeMs,
    e.reviveQid,
    e.retry ? '1' : '0',
    e.brokerName,
    e.queueId,
    e.queueOffset,
  ].join(keySeparator);
}

export function buildHandle(e: ExtraInfo & { readonly commitLogOffset: bigint }): string {
  return buildExtraInfo(e) + keySeparator + e.commitLogOffset;
}

const longPattern = /^-?\d{1,19}$/;
const intPattern = /^-?\d{1,10}$/;

/** The fields of a POP_CK or receipt handle, or why it is not one (a clear refusal for the caller). */
export function parseExtraInfo(text: string): ExtraInfo | string {
  const f = text.trim().split(keySeparator);
  if (f.length !== 8 && f.length !== 9) {
    return `malformed extraInfo/receipt handle: ${f.length} fields, expected 8 or 9 ("ckOffset popTime invisibleTime reviveQid retry brokerName queueId queueOffset [commitLogOffset]")`;
  }
  const [ck, pt, it, rq, retry, bn, q, qo, clo] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  for (const [name, v, p] of [
    ['ckOffset', ck, longPattern],
    ['popTime', pt, longPattern],
    ['invisibleTime', it, longPattern],
    ['reviveQid', rq, intPattern],
    ['queueId', q, intPattern],
    ['queueOffset', qo, longPattern],
  ] as const) {
    if (!p.test(v)) return `malformed extraInfo/receipt handle: ${name} ${JSON.stringify(v)} is not a number`;
  }
  if (retry !== '0' && retry !== '1')
    return `malformed extraInfo/receipt handle: retry flag ${JSON.stringify(retry)} is not 0 or 1`;
  if (clo !== undefined && !longPattern.test(clo)) {
    return `malformed receipt handle: commitLogOffset ${JSON.stringify(clo)} is not a number`;
  }
  return {
    ckOffset: BigInt(ck),
    popTimeMs: Number(pt),
    invisibleTimeMs: Number(it),
    reviveQid: Number(rq),
    retry: retry === '1',
    brokerName: bn,
    queueId: Number(q),
    queueOffset: BigInt(qo),
    commitLogOffset: clo === undefined ? undefined : BigInt(clo),
  };
}

/** startOffsetInfo: `retry queueId startOffset;…` */
export function startOffsetInfoOf(queues: readonly PoppedQueue[]): string {
  return queues.map((q) => [q.retry ? 1 : 0, q.queueId, q.startOffset].join(keySeparator)).join(';');
}

/** msgOffsetInfo: `retry queueId o1,o2;…` */
export function msgOffsetInfoOf(queues: readonly PoppedQueue[]): string {
  return queues.map((q) => [q.retry ? 1 : 0, q.queueId, q.msgOffsets.join(',')].join(keySeparator)).join(';');
}

/** orderCountInfo (FIFO only): `retry queueId count;…` */
export function orderCountInfoOf(queues: readonly PoppedQueue[]): string {
  return queues.map((q) => [q.retry ? 1 : 0, q.queueId, q.orderCount].join(keySeparator)).join(';');
}
