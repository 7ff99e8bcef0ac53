/**
 * Trace records in RocketMQ's text format (TraceDataEncoder), so Java clients' traces and ours read alike.
 * A record is fields joined by \x01 and ended by \x02; a trace message body is records back to back:
 *   Pub            type,timeStamp,regionId,groupName,topic,msgId,tags,keys,storeHost,bodyLength,costTime,msgType,
 *                  offsetMsgId,success[,clientHost]
 *   SubBefore      type,timeStamp,regionId,groupName,requestId,msgId,retryTimes,keys[,clientHost]
 *   SubAfter       type,requestId,msgId,costTime,success,keys[,contextCode[,timeStamp,groupName]]
 *   EndTransaction type,timeStamp,regionId,groupName,topic,msgId,tags,keys,storeHost,msgType,transactionId,
 *                  transactionState,fromTransactionCheck
 * Java writes an absent tag or key as the text `null`; we write and read it the same way, so a record whose last
 * field is keys never ends with an empty field (Java's split would drop it and its decoder would fail).
 */

import { nameSeparator, propertySeparator } from '../../common/properties.js';

/** RocketMQ's TraceConstants CONTENT_SPLITOR and FIELD_SPLITOR: the same characters as in properties. */
export const traceFieldSeparator = nameSeparator;
export const traceRecordSeparator = propertySeparator;
/** How Java spells an absent string field. */
const absent = 'null';

export const TraceType = {
  Pub: 'Pub',
  SubBefore: 'SubBefore',
  SubAfter: 'SubAfter',
  EndTransaction: 'EndTransaction',
} as const;
export type TraceType = (typeof TraceType)[keyof typeof TraceType];

/** RocketMQ's MessageType, written as its ordinal. */
export const TraceMsgType = { normal: 0, transHalf: 1, transCommit: 2, delay: 3 } as const;
export type TraceMsgType = (typeof TraceMsgType)[keyof typeof TraceMsgType];

/** RocketMQ's ConsumeReturnType, written as its ordinal (SubAfter contextCode). */
export const ConsumeContextCode = { SUCCESS: 0, TIME_OUT: 1, EXCEPTION: 2, RETURNNULL: 3, FAILED: 4 } as const;
export type ConsumeContextCode = (typeof ConsumeContextCode)[keyof typeof ConsumeContextCode];

/** RocketMQ's LocalTransactionState names. */
export const TraceTransactionState = {
  COMMIT_MESSAGE: 'COMMIT_MESSAGE',
  ROLLBACK_MESSAGE: 'ROLLBACK_MESSAGE',
  UNKNOW: 'UNKNOW',
} as const;
export type TraceTransactionState = (typeof TraceTransactionState)[keyof typeof TraceTransactionState];

export interface PubRecord {
  type: typeof TraceType.Pub;
  timestampMs: number;
  regionId: string;
  groupName: string;
  topic: string;
  msgId: string;
  tags: string | undefined;
  keys: string | undefined;
  storeHost: string;
  bodyLength: number;
  costMs: number;
  msgType: number;
  offsetMsgId: string;
  success: boolean;
  clientHost?: string | undefined;
}

export interface SubBeforeRecord {
  type: typeof TraceType.SubBefore;
  timestampMs: number;
  regionId: string;
  groupName: string;
  requestId: string;
  msgId: string;
  retryTimes: number;
  keys: string | undefined;
  clientHost?: string | undefined;
}

export interface SubAfterRecord {
  type: typeof TraceType.SubAfter;
  requestId: string;
  msgId: string;
  costMs: number;
  success: boolean;
  keys: string | undefined;
  contextCode?: number | undefined;
  timestampMs?: number | undefined;
  groupName?: string | undefined;
}

export interface EndTransactionRecord {
  type: typeof TraceType.EndTransaction;
  timestampMs: number;
  regionId: string;
  groupName: string;
  topic: string;
  msgId: string;
  tags: string | undefined;
  keys: string | undefined;
  storeHost: string;
  msgType: number;
  transactionId: string;
  transactionState: string;
  fromTransactionCheck: boolean;
}

export type TraceRecord = PubRecord | SubBeforeRecord | SubAfterRecord | EndTransactionRecord;

const text = (s: string | undefined): string => (s === undefined || s === '' ? absent : s);
const optional = (s: string | undefined): string | undefined => (s === undefined || s === absent ? undefined : s);

