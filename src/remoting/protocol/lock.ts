/**
 * Queue locks of orderly consumers: LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42). No header; JSON bodies.
 *
 *   LockBatchRequestBody    consumerGroup String, clientId String, mqSet Set<MessageQueue>
 *                           (5.x adds onlyThisBroker boolean; read and ignored: one broker per broker name here)
 *   LockBatchResponseBody   lockOKMQSet Set<MessageQueue>      (41 only; 42 answers SUCCESS with no body)
 *   UnlockBatchRequestBody  the same fields as LockBatchRequestBody
 *   MessageQueue            topic String, brokerName String, queueId int
 */
import { parseTolerantJson } from '../../common/json.js';

/** A queue as RocketMQ's MessageQueue JSON (the client's MessageQueue has the same shape). */
export interface LockQueue {
  readonly topic: string;
  readonly brokerName: string;
  readonly queueId: number;
}

export interface LockBatchBody {
  consumerGroup: string;
  clientId: string;
  mqSet: LockQueue[];
}

/** Queues in one lock or unlock request, at most (a client holds far fewer; bounds the work of one request). */
export const lockBatchQueuesMax = 65_536;

/** A decoded body, or why it could not be read (answered SYSTEM_ERROR naming the problem). */
export type LockBodyResult = { ok: true; body: LockBatchBody } | { ok: false; problem: string };

export function encodeLockBatchBody(b: LockBatchBody): Buffer {
  const mqSet = b.mqSet.map((q) => ({ topic: q.topic, brokerName: q.brokerName, queueId: q.queueId }));
  return Buffer.from(JSON.stringify({ consumerGroup: b.consumerGroup, clientId: b.clientId, mqSet }));
}

export function decodeLockBatchBody(body: Buffer | undefined): LockBodyResult {
  const parsed = parseBody(body);
  if (typeof parsed === 'string') return { ok: false, problem: parsed };
  const { consumerGroup, clientId, mqSet } = parsed as { consumerGroup?: unknown; clientId?: unknown; mqSet?: unknown };
  if (typeof consumerGroup !== 'string' || consumerGroup === '') return { ok: false, problem: 'no consumerGroup' };
  if (typeof clientId !== 'string' || clientId === '') return { ok: false, problem: 'no clientId' };
  const queues = decodeQueues(mqSet, 'mqSet');
  if (typeof queues === 'string') return { ok: false, problem: queues };
  return { ok: true, body: { consumerGroup, clientId, mqSet: queues } };
}

export function encodeLockBatchResponse(lockOK: readonly LockQueue[]): Buffer {
  const lockOKMQSet = lockOK.map((q) => ({ topic: q.topic, brokerName: q.brokerName, queueId: q.queueId }));
  return Buffer.from(JSON.stringify({ lockOKMQSet }));
}

/** The queues of a LockBatchResponseBody, or the problem with it. */
export function decodeLockBatchResponse(body: Buffer | undefined): LockQueue[] | string {
  if (body === undefined || body.length === 0) return [];
  const parsed = parseBody(body);
  if (typeof parsed === 'string') return parsed;
  const set = (parsed as { lockOKMQSet?: unknown }).lockOKMQSet;
  return set === undefined || set === null ? [] : decodeQueues(set, 'lockOKMQSet');
}

function parseBody(body: Buffer | undefined): object | string {
  if (body === undefined || body.length === 0) return 'no body';
  let parsed: unknown;
  try {
    parsed = parseTolerantJson(body.toString('utf8'));
  } catch (err) {
    return `body is not JSON: ${(err as Error).message}`;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : 'body is not an object';
}

function decodeQueues(v: unknown, name: string): LockQueue[] | string {
  if (!Array.isArray(v)) return `${name} is not an array`;
  if (v.length > lockBatchQueuesMax) return `${name} has ${v.length} queues, over ${lockBatchQueuesMax}`;
  const out: LockQueue[] = [];
  for (const q of v as unknown[]) {
    const { topic, brokerName, queueId } = (q ?? {}) as { topic?: unknown; brokerName?: unknown; queueId?: unknown };
    if (typeof topic !== 'string' || typeof brokerName !== 'string' || !Number.isInteger(queueId)) {
      return `${name} holds an entry that is not a queue {topic, brokerName, queueId}`;
    }
    out.push({ topic, brokerName, queueId: queueId as number });
  }
  return out;
}
