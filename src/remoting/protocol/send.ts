/**
 * SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320): the request header in its long (V1) and
 * one-letter (V2) spellings, and the response header. Shared by the broker's send processor, the client and
 * the admin API.
 *
 * SendMessageRequestHeader (V2 letter in brackets; * = required by RocketMQ 4.9.8):
 *   producerGroup       String   * (a)
 *   topic               String   * (b)
 *   defaultTopic        String   * (c)   we default a missing one to TBW102
 *   defaultTopicQueueNums Integer * (d)  we default to 4
 *   queueId             Integer  * (e)   -1 lets the broker pick
 *   sysFlag             Integer  * (f)   we default to 0
 *   bornTimestamp       Long     * (g)   we default to now
 *   flag                Integer  * (h)   we default to 0
 *   properties          String     (i)   `k\u0001v\u0002…`; the text "null" reads as empty
 *   reconsumeTimes      Integer    (j)
 *   unitMode            boolean    (k)
 *   maxReconsumeTimes   Integer    (l)
 *   batch               boolean    (m)
 *   brokerName          String     (n)   5.x; written, not read
 *
 * SendMessageResponseHeader:
 *   msgId String * (offsetMsgId; comma-separated for a batch), queueId Integer *, queueOffset Long *,
 *   transactionId String; our broker adds MSG_REGION and TRACE_ON as RocketMQ's does, and, to the answer of a
 *   batch whose members it stored in different queues (delayed, timer or half members: send-split-batch.ts),
 *   memberQueues String = each member's `queueId:queueOffset`, comma-separated in batch order (tsrocket only).
 */
import { Prop } from '../../common/properties.js';
import { SystemTopic } from '../../common/topics.js';
import type { RemotingCommand } from '../command.js';
import { optionalBool, optionalInt, optionalLong, optionalString, requireInt, requireString } from '../fields.js';

export const defaultTopicQueueNumsDefault = 4;

/** A send request header as the broker reads it. */
export interface SendMessageRequestHeader {
  producerGroup: string;
  topic: string;
  defaultTopic: string;
  defaultTopicQueueNums: number;
  queueId: number;
  sysFlag: number;
  bornTimestamp: bigint;
  flag: number;
  properties: string;
  reconsumeTimes: number;
  unitMode: boolean;
  maxReconsumeTimes: number | undefined;
  batch: boolean;
}

/** What a sender fills in; the fields RocketMQ's client always sends the same get their usual values. */
export interface SendMessageHeaderInput {
  producerGroup: string;
  topic: string;
  defaultTopic?: string | undefined;
  defaultTopicQueueNums?: number | undefined;
  queueId: number;
  sysFlag: number;
  bornTimestamp: number | bigint;
  flag: number;
  properties: string;
  reconsumeTimes: number;
  unitMode?: boolean | undefined;
  maxReconsumeTimes?: number | undefined;
  batch: boolean;
  brokerName?: string | undefined;
}

/** The V2 letter of each field (SendMessageRequestHeaderV2). */
export const sendHeaderV2Names = {
  producerGroup: 'a',
  topic: 'b',
  defaultTopic: 'c',
  defaultTopicQueueNums: 'd',
  queueId: 'e',
  sysFlag: 'f',
  bornTimestamp: 'g',
  flag: 'h',
  properties: 'i',
  reconsumeTimes: 'j',
  unitMode: 'k',
  maxReconsumeTimes: 'l',
  batch: 'm',
  brokerName: 'n',
} as const;

/** The V2 (one-letter) extFields, in RocketMQ's order; absent optional fields are left out. */
export function encodeSendHeaderV2(h: SendMessageHeaderInput): Record<string, string> {
  const out: Record<string, string> = {
    a: h.producerGroup,
    b: h.topic,
    c: h.defaultTopic ?? SystemTopic.autoCreate,
    d: String(h.defaultTopicQueueNums ?? defaultTopicQueueNumsDefault),
    e: String(h.queueId),
    f: String(h.sysFlag),
    g: String(h.bornTimestamp),
    h: String(h.flag),
    i: h.properties,
    j: String(h.reconsumeTimes),
    k: String(h.unitMode ?? false),
  };
  if (h.maxReconsumeTimes !== undefined) out['l'] = String(h.maxReconsumeTimes);
  out['m'] = String(h.batch);
  if (h.brokerName !== undefined) out['n'] = h.brokerName;
  return out;
}

/** The V1 (long-name) extFields. */
export function encodeSendHeader(h: SendMessageHeaderInput): Record<string, string> {
  const out: Record<string, string> = {
    producerGroup: h.producerGroup,
    topic: h.topic,
    defaultTopic: h.defaultTopic ?? SystemTopic.autoCreate,
    defaultTopicQueueNums: String(h.defaultTopicQueueNums ?? defaultTopicQueueNumsDefault),
    queueId: String(h.queueId),
    sysFlag: String(h.sysFlag),
    bornTimestamp: String(h.bornTimestamp),
    flag: String(h.flag),
    properties: h.properties,
    reconsumeTimes: String(h.reconsumeTimes),
    unitMode: String(h.unitMode ?? false),
  };
  if (h.maxReconsumeTimes !== undefined) out['maxReconsumeTimes'] = String(h.maxReconsumeTimes);
  out['batch'] = String(h.batch);
  if (h.brokerName !== undefined) out['brokerName'] = h.brokerName;
  return out;
}

type SendHeaderNames = { readonly [K in keyof typeof sendHeaderV2Names]: string };

