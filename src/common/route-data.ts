/**
 * Route data shapes as RocketMQ serialises them (TopicRouteData, BrokerData, QueueData, ClusterInfo,
 * TopicConfig, DataVersion). Field names are RocketMQ's: clients parse these JSON bodies as-is.
 */

/** Permission bits of a topic / queue (PermName). */
export const Perm = { inherit: 1, write: 2, read: 4, priority: 8 } as const;
export const permReadWrite = Perm.read | Perm.write;

/** Broker id of a master (MixAll.MASTER_ID). */
export const masterBrokerId = 0;

/** Change stamp of a broker's topic config table; equal stamps mean "nothing changed". */
export interface DataVersion {
  stateVersion: number;
  timestamp: number;
  counter: number;
}

export function dataVersionEquals(a: DataVersion | undefined, b: DataVersion | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.stateVersion === b.stateVersion && a.timestamp === b.timestamp && a.counter === b.counter;
}

export function zeroDataVersion(): DataVersion {
  return { stateVersion: 0, timestamp: 0, counter: 0 };
}

/** A topic as a broker registers it. */
export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
  order: boolean;
}

/** The queues one broker group (brokerName) holds for a topic. */
export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

/** One broker group: brokerId ("0" = master) → address "ip:port". */
export interface BrokerData {
  cluster: string;
  brokerName: string;
  brokerAddrs: Record<string, string>;
}

/** GET_ROUTEINFO_BY_TOPIC body. Both arrays are always present (ali-ons sorts them unconditionally). */
export interface TopicRouteData {
  brokerDatas: BrokerData[];
  queueDatas: QueueData[];
  filterServerTable: Record<string, string[]>;
  /** "brokerName:queueNums;…" for ordered topics, when orderMessageEnable. */
  orderTopicConf?: string;
}

/** GET_BROKER_CLUSTER_INFO body. */
export interface ClusterInfo {
  brokerAddrTable: Record<string, BrokerData>;
  clusterAddrTable: Record<string, string[]>;
}

/** TopicList body (GET_ALL_TOPIC_LIST_FROM_NAMESERVER, GET_TOPICS_BY_CLUSTER, …). */
export interface TopicList {
  topicList: string[];
  brokerAddr?: string;
}

/** RegisterBrokerBody, decoded. */
export interface RegisterBrokerBody {
  topicConfigSerializeWrapper: { topicConfigTable: Record<string, TopicConfig>; dataVersion: DataVersion };
  filterServerList: string[];
}

/** Encodes a body as strict JSON bytes (what every client can parse). */
export function encodeJsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
