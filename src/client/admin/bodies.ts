/**
 * Admin response bodies (RocketMQ's TopicRouteData, ClusterInfo, TopicList, TopicStatsTable, ConsumeStats,
 * KVTable), decoded from their JSON into typed shapes.
 */
import type { BrokerData, ClusterInfo, TopicRouteData as FullRouteData } from '../../common/route-data.js';
import { asArray, asNumber, asObject, asString, type JsonValue, parseBody, parseLenientJson } from './json.js';

export type { BrokerData, ClusterInfo, QueueData } from '../../common/route-data.js';
/** RocketMQ's TopicRouteData as admin reads it. */
export type TopicRouteData = Pick<FullRouteData, 'queueDatas' | 'brokerDatas' | 'orderTopicConf'>;

export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

export interface TopicOffset extends MessageQueue {
  minOffset: number;
  maxOffset: number;
  lastUpdateTimestamp: number;
}

export interface QueueConsumeStat extends MessageQueue {
  brokerOffset: number;
  consumerOffset: number;
  lastTimestamp: number;
}

export interface ConsumeStats {
  consumeTps: number;
  queues: QueueConsumeStat[];
}

function brokerDataOf(v: JsonValue | undefined): BrokerData {
  const o = asObject(v);
  const addrs: Record<string, string> = {};
  for (const [id, addr] of Object.entries(asObject(o['brokerAddrs']))) addrs[id] = asString(addr);
  return { cluster: asString(o['cluster']), brokerName: asString(o['brokerName']), brokerAddrs: addrs };
}

export function decodeTopicRoute(body: Buffer | undefined): TopicRouteData {
  const o = asObject(parseBody(body));
  const orderTopicConf = typeof o['orderTopicConf'] === 'string' ? o['orderTopicConf'] : undefined;
  return {
    orderTopicConf,
    queueDatas: asArray(o['queueDatas']).map((q) => {
      const x = asObject(q);
      return {
        brokerName: asString(x['brokerName']),
        readQueueNums: asNumber(x['readQueueNums']),
        writeQueueNums: asNumber(x['writeQueueNums']),
        perm: asNumber(x['perm']),
        topicSysFlag: asNumber(x['topicSysFlag']),
      };
    }),
    brokerDatas: asArray(o['brokerDatas']).map(brokerDataOf),
  };
}

export function decodeClusterInfo(body: Buffer | undefined): ClusterInfo {
  const o = asObject(parseBody(body));
  const brokerAddrTable: Record<string, BrokerData> = {};
  for (const [name, bd] of Object.entries(asObject(o['brokerAddrTable']))) brokerAddrTable[name] = brokerDataOf(bd);
  const clusterAddrTable: Record<string, string[]> = {};
  for (const [cluster, names] of Object.entries(asObject(o['clusterAddrTable']))) {
    clusterAddrTable[cluster] = asArray(names).map((n) => asString(n));
  }
  return { brokerAddrTable, clusterAddrTable };
}

export function decodeTopicList(body: Buffer | undefined): string[] {
  return asArray(asObject(parseBody(body))['topicList']).map((t) => asString(t));
}

export function decodeKVTable(body: Buffer | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(asObject(asObject(parseBody(body))['table']))) out[k] = asString(v);
  return out;
}

/** A MessageQueue map key: the object's JSON text (fastjson) or, tolerated, `topic@brokerName@queueId`. */
export function parseMessageQueueKey(key: string): MessageQueue | undefined {
  if (key.startsWith('{')) {
    try {
      const o = asObject(parseLenientJson(key));
      return { topic: asString(o['topic']), brokerName: asString(o['brokerName']), queueId: asNumber(o['queueId']) };
    } catch {
      return undefined;
    }
  }
  const parts = key.split('@');
  if (parts.length !== 3) return undefined;
  return { topic: parts[0] as string, brokerName: parts[1] as string, queueId: asNumber(parts[2]) };
}

/** Map entries keyed by MessageQueue; also accepts a list of `{key, value}` or `[key, value]` pairs. */
function queueEntries(table: JsonValue | undefined): Array<[MessageQueue, { [key: string]: JsonValue }]> {
  const out: Array<[MessageQueue, { [key: string]: JsonValue }]> = [];
  if (Array.isArray(table)) {
    for (const e of table) {
      const pair = Array.isArray(e) ? e : [asObject(e)['key'], asObject(e)['value']];
      const k = asObject(pair[0]);
      out.push([
        { topic: asString(k['topic']), brokerName: asString(k['brokerName']), queueId: asNumber(k['queueId']) },
        asObject(pair[1]),
      ]);
    }
    return out;
  }
  for (const [key, v] of Object.entries(asObject(table))) {
    const mq = parseMessageQueueKey(key);
    if (mq !== undefined) out.push([mq, asObject(v)]);
  }
  return out;
}

function byQueue(a: MessageQueue, b: MessageQueue): number {
  return a.topic.localeCompare(b.topic) || a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId;
}

export function decodeTopicStats(body: Buffer | undefined): TopicOffset[] {
  const o = asObject(parseBody(body));
  return queueEntries(o['offsetTable'])
    .map(([mq, v]) => ({
      ...mq,
      minOffset: asNumber(v['minOffset']),
      maxOffset: asNumber(v['maxOffset']),
      lastUpdateTimestamp: asNumber(v['lastUpdateTimestamp']),
    }))
    .sort(byQueue);
}

export function decodeConsumeStats(body: Buffer | undefined): ConsumeStats {
  const o = asObject(parseBody(body));
  const queues = queueEntries(o['offsetTable'])
    .map(([mq, v]) => ({
      ...mq,
      brokerOffset: asNumber(v['brokerOffset']),
      consumerOffset: asNumber(v['consumerOffset']),
      lastTimestamp: asNumber(v['lastTimestamp']),
    }))
    .sort(byQueue);
  return { consumeTps: asNumber(o['consumeTps']), queues };
}

/** One topic's config on one broker, from GET_ALL_TOPIC_CONFIG (21). */
export interface BrokerTopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  order: boolean;
  /** RocketMQ 5's attributes (`message.type`, …). */
  attributes: Record<string, string>;
}

/** The entry of `topic` in a GET_ALL_TOPIC_CONFIG body (`{topicConfigTable:{name:TopicConfig}}`), if any. */
export function decodeTopicConfigOf(body: Buffer | undefined, topic: string): BrokerTopicConfig | undefined {
  const table = asObject(asObject(parseBody(body))['topicConfigTable']);
  if (!(topic in table)) return undefined;
  const x = asObject(table[topic]);
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(asObject(x['attributes']))) attributes[k] = asString(v);
  return {
    topicName: topic,
    readQueueNums: asNumber(x['readQueueNums']),
    writeQueueNums: asNumber(x['writeQueueNums']),
    perm: asNumber(x['perm']),
    order: x['order'] === true,
    attributes,
  };
}
