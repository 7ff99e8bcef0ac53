/**
 * The NameServer's routing registry (RocketMQ's RouteInfoManager): which brokers exist, in which cluster, and
 * which queues each broker group holds per topic. Pure state, no network: the connection of a broker is an
 * opaque token compared by identity, and time comes from an injected clock.
 */

import {
  type BrokerData,
  type ClusterInfo,
  type DataVersion,
  dataVersionEquals,
  masterBrokerId,
  Perm,
  permReadWrite,
  type QueueData,
  type TopicConfig,
  type TopicList,
  type TopicRouteData,
} from '../common/route-data.js';
import { getOrCreate } from './maps.js';

export interface RouteInfoManagerOptions {
  /** Default liveness window of a broker registration, ms. */
  brokerChannelExpiredTimeMs: number;
  deleteTopicWithBrokerRegistration?: boolean;
  /** Injected clock (tests freeze or advance time). */
  nowMs?: () => number;
}

export interface RegisterBrokerInput {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
  haServerAddr: string;
  heartbeatTimeoutMillis?: number | undefined;
  enableActingMaster?: boolean | undefined;
  topicConfigTable: Record<string, TopicConfig>;
  dataVersion: DataVersion;
  filterServerList?: string[] | undefined;
  /** The broker's connection; when it closes, the registration goes (onChannelDestroy). */
  channel?: object | undefined;
}

/** `ok` carries the master's addresses for a slave; `ignored` = an older registration lost to a newer one. */
export type RegisterBrokerResult = { status: 'ok'; haServerAddr?: string; masterAddr?: string } | { status: 'ignored' };

export interface BrokerIdentity {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
}

interface BrokerGroup {
  cluster: string;
  brokerName: string;
  enableActingMaster: boolean;
  addrs: Map<number, string>; // brokerId → addr
}

interface BrokerLive {
  clusterName: string;
  brokerAddr: string;
  lastUpdateMs: number;
  timeoutMs: number;
  dataVersion: DataVersion;
  channel: object | undefined;
  haServerAddr: string;
}

const liveKey = (clusterName: string, brokerAddr: string): string => `${clusterName}\u0000${brokerAddr}`;

export class RouteInfoManager {
  private readonly clusterAddrTable = new Map<string, Set<string>>();
  private readonly brokerAddrTable = new Map<string, BrokerGroup>();
  private readonly topicQueueTable = new Map<string, Map<string, QueueData>>();
  private readonly brokerLiveTable = new Map<string, BrokerLive>();
  private readonly filterServerTable = new Map<string, string[]>();
  private readonly nowMs: () => number;

  constructor(private readonly opts: RouteInfoManagerOptions) {
    this.nowMs = opts.nowMs ?? Date.now;
  }

