/**
 * Rewind and skip: INVOKE_BROKER_TO_RESET_OFFSET (222, admin → broker) and RESET_CONSUMER_CLIENT_OFFSET (220,
 * broker → consumer), which share RocketMQ's ResetOffsetRequestHeader and ResetOffsetBody.
 *
 *   ResetOffsetRequestHeader (* = required)
 *     topic      String  *
 *     group      String  *
 *     timestamp  long    *  ms since epoch; -1 = the end of each queue (skip the backlog)
 *     isForce    boolean *  false: a queue's offset only moves back
 *     queueId    int        5.x; -1 (default) = every queue
 *     offset     Long       5.x; with queueId ≥ 0, that offset instead of the time's
 *   ResetOffsetBody: {"offsetTable":{<MessageQueue>:offset}} with the MessageQueue key written as a JSON object, as
 *   fastjson writes it (`{{"brokerName":"b","queueId":0,"topic":"T"}:5}`, not strict JSON): the Java client decodes
 *   the pushed 220 body and mqadmin the 222 answer into MessageQueue keys; our side reads it with the tolerant reader.
 */
import { parseTolerantJson } from '../../common/json.js';
import type { RemotingCommand } from '../command.js';
import { optionalBool, optionalInt, optionalLong, requireLong, requireString } from '../fields.js';

/** timestamp of a reset to the end of every queue (mqadmin skipAccumulatedMessage). */
export const resetToEndTimestamp = -1;

export interface ResetOffsetRequestHeader {
  topic: string;
  group: string;
  timestamp: number;
  isForce: boolean;
  queueId?: number | undefined;
  offset?: bigint | undefined;
}

export function encodeResetOffsetHeader(h: ResetOffsetRequestHeader): Record<string, string> {
  const out: Record<string, string> = {
    topic: h.topic,
    group: h.group,
    timestamp: String(h.timestamp),
    isForce: String(h.isForce),
  };
  if (h.queueId !== undefined) out['queueId'] = String(h.queueId);
  if (h.offset !== undefined) out['offset'] = String(h.offset);
  return out;
}

export function decodeResetOffsetHeader(req: RemotingCommand): ResetOffsetRequestHeader {
  return {
    topic: requireString(req, 'topic'),
    group: requireString(req, 'group'),
    timestamp: Number(requireLong(req, 'timestamp')),
    isForce: optionalBool(req, 'isForce') ?? false,
    queueId: optionalInt(req, 'queueId'),
    offset: optionalLong(req, 'offset'),
  };
}

export interface QueueOffset {
  topic: string;
  brokerName: string;
  queueId: number;
  offset: bigint;
}

export function encodeResetOffsetBody(entries: readonly QueueOffset[]): Buffer {
  const pairs = entries.map(
    (e) => `${JSON.stringify({ brokerName: e.brokerName, queueId: e.queueId, topic: e.topic })}:${e.offset}`,
  );
  return Buffer.from(`{"offsetTable":{${pairs.join(',')}}}`);
}

/** The entries of a ResetOffsetBody (ours or Java's); entries that are not a queue and an offset are skipped. */
export function decodeResetOffsetBody(body: Buffer | undefined): QueueOffset[] {
  if (body === undefined || body.length === 0) return [];
  const parsed = parseTolerantJson(body.toString('utf8')) as { offsetTable?: unknown } | null;
  const table = parsed?.offsetTable;
  if (table === null || typeof table !== 'object') return [];
  const out: QueueOffset[] = [];
  for (const [key, value] of Object.entries(table as Record<string, unknown>)) {
    let mq: unknown;
    try {
      mq = JSON.parse(key);
    } catch {
      continue;
    }
    const { topic, brokerName, queueId } = (mq ?? {}) as Record<string, unknown>;
    const offset = typeof value === 'number' || typeof value === 'string' ? Number(value) : Number.NaN;
    if (typeof topic !== 'string' || typeof brokerName !== 'string' || typeof queueId !== 'number') continue;
    if (!Number.isInteger(offset) || offset < 0) continue;
    out.push({ topic, brokerName, queueId, offset: BigInt(offset) });
  }
  return out;
}
