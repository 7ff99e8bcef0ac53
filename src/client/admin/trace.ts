/**
 * queryMsgTraceById (mqadmin's QueryMsgTraceByIdSubCommand): finds the trace messages whose keys hold a msgId,
 * decodes their records (ours and the Java client's alike) and builds the message's timeline: sent, stored,
 * consumed by which group and client, how long each step took.
 */
import { inflateSync } from 'node:zlib';
import { type MessageExt, SysFlag } from '../../common/message.js';
import { SystemTopic } from '../../common/topics.js';
import {
  decodeTraceData,
  type EndTransactionRecord,
  type PubRecord,
  type SubAfterRecord,
  type SubBeforeRecord,
  TraceType,
} from '../trace/trace-data.js';
import { queryMessages } from './messages.js';
import type { AdminRpc } from './rpc.js';

/** A trace body may not inflate past this (trace messages are at most 128 KiB before compression). */
export const traceBodyInflatedBytesMax = 4 * 1024 * 1024;
/** Trace messages read per broker at most (mqadmin asks for 64). */
export const traceMessagesMax = 64;

export interface TraceSend {
  producerGroup: string;
  clientHost: string | undefined;
  storeHost: string;
  topic: string;
  tags: string | undefined;
  keys: string | undefined;
  offsetMsgId: string;
  bodyLength: number;
  /** MessageType ordinal: 0 normal, 1 half (transactional), 2 commit, 3 delay. */
  msgType: number;
  sendTimeMs: number;
  costMs: number;
  success: boolean;
}

export interface TraceConsume {
  consumerGroup: string;
  clientHost: string | undefined;
  requestId: string;
  /** Redeliveries before this one (RECONSUME_TIMES). */
  retryTimes: number;
  consumeTimeMs: number;
  /** Undefined while no SubAfter was found (still running, or its record was lost). */
  costMs: number | undefined;
  success: boolean | undefined;
  /** ConsumeReturnType ordinal: 0 SUCCESS, 1 TIME_OUT, 2 EXCEPTION, 3 RETURNNULL, 4 FAILED. */
  contextCode: number | undefined;
}

export interface TraceEndTransaction {
  producerGroup: string;
  transactionId: string;
  transactionState: string;
  fromTransactionCheck: boolean;
  timeMs: number;
}

export interface MessageTrace {
  msgId: string;
  traceTopic: string;
  sends: TraceSend[];
  /** When the broker stored the message, read from the message itself (absent when it was not found). */
  storeTimeMs: number | undefined;
  consumes: TraceConsume[];
  endTransactions: TraceEndTransaction[];
  /** Trace messages read, and pieces of them that were not records we could decode. */
  traceMessages: number;
  undecodable: number;
}

/** The body of a stored trace message as text; undefined when it cannot be inflated. */
function traceText(msg: MessageExt): string | undefined {
  if ((msg.sysFlag & SysFlag.compressed) === 0) return msg.body.toString('utf8');
  try {
    return inflateSync(msg.body, { maxOutputLength: traceBodyInflatedBytesMax }).toString('utf8');
  } catch {
    return undefined;
  }
}

/** Reads every trace record of `msgId` from `traceTopic` and arranges them as a timeline. */
export async function queryMsgTraceById(
  rpc: AdminRpc,
  msgId: string,
  traceTopic: string = SystemTopic.trace,
): Promise<MessageTrace> {
  const traceMsgs = await queryMessages(rpc, traceTopic, msgId, { maxNum: traceMessagesMax });
  const pubs: PubRecord[] = [];
  const befores: SubBeforeRecord[] = [];
  const afters = new Map<string, SubAfterRecord>();
  const ends: EndTransactionRecord[] = [];
  let undecodable = 0;
  for (const m of traceMsgs) {
    const text = traceText(m);
    if (text === undefined) {
      undecodable++;
      continue;
    }
    const { records, skipped } = decodeTraceData(text);
    undecodable += skipped.length;
    for (const r of records) {
      if (r.msgId !== msgId) continue;
      if (r.type === TraceType.Pub) pubs.push(r);
      else if (r.type === TraceType.SubBefore) befores.push(r);
      else if (r.type === TraceType.SubAfter) afters.set(r.requestId, r);
      else ends.push(r);
    }
  }
  const sends = pubs
    .map(
      (p): TraceSend => ({
        producerGroup: p.groupName,
        clientHost: p.clientHost,
        storeHost: p.storeHost,
        topic: p.topic,
        tags: p.tags,
        keys: p.keys,
        offsetMsgId: p.offsetMsgId,
        bodyLength: p.bodyLength,
        msgType: p.msgType,
        sendTimeMs: p.timestampMs,
        costMs: p.costMs,
        success: p.success,
      }),
    )
    .sort((a, b) => a.sendTimeMs - b.sendTimeMs);
  const consumes = befores
    .map((b): TraceConsume => {
      const a = afters.get(b.requestId);
      return {
        consumerGroup: b.groupName,
        clientHost: b.clientHost,
        requestId: b.requestId,
        retryTimes: b.retryTimes,
        consumeTimeMs: b.timestampMs,
        costMs: a?.costMs,
        success: a?.success,
        contextCode: a?.contextCode,
      };
    })
    .sort((a, b) => a.consumeTimeMs - b.consumeTimeMs);
  const endTransactions = ends.map((e) => ({
    producerGroup: e.groupName,
    transactionId: e.transactionId,
    transactionState: e.transactionState,
    fromTransactionCheck: e.fromTransactionCheck,
    timeMs: e.timestampMs,
  }));
  const storeTimeMs = await storeTimeOf(rpc, sends, msgId);
  return {
    msgId,
    traceTopic,
    sends,
    storeTimeMs,
    consumes,
    endTransactions,
    traceMessages: traceMsgs.length,
    undecodable,
  };
}

/** The store time of the traced message, looked up on the topic its Pub record names; undefined if not found. */
async function storeTimeOf(rpc: AdminRpc, sends: readonly TraceSend[], msgId: string): Promise<number | undefined> {
  const topic = sends[0]?.topic;
  if (topic === undefined) return undefined;
  try {
    const stored = (await queryMessages(rpc, topic, msgId, { uniqKey: true }))[0];
    return stored === undefined ? undefined : Number(stored.storeTimestamp);
  } catch {
    return undefined;
  }
}