  registerBroker(input: RegisterBrokerInput): RegisterBrokerResult {
    const { clusterName, brokerAddr, brokerName, brokerId } = input;
    const names = getOrCreate(this.clusterAddrTable, clusterName, () => new Set());
    names.add(brokerName);

    let registerFirst = false;
    let group = this.brokerAddrTable.get(brokerName);
    if (group === undefined) {
      registerFirst = true;
      group = { cluster: clusterName, brokerName, enableActingMaster: false, addrs: new Map() };
      this.brokerAddrTable.set(brokerName, group);
    }
    const oldVersionBroker = input.enableActingMaster === undefined;
    group.enableActingMaster = input.enableActingMaster === true;

    // One address has one id: a slave promoted to master re-registers under id 0.
    for (const [id, addr] of group.addrs) if (addr === brokerAddr && id !== brokerId) group.addrs.delete(id);

    // Two addresses claiming one id: the higher stateVersion wins.
    const oldAddr = group.addrs.get(brokerId);
    if (oldAddr !== undefined && oldAddr !== brokerAddr) {
      const old = this.brokerLiveTable.get(liveKey(clusterName, oldAddr));
      if (old !== undefined && old.dataVersion.stateVersion > input.dataVersion.stateVersion) {
        this.brokerLiveTable.delete(liveKey(clusterName, brokerAddr));
        return { status: 'ignored' };
      }
    }

    group.addrs.set(brokerId, brokerAddr);
    registerFirst ||= oldAddr === undefined;

    const isMaster = brokerId === masterBrokerId;
    const isPrimeSlave = !oldVersionBroker && !isMaster && brokerId === Math.min(...group.addrs.keys());
    if (isMaster || isPrimeSlave) {
      const table = input.topicConfigTable;
      if (this.opts.deleteTopicWithBrokerRegistration === true) {
        for (const [topic, queues] of this.topicQueueTable) {
          if (!Object.hasOwn(table, topic) && queues.delete(brokerName) && queues.size === 0) {
            this.topicQueueTable.delete(topic);
          }
        }
      }
      const changed = this.isBrokerTopicConfigChanged(clusterName, brokerAddr, input.dataVersion);
      for (const config of Object.values(table)) {
        const queues = this.topicQueueTable.get(config.topicName);
        if (registerFirst || changed || queues === undefined || !queues.has(brokerName)) {
          // A slave acting as master serves reads only.
          const perm = isPrimeSlave && group.enableActingMaster ? config.perm & ~Perm.write : config.perm;
          this.putQueueData(brokerName, { ...config, perm });
        }
      }
    }

    const key = liveKey(clusterName, brokerAddr);
    this.brokerLiveTable.set(key, {
      clusterName,
      brokerAddr,
      lastUpdateMs: this.nowMs(),
      timeoutMs: input.heartbeatTimeoutMillis ?? this.opts.brokerChannelExpiredTimeMs,
      dataVersion: { ...input.dataVersion },
      channel: input.channel,
      haServerAddr: input.haServerAddr,
    });
    if (input.filterServerList !== undefined) {
      if (input.filterServerList.length === 0) this.filterServerTable.delete(key);
      else this.filterServerTable.set(key, [...input.filterServerList]);
    }

    if (!isMaster) {
      const masterAddr = group.addrs.get(masterBrokerId);
      const masterLive =
        masterAddr === undefined ? undefined : this.brokerLiveTable.get(liveKey(clusterName, masterAddr));
      if (masterAddr !== undefined && masterLive !== undefined) {
        return { status: 'ok', haServerAddr: masterLive.haServerAddr, masterAddr };
      }
    }
    return { status: 'ok' };
  }

  private putQueueData(brokerName: string, config: TopicConfig): void {
    const queues = getOrCreate(this.topicQueueTable, config.topicName, () => new Map());
    queues.set(brokerName, {
      brokerName,
      readQueueNums: config.readQueueNums,
      writeQueueNums: config.writeQueueNums,
      perm: config.perm,
      topicSysFlag: config.topicSysFlag,
    });
  }

  /** Removes one broker address; a group with no address left takes its queues with it. */
  unregisterBroker(who: BrokerIdentity): void {
    const key = liveKey(who.clusterName, who.brokerAddr);
    this.brokerLiveTable.delete(key);
    this.filterServerTable.delete(key);
    const group = this.brokerAddrTable.get(who.brokerName);
    if (group === undefined) return;
    for (const [id, addr] of group.addrs) if (addr === who.brokerAddr) group.addrs.delete(id);
    if (group.addrs.size > 0) {
      if (group.enableActingMaster && !group.addrs.has(masterBrokerId)) this.wipeWritePerm(who.brokerName);
      return;
    }
    this.brokerAddrTable.delete(who.brokerName);
    const names = this.clusterAddrTable.get(who.clusterName);
    if (names?.delete(who.brokerName) && names.size === 0) {
      this.clusterAddrTable.delete(who.clusterName);
    }
    for (const [topic, queues] of this.topicQueueTable) {
      if (queues.delete(who.brokerName) && queues.size === 0) this.topicQueueTable.delete(topic);
    }
  }