/** The V1 spelling: each field under its own name. */
const sendHeaderV1Names: SendHeaderNames = {
  producerGroup: 'producerGroup',
  topic: 'topic',
  defaultTopic: 'defaultTopic',
  defaultTopicQueueNums: 'defaultTopicQueueNums',
  queueId: 'queueId',
  sysFlag: 'sysFlag',
  bornTimestamp: 'bornTimestamp',
  flag: 'flag',
  properties: 'properties',
  reconsumeTimes: 'reconsumeTimes',
  unitMode: 'unitMode',
  maxReconsumeTimes: 'maxReconsumeTimes',
  batch: 'batch',
  brokerName: 'brokerName',
};

/** Reads the V1 header. Throws HeaderFieldError naming a missing or malformed field. */
export function decodeSendHeader(req: RemotingCommand): SendMessageRequestHeader {
  return decodeSendHeaderNamed(req, sendHeaderV1Names);
}

/** Reads the V2 header; a bad field is named by its letter, as it appears on the wire. */
export function decodeSendHeaderV2(req: RemotingCommand): SendMessageRequestHeader {
  return decodeSendHeaderNamed(req, sendHeaderV2Names);
}

function decodeSendHeaderNamed(req: RemotingCommand, n: SendHeaderNames): SendMessageRequestHeader {
  return {
    producerGroup: requireString(req, n.producerGroup),
    topic: requireString(req, n.topic),
    defaultTopic: optionalString(req, n.defaultTopic) ?? SystemTopic.autoCreate,
    defaultTopicQueueNums: optionalInt(req, n.defaultTopicQueueNums) ?? defaultTopicQueueNumsDefault,
    queueId: requireInt(req, n.queueId),
    sysFlag: optionalInt(req, n.sysFlag) ?? 0,
    bornTimestamp: optionalLong(req, n.bornTimestamp) ?? BigInt(Date.now()),
    flag: optionalInt(req, n.flag) ?? 0,
    properties: nullToEmpty(optionalString(req, n.properties)),
    reconsumeTimes: optionalInt(req, n.reconsumeTimes) ?? 0,
    unitMode: optionalBool(req, n.unitMode) ?? false,
    maxReconsumeTimes: optionalInt(req, n.maxReconsumeTimes),
    batch: optionalBool(req, n.batch) ?? false,
  };
}

/** SEND_BATCH_MESSAGE comes in either spelling: V2 when it has `b` and no `topic`. */
export function isSendHeaderV2(req: RemotingCommand): boolean {
  return req.extFields?.['b'] !== undefined && req.extFields['topic'] === undefined;
}

function nullToEmpty(s: string | undefined): string {
  return s === undefined || s === 'null' ? '' : s;
}

export interface SendMessageResponseHeader {
  /** offsetMsgId(s) the broker assigned (comma-separated for a batch). */
  msgId: string;
  queueId: number;
  queueOffset: bigint;
  transactionId?: string | undefined;
  /** The broker's regionId and traceOn, written as MSG_REGION and TRACE_ON (RocketMQ's property names). */
  msgRegion?: string | undefined;
  traceOn?: boolean | undefined;
  /** Each member's `queueId:queueOffset` (memberQueuesField); a split batch's answer only. */
  memberQueues?: string | undefined;
}

export function encodeSendResponseHeader(h: SendMessageResponseHeader): Record<string, string> {
  const out: Record<string, string> = {
    msgId: h.msgId,
    queueId: String(h.queueId),
    queueOffset: String(h.queueOffset),
  };
  if (h.transactionId !== undefined) out['transactionId'] = h.transactionId;
  if (h.msgRegion !== undefined) out[Prop.msgRegion] = h.msgRegion;
  if (h.traceOn !== undefined) out[Prop.traceSwitch] = String(h.traceOn);
  if (h.memberQueues !== undefined) out[memberQueuesField] = h.memberQueues;
  return out;
}

/** The response field naming each member's queue and offset (tsrocket's broker, split batches only). */
export const memberQueuesField = 'memberQueues';

export function memberQueuesText(queueIds: readonly number[], queueOffsets: readonly bigint[]): string {
  let out = '';
  for (let i = 0; i < queueIds.length; i++) out += `${i === 0 ? '' : ','}${queueIds[i]}:${queueOffsets[i]}`;
  return out;
}

/** Each member's queue and offset, or undefined when the text is absent or malformed (not `decode…`: the wire
 * fuzzer calls every `decode*` export of this folder with a command). */
export function parseMemberQueues(
  text: string | undefined,
): { queueIds: number[]; queueOffsets: bigint[] } | undefined {
  if (text === undefined || text === '') return undefined;
  const queueIds: number[] = [];
  const queueOffsets: bigint[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d{1,9}):(-?\d{1,19})$/.exec(part);
    if (m === null) return undefined;
    queueIds.push(Number(m[1]));
    queueOffsets.push(BigInt(m[2] as string));
  }
  return { queueIds, queueOffsets };
}

/** Reads what a response carries; fields a failed send leaves out are undefined (the caller picks fallbacks). */
export function decodeSendResponseHeader(resp: RemotingCommand): Partial<SendMessageResponseHeader> {
  return {
    msgId: optionalString(resp, 'msgId'),
    queueId: optionalInt(resp, 'queueId'),
    queueOffset: optionalLong(resp, 'queueOffset'),
    transactionId: optionalString(resp, 'transactionId'),
    msgRegion: optionalString(resp, Prop.msgRegion),
    traceOn: optionalBool(resp, Prop.traceSwitch),
    memberQueues: optionalString(resp, memberQueuesField),
  };
}
