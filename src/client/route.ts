/**
 * Topic routes as the NameServer returns them (GET_ROUTEINFO_BY_TOPIC body, RocketMQ's TopicRouteData), and
 * the queue lists a producer writes to and a consumer reads from.
 */

import { TsRocketError } from '../common/errors.js';
import { parseTolerantJson } from '../common/json.js';
import type { TopicRouteData as FullRouteData } from '../common/route-data.js';
import type { MessageQueue } from './message-queue.js';

export const PermBit = { write: 2, read: 4 } as const;
export const masterId = '0';

export type { BrokerData, QueueData } from '../common/route-data.js';
/** The part of RocketMQ's TopicRouteData a client uses. */
export type TopicRouteData = Pick<FullRouteData, 'queueDatas' | 'brokerDatas'>;

function num(v: unknown, fallback = 0): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : fallback;
}

/** Parses a route body (fastjson's bare numeric keys allowed); throws TsRocketError when it is not a route. */
export function parseTopicRoute(body: Buffer): TopicRouteData {
  const raw = parseTolerantJson(body.toString('utf8')) as Record<string, unknown> | null;
  if (
    raw === null ||
    typeof raw !== 'object' ||
    !Array.isArray(raw['queueDatas']) ||
    !Array.isArray(raw['brokerDatas'])
  ) {
    throw new TsRocketError('topic route body lacks queueDatas/brokerDatas');
  }
  const queueDatas = (raw['queueDatas'] as Record<string, unknown>[]).map((q) => ({
    brokerName: String(q['brokerName']),
    readQueueNums: num(q['readQueueNums']),
    writeQueueNums: num(q['writeQueueNums']),
    perm: num(q['perm'], 6),
    topicSysFlag: num(q['topicSysFlag']),
  }));
  const brokerDatas = (raw['brokerDatas'] as Record<string, unknown>[]).map((b) => {
    const addrs: Record<string, string> = {};
    const src = (b['brokerAddrs'] ?? {}) as Record<string, unknown>;
    for (const [id, addr] of Object.entries(src)) if (typeof addr === 'string') addrs[String(Number(id))] = addr;
    return { cluster: String(b['cluster'] ?? ''), brokerName: String(b['brokerName']), brokerAddrs: addrs };
  });
  queueDatas.sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
  brokerDatas.sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
  return { queueDatas, brokerDatas };
}

/** Queues a producer may write: writable queue data of brokers that have a master. */
export function publishQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const q of route.queueDatas) {
    if ((q.perm & PermBit.write) === 0) continue;
    const broker = route.brokerDatas.find((b) => b.brokerName === q.brokerName);
    if (broker?.brokerAddrs[masterId] === undefined) continue;
    for (let i = 0; i < q.writeQueueNums; i++) out.push({ topic, brokerName: q.brokerName, queueId: i });
  }
  return out;
}

/** Queues a consumer may read: readable queue data. */
export function subscribeQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const q of route.queueDatas) {
    if ((q.perm & PermBit.read) === 0) continue;
    for (let i = 0; i < q.readQueueNums; i++) out.push({ topic, brokerName: q.brokerName, queueId: i });
  }
  return out;
}