  /** The broker connection `channel` closed: forget whatever registered over it. */
  onChannelDestroy(channel: object): BrokerIdentity[] {
    const gone: BrokerIdentity[] = [];
    for (const live of [...this.brokerLiveTable.values()]) {
      if (live.channel === channel) gone.push(this.dropLive(live));
    }
    return gone;
  }

  /** Drops every broker whose last registration is older than its timeout; returns them with their channels. */
  scanNotActiveBroker(): Array<BrokerIdentity & { channel: object | undefined }> {
    const now = this.nowMs();
    const expired: Array<BrokerIdentity & { channel: object | undefined }> = [];
    for (const live of [...this.brokerLiveTable.values()]) {
      if (live.lastUpdateMs + live.timeoutMs < now) expired.push({ ...this.dropLive(live), channel: live.channel });
    }
    return expired;
  }

  private dropLive(live: BrokerLive): BrokerIdentity {
    const who = this.identityOf(live);
    if (who !== undefined) {
      this.unregisterBroker(who);
      return who;
    }
    // Registration without an address entry (lost an id conflict): only the liveness record exists.
    const key = liveKey(live.clusterName, live.brokerAddr);
    this.brokerLiveTable.delete(key);
    this.filterServerTable.delete(key);
    return { clusterName: live.clusterName, brokerAddr: live.brokerAddr, brokerName: '', brokerId: -1 };
  }

  private identityOf(live: BrokerLive): BrokerIdentity | undefined {
    for (const group of this.brokerAddrTable.values()) {
      if (group.cluster !== live.clusterName) continue;
      for (const [id, addr] of group.addrs) {
        if (addr === live.brokerAddr) {
          return { clusterName: live.clusterName, brokerAddr: addr, brokerName: group.brokerName, brokerId: id };
        }
      }
    }
    return undefined;
  }

  /** Route of a topic, merged across every broker group holding it; undefined when no live group does. */
  pickupTopicRouteData(topic: string): TopicRouteData | undefined {
    const queues = this.topicQueueTable.get(topic);
    if (queues === undefined) return undefined;
    const brokerDatas: BrokerData[] = [];
    const filterServerTable: Record<string, string[]> = {};
    for (const brokerName of queues.keys()) {
      const group = this.brokerAddrTable.get(brokerName);
      if (group === undefined) continue;
      const data = this.brokerDataOf(group);
      brokerDatas.push(data);
      for (const addr of Object.values(data.brokerAddrs)) {
        const servers = this.filterServerTable.get(liveKey(group.cluster, addr));
        if (servers !== undefined) filterServerTable[addr] = [...servers];
      }
    }
    if (brokerDatas.length === 0) return undefined;
    const byName = (a: { brokerName: string }, b: { brokerName: string }) => (a.brokerName < b.brokerName ? -1 : 1);
    return {
      brokerDatas: brokerDatas.sort(byName),
      queueDatas: [...queues.values()].map((q) => ({ ...q })).sort(byName),
      filterServerTable,
    };
  }

  private brokerDataOf(group: BrokerGroup): BrokerData {
    const brokerAddrs: Record<string, string> = {};
    for (const id of [...group.addrs.keys()].sort((a, b) => a - b))
      brokerAddrs[String(id)] = group.addrs.get(id) as string;
    return { cluster: group.cluster, brokerName: group.brokerName, brokerAddrs };
  }

  getAllClusterInfo(): ClusterInfo {
    const brokerAddrTable: Record<string, BrokerData> = {};
    for (const [name, group] of this.brokerAddrTable) brokerAddrTable[name] = this.brokerDataOf(group);
    const clusterAddrTable: Record<string, string[]> = {};
    for (const [cluster, names] of this.clusterAddrTable) clusterAddrTable[cluster] = [...names].sort();
    return { brokerAddrTable, clusterAddrTable };
  }

  getAllTopicList(): TopicList {
    return { topicList: [...this.topicQueueTable.keys()].sort() };
  }