/** One record, terminator included. */
export function encodeTraceRecord(r: TraceRecord): string {
  let fields: Array<string | number | boolean>;
  switch (r.type) {
    case TraceType.Pub:
      fields = [
        r.type,
        r.timestampMs,
        r.regionId,
        r.groupName,
        r.topic,
        r.msgId,
        text(r.tags),
        text(r.keys),
        r.storeHost,
        r.bodyLength,
        r.costMs,
        r.msgType,
        r.offsetMsgId,
        r.success,
      ];
      if (r.clientHost !== undefined) fields.push(r.clientHost);
      break;
    case TraceType.SubBefore:
      fields = [r.type, r.timestampMs, r.regionId, r.groupName, r.requestId, r.msgId, r.retryTimes, text(r.keys)];
      if (r.clientHost !== undefined) fields.push(r.clientHost);
      break;
    case TraceType.SubAfter:
      fields = [r.type, r.requestId, r.msgId, r.costMs, r.success, text(r.keys), r.contextCode ?? 0];
      if (r.timestampMs !== undefined) fields.push(r.timestampMs, r.groupName ?? '');
      break;
    case TraceType.EndTransaction:
      fields = [
        r.type,
        r.timestampMs,
        r.regionId,
        r.groupName,
        r.topic,
        r.msgId,
        text(r.tags),
        text(r.keys),
        r.storeHost,
        r.msgType,
        r.transactionId,
        r.transactionState,
        r.fromTransactionCheck,
      ];
      break;
  }
  return fields.join(traceFieldSeparator) + traceRecordSeparator;
}

/** The keys a trace message carries so QUERY_MESSAGE by key finds it: each record's msgId and its keys. */
export function traceKeysOf(r: TraceRecord): string[] {
  return r.keys === undefined || r.keys === '' ? [r.msgId] : [r.msgId, r.keys];
}

/** What a trace body held that is not a record we know (an unknown type, too few or malformed fields). */
export interface TraceDecodeResult {
  records: TraceRecord[];
  /** Pieces skipped, verbatim (for the caller to report). */
  skipped: string[];
}

/** Every record of a trace message body; malformed pieces are skipped and returned, never thrown. */
export function decodeTraceData(data: string): TraceDecodeResult {
  const records: TraceRecord[] = [];
  const skipped: string[] = [];
  for (const piece of data.split(traceRecordSeparator)) {
    if (piece === '') continue;
    const r = decodeRecord(piece.split(traceFieldSeparator));
    if (r === undefined) skipped.push(piece);
    else records.push(r);
  }
  return { records, skipped };
}

function int(s: string | undefined): number | undefined {
  if (s === undefined || !/^-?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Java's Boolean.parseBoolean: true only for "true", any case. */
const bool = (s: string | undefined): boolean => s?.toLowerCase() === 'true';

function decodeRecord(f: string[]): TraceRecord | undefined {
  const at = (i: number) => f[i] as string;
  switch (f[0]) {
    case TraceType.Pub: {
      const timestampMs = int(f[1]);
      const bodyLength = int(f[9]);
      const costMs = int(f[10]);
      const msgType = int(f[11]);
      if (f.length < 13 || timestampMs === undefined || bodyLength === undefined || costMs === undefined) return;
      if (msgType === undefined) return;
      // 13 fields: an old writer without offsetMsgId.
      const old = f.length === 13;
      return {
        type: TraceType.Pub,
        timestampMs,
        regionId: at(2),
        groupName: at(3),
        topic: at(4),
        msgId: at(5),
        tags: optional(f[6]),
        keys: optional(f[7]),
        storeHost: at(8),
        bodyLength,
        costMs,
        msgType,
        offsetMsgId: old ? '' : at(12),
        success: bool(old ? f[12] : f[13]),
        clientHost: f[14],
      };
    }
    case TraceType.SubBefore: {
      const timestampMs = int(f[1]);
      const retryTimes = int(f[6]);
      if (f.length < 7 || timestampMs === undefined || retryTimes === undefined) return;
      return {
        type: TraceType.SubBefore,
        timestampMs,
        regionId: at(2),
        groupName: at(3),
        requestId: at(4),
        msgId: at(5),
        retryTimes,
        keys: optional(f[7]),
        clientHost: f[8],
      };
    }
    case TraceType.SubAfter: {
      const costMs = int(f[3]);
      if (f.length < 5 || costMs === undefined) return;
      const contextCode = int(f[6]);
      const timestampMs = int(f[7]);
      if ((f.length >= 7 && contextCode === undefined) || (f.length >= 8 && timestampMs === undefined)) return;
      return {
        type: TraceType.SubAfter,
        requestId: at(1),
        msgId: at(2),
        costMs,
        success: bool(f[4]),
        keys: optional(f[5]),
        contextCode,
        timestampMs,
        groupName: f[8],
      };
    }
    case TraceType.EndTransaction: {
      const timestampMs = int(f[1]);
      const msgType = int(f[9]);
      if (f.length < 13 || timestampMs === undefined || msgType === undefined) return;
      return {
        type: TraceType.EndTransaction,
        timestampMs,
        regionId: at(2),
        groupName: at(3),
        topic: at(4),
        msgId: at(5),
        tags: optional(f[6]),
        keys: optional(f[7]),
        storeHost: at(8),
        msgType,
        transactionId: at(10),
        transactionState: at(11),
        fromTransactionCheck: bool(f[12]),
      };
    }
    default:
      return undefined;
  }
}
