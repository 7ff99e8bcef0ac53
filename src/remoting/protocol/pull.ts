/**
 * PULL_MESSAGE (11): request and response headers, shared by the broker's pull processor, the consumers and the
 * admin API.
 *
 * PullMessageRequestHeader (* = required by RocketMQ 4.9.8):
 *   consumerGroup        String  *
 *   topic                String  *
 *   queueId              Integer *
 *   queueOffset          Long    *
 *   maxMsgNums           Integer *  we default to 32
 *   sysFlag              Integer *  PullSysFlag bits; we default to 0
 *   commitOffset         Long    *  we default to 0
 *   suspendTimeoutMillis Long    *  we default to 15000
 *   subscription         String     tag expression when sysFlag has the subscription bit
 *   subVersion           Long    *  the subscription's version: the broker answers 25 / 28 when its own is older
 *   expressionType       String     TAG (default) or SQL92
 *
 * PullMessageResponseHeader: suggestWhichBrokerId Long *, nextBeginOffset Long *, minOffset Long *,
 * maxOffset Long *.
 */
import type { RemotingCommand } from '../command.js';
import { optionalInt, optionalLong, optionalString, requireInt, requireLong, requireString } from '../fields.js';

export const suspendMsDefault = 15_000;
export const maxMsgNumsDefault = 32;

export interface PullMessageRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  queueOffset: bigint;
  maxMsgNums: number;
  sysFlag: number;
  commitOffset: bigint;
  suspendTimeoutMillis: number;
  subscription?: string | undefined;
  subVersion?: number | bigint | undefined;
  expressionType?: string | undefined;
}

/** extFields in RocketMQ's field order; absent optional fields are left out. */
export function encodePullHeader(h: PullMessageRequestHeader): Record<string, string> {
  const out: Record<string, string> = {
    consumerGroup: h.consumerGroup,
    topic: h.topic,
    queueId: String(h.queueId),
    queueOffset: String(h.queueOffset),
    maxMsgNums: String(h.maxMsgNums),
    sysFlag: String(h.sysFlag),
    commitOffset: String(h.commitOffset),
    suspendTimeoutMillis: String(h.suspendTimeoutMillis),
  };
  if (h.subscription !== undefined) out['subscription'] = h.subscription;
  if (h.subVersion !== undefined) out['subVersion'] = String(h.subVersion);
  if (h.expressionType !== undefined) out['expressionType'] = h.expressionType;
  return out;
}

/** Throws HeaderFieldError naming a missing or malformed field. */
export function decodePullHeader(req: RemotingCommand): PullMessageRequestHeader {
  return {
    consumerGroup: requireString(req, 'consumerGroup'),
    topic: requireString(req, 'topic'),
    queueId: requireInt(req, 'queueId'),
    queueOffset: requireLong(req, 'queueOffset'),
    maxMsgNums: optionalInt(req, 'maxMsgNums') ?? maxMsgNumsDefault,
    sysFlag: optionalInt(req, 'sysFlag') ?? 0,
    commitOffset: optionalLong(req, 'commitOffset') ?? 0n,
    suspendTimeoutMillis: Number(optionalLong(req, 'suspendTimeoutMillis') ?? BigInt(suspendMsDefault)),
    subscription: optionalString(req, 'subscription'),
    subVersion: optionalSubVersion(req),
    expressionType: optionalString(req, 'expressionType'),
  };
}

/** subVersion as a number (a millisecond time in every client); left out when absent. */
function optionalSubVersion(req: RemotingCommand): number | undefined {
  const v = optionalLong(req, 'subVersion');
  return v === undefined ? undefined : Number(v);
}

export interface PullMessageResponseHeader {
  nextBeginOffset: bigint;
  minOffset: bigint;
  maxOffset: bigint;
  suggestWhichBrokerId: number;
}

export function encodePullResponseHeader(h: PullMessageResponseHeader): Record<string, string> {
  return {
    nextBeginOffset: String(h.nextBeginOffset),
    minOffset: String(h.minOffset),
    maxOffset: String(h.maxOffset),
    suggestWhichBrokerId: String(h.suggestWhichBrokerId),
  };
}

/** Fields a response leaves out are undefined (the caller picks fallbacks). */
export function decodePullResponseHeader(resp: RemotingCommand): Partial<PullMessageResponseHeader> {
  const suggest = optionalLong(resp, 'suggestWhichBrokerId');
  return {
    nextBeginOffset: optionalLong(resp, 'nextBeginOffset'),
    minOffset: optionalLong(resp, 'minOffset'),
    maxOffset: optionalLong(resp, 'maxOffset'),
    suggestWhichBrokerId: suggest === undefined ? undefined : Number(suggest),
  };
}