  getTopicsByCluster(cluster: string): TopicList {
    const names = this.clusterAddrTable.get(cluster) ?? new Set<string>();
    const topics: string[] = [];
    for (const [topic, queues] of this.topicQueueTable) {
      if ([...queues.keys()].some((name) => names.has(name))) topics.push(topic);
    }
    return { topicList: topics.sort() };
  }

  /** RocketMQ's "system topics": cluster and broker names (each is also a topic on its brokers). */
  getSystemTopicList(): TopicList {
    const topicList = new Set<string>();
    let brokerAddr: string | undefined;
    for (const [cluster, names] of this.clusterAddrTable) {
      topicList.add(cluster);
      for (const name of names) {
        topicList.add(name);
        brokerAddr ??= this.brokerAddrTable.get(name)?.addrs.values().next().value;
      }
    }
    return brokerAddr === undefined ? { topicList: [...topicList] } : { topicList: [...topicList], brokerAddr };
  }

  /** Deletes a topic everywhere, or only from the broker groups of `clusterName`. */
  deleteTopic(topic: string, clusterName?: string): void {
    if (clusterName === undefined || clusterName === '') {
      this.topicQueueTable.delete(topic);
      return;
    }
    const queues = this.topicQueueTable.get(topic);
    const names = this.clusterAddrTable.get(clusterName);
    if (queues === undefined || names === undefined) return;
    for (const name of names) queues.delete(name);
    if (queues.size === 0) this.topicQueueTable.delete(topic);
  }

  /** REGISTER_TOPIC_IN_NAMESRV: adds queues of known broker groups only; false when one is unknown. */
  registerTopic(topic: string, queueDatas: QueueData[]): boolean {
    if (queueDatas.length === 0) return true;
    if (queueDatas.some((q) => !this.brokerAddrTable.has(q.brokerName))) return false;
    const queues = getOrCreate(this.topicQueueTable, topic, () => new Map());
    for (const q of queueDatas) queues.set(q.brokerName, { ...q });
    return true;
  }

  /** Clears the write bit of every topic of a broker group; returns how many topics changed. */
  wipeWritePerm(brokerName: string): number {
    let count = 0;
    for (const queues of this.topicQueueTable.values()) {
      const q = queues.get(brokerName);
      if (q !== undefined) {
        q.perm &= ~Perm.write;
        count++;
      }
    }
    return count;
  }

  /** Restores read+write on every topic of a broker group; returns how many topics changed. */
  addWritePerm(brokerName: string): number {
    let count = 0;
    for (const queues of this.topicQueueTable.values()) {
      const q = queues.get(brokerName);
      if (q !== undefined) {
        q.perm = permReadWrite;
        count++;
      }
    }
    return count;
  }

  queryBrokerTopicConfig(clusterName: string, brokerAddr: string): DataVersion | undefined {
    const live = this.brokerLiveTable.get(liveKey(clusterName, brokerAddr));
    return live === undefined ? undefined : { ...live.dataVersion };
  }

  isBrokerTopicConfigChanged(clusterName: string, brokerAddr: string, version: DataVersion): boolean {
    return !dataVersionEquals(this.queryBrokerTopicConfig(clusterName, brokerAddr), version);
  }

  /** Keeps a registration alive without re-sending topics (QUERY_DATA_VERSION, BROKER_HEARTBEAT). */
  updateBrokerInfoUpdateTimestamp(clusterName: string, brokerAddr: string): void {
    const live = this.brokerLiveTable.get(liveKey(clusterName, brokerAddr));
    if (live !== undefined) live.lastUpdateMs = this.nowMs();
  }

  /** Addresses of one broker group (GET_BROKER_MEMBER_GROUP). */
  getBrokerMemberGroup(brokerName: string): Record<string, string> {
    const group = this.brokerAddrTable.get(brokerName);
    return group === undefined ? {} : this.brokerDataOf(group).brokerAddrs;
  }

  /** Number of live broker registrations (diagnostics, tests). */
  liveBrokerCount(): number {
    return this.brokerLiveTable.size;
  }
}
