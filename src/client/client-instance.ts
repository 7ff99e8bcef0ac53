/**
 * The shared core of every producer and consumer with the same client id (RocketMQ's MQClientInstance): one
 * RemotingClient, the topic route cache refreshed from the NameServers, heartbeats to every known broker,
 * the rebalance timer, and the broker's NOTIFY_CONSUMER_IDS_CHANGED push.
 */
import { TsRocketError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { RemotingClient } from '../remoting/client.js';
import { RequestCode } from '../remoting/codes.js';
import type { RemotingCommand } from '../remoting/command.js';
import { decodeResetOffsetBody, decodeResetOffsetHeader, type QueueOffset } from '../remoting/protocol/reset-offset.js';
import { ClientApi } from './client-api.js';
import type { ConsumerData, HeartbeatData } from './heartbeat.js';
import { localIPv4 } from './local-address.js';
import { clientLogger } from './logger.js';
import { parseNameServerList } from './name-server.js';
import { ReplyWaiters } from './request-reply.js';
import { masterId, type TopicRouteData } from './route.js';
import { checkTransactionStateProcessor, type TransactionChecker } from './transaction-check.js';

export const pollNameServerIntervalMsDefault = 30_000;
export const heartbeatIntervalMsDefault = 30_000;
export const rebalanceIntervalMsDefault = 20_000;
export const requestTimeoutMsDefault = 3_000;
/**
 * A subscribed topic without a route is polled from every 1 s, growing by half each time up to
 * pollNameServerIntervalMs, so a consumer started before its topic exists begins within about a second of it.
 */
export const missingRoutePollMsMin = 1_000;
const missingRoutePollGrowth = 1.5;

/** Options every producer and consumer accepts. */
export interface ClientOptions {
  /** NameServer addresses, "host:port", several separated by ";". */
  nameServer: string;
  /** Reported IP in the client id; the first non-internal IPv4 by default. */
  clientIp?: string;
  /**
   * Clients with the same instance name (and IP) share one connection set. Default: producers share one instance
   * per NameServer list (one connection per broker, shared batches); each consumer gets its own, so that two
   * consumers of one group in one process count as two members.
   */
  instanceName?: string;
  /** Timeout of control requests (route, heartbeat, offsets), ms. */
  requestTimeoutMs?: number;
  pollNameServerIntervalMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceIntervalMs?: number;
  /**
   * Receives the client's log lines (an object with debug/info/warn/error, each `(msg, fields)`; fields carry
   * a `component` and the details, errors as Error objects). Default: one line each to stdout at
   * TSROCKET_LOG_LEVEL (info). Clients sharing an instance (producers without an instanceName) log to the
   * logger of the first one.
   */
  logger?: Logger;
}

/** What the instance needs from a registered consumer. */
export interface ConsumerHandle {
  consumerData(): ConsumerData;
  doRebalance(): Promise<void>;
  /** Topics whose routes must stay fresh. */
  topics(): string[];
  /** The broker reset the group's offsets (RESET_CONSUMER_CLIENT_OFFSET): read these queues on from there. */
  resetOffsets?(topic: string, offsets: readonly QueueOffset[]): Promise<void>;
}

let instanceSeq = 0;

/** A fresh instance name (`pid#n`), so each client gets its own id unless one is given. */
export function uniqueInstanceName(): string {
  return `${process.pid}#${++instanceSeq}`;
}
const instances = new Map<string, ClientInstance>();

export class ClientInstance {
  readonly remoting: RemotingClient;
  readonly api: ClientApi;
  private readonly routes = new Map<string, TopicRouteData>();
  private readonly brokerAddrs = new Map<string, Record<string, string>>();
  /** Producer group → number of producers using it (the consumers' inner producer is shared). */
  private readonly producers = new Map<string, number>();
  private readonly consumers = new Map<string, ConsumerHandle>();
  /** Producer group → its transactional producer's answer to CHECK_TRANSACTION_STATE (39). */
  private readonly transactionCheckers = new Map<string, TransactionChecker>();
  private readonly timers: NodeJS.Timeout[] = [];
  private refs = 0;
  private rebalancing: Promise<void> | undefined;
  private rebalanceAgain = false;
  private closed = false;
  private readonly log: Logger;
  /** Broker addresses that accepted a heartbeat of the current consumer set. */
  private readonly heartbeated = new Set<string>();
  private missingRouteTimer: NodeJS.Timeout | undefined;
  private missingRoutePollMs = missingRoutePollMsMin;
  /** Requests of this client's producers awaiting their reply (request-reply). */
  readonly replies = new ReplyWaiters();

  private constructor(
    readonly clientId: string,
    private readonly opts: ClientOptions,
  ) {
    this.log = this.logFor('client');
    const timeoutMs = opts.requestTimeoutMs ?? requestTimeoutMsDefault;
    this.remoting = new RemotingClient({ requestTimeoutMsDefault: timeoutMs });
    this.api = new ClientApi(this.remoting, parseNameServerList(opts.nameServer), timeoutMs);
    this.remoting.registerProcessor(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, () => {
      this.rebalanceSoon();
      return undefined;
    });
    this.remoting.registerProcessor(
      RequestCode.CHECK_TRANSACTION_STATE,
      checkTransactionStateProcessor(this.transactionCheckers, this.logFor('transaction')),
    );
    this.remoting.registerProcessor(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, (req) => this.replies.onPush(req));
    this.remoting.registerProcessor(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, (req) => {
      this.applyReset(req);
      return undefined;
    });
  }

  /** The instance for these options' client id, created and started on first use; call release() when done. */
  static acquire(opts: ClientOptions): ClientInstance {
    const instanceName = opts.instanceName ?? uniqueInstanceName();
    const clientId = `${opts.clientIp ?? localIPv4()}@${instanceName}`;
    let inst = instances.get(clientId);
    if (inst === undefined) {
      inst = new ClientInstance(clientId, opts);
      instances.set(clientId, inst);
      inst.startTimers();
    }
    inst.refs++;
    return inst;
  }

  /** Drops one reference; the last one unregisters nothing more and closes connections and timers. */
  async release(): Promise<void> {
    if (--this.refs > 0) return;
    this.closed = true;
    instances.delete(this.clientId);
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.missingRouteTimer);
    await this.rebalancing?.catch(() => undefined);
    this.replies.cancelAll(new TsRocketError(`client ${this.clientId} closed before the reply came`));
    await this.remoting.close();
  }

  private startTimers(): void {
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => {
        fn().catch((err) => this.log.warn('periodic task failed', { err }));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.pollNameServerIntervalMs ?? pollNameServerIntervalMsDefault, () => this.refreshAllRoutes());
    every(this.opts.heartbeatIntervalMs ?? heartbeatIntervalMsDefault, () => this.sendHeartbeatToAll());
    every(this.opts.rebalanceIntervalMs ?? rebalanceIntervalMsDefault, () => this.rebalanceNow());
  }

  /** A logger for one component of this client (the user's `logger` option when given). */
  logFor(component: string): Logger {
    return clientLogger(this.opts.logger, component);
  }

  registerProducer(group: string): void {
    // A new group is announced to every broker again (replies find their requester among the producers).
    if (!this.producers.has(group)) this.heartbeated.clear();
    this.producers.set(group, (this.producers.get(group) ?? 0) + 1);
  }

  /** Routes the broker's transaction checks of `group` to `checker` (one transactional producer per group). */
  registerTransactionChecker(group: string, checker: TransactionChecker): void {
    if (this.transactionCheckers.has(group)) {
      throw new TsRocketError(`transactional producer group ${group} is already registered in ${this.clientId}`);
    }
    this.transactionCheckers.set(group, checker);
  }

  unregisterTransactionChecker(group: string): void {
    this.transactionCheckers.delete(group);
  }

  /** Heartbeats every known master that has not had this client's current registrations (before a request). */
  async heartbeatUnseen(): Promise<void> {
    const addrs = this.allBrokerAddrs(true).filter((a) => !this.heartbeated.has(a));
    if (addrs.length === 0 || this.closed) return;
    const data = this.heartbeatData();
    await Promise.allSettled(
      addrs.map(async (addr) => {
        await this.api.heartbeat(addr, data);
        this.heartbeated.add(addr);
      }),
    );
  }

  registerConsumer(group: string, handle: ConsumerHandle): void {
    if (this.consumers.has(group))
      throw new TsRocketError(`consumer group ${group} is already registered in ${this.clientId}`);
    this.consumers.set(group, handle);
    this.heartbeated.clear();
    this.watchMissingRoutes();
  }

  /**
   * Starts (or restarts at its shortest interval) the quick poll of subscribed topics that have no route yet; it
   * stops once every such topic has one. A route that appears is followed at once by a heartbeat and a rebalance.
   */
  watchMissingRoutes(): void {
    this.missingRoutePollMs = missingRoutePollMsMin;
    this.scheduleMissingRoutePoll();
  }

  private scheduleMissingRoutePoll(): void {
    clearTimeout(this.missingRouteTimer);
    if (this.closed) return;
    this.missingRouteTimer = setTimeout(() => {
      this.missingRouteTimer = undefined;
      this.pollMissingRoutes().catch((err) => this.log.warn('route poll failed', { err }));
    }, this.missingRoutePollMs);
    this.missingRouteTimer.unref();
  }

  private missingRoutes(): string[] {
    const topics = new Set<string>();
    for (const c of this.consumers.values()) for (const t of c.topics()) if (!this.routes.has(t)) topics.add(t);
    return [...topics];
  }

  private async pollMissingRoutes(): Promise<void> {
    const missing = this.missingRoutes();
    if (this.closed || missing.length === 0) return;
    const found = await Promise.allSettled(missing.map((t) => this.updateRoute(t)));
    if (this.closed) return;
    const appeared = found.some((r) => r.status === 'fulfilled' && r.value !== undefined);
    if (appeared) {
      // New brokers must know this client before it asks them for the group's members.
      await this.sendHeartbeatToAll();
      await this.rebalanceNow();
    }
    if (this.closed || this.missingRoutes().length === 0 || this.missingRouteTimer !== undefined) return;
    const intervalMs = this.opts.pollNameServerIntervalMs ?? pollNameServerIntervalMsDefault;
    // A route that appeared may bring the next (the retry topic is created on the heartbeat): poll soon again.
    this.missingRoutePollMs = appeared
      ? missingRoutePollMsMin
      : Math.min(intervalMs, Math.round(this.missingRoutePollMs * missingRoutePollGrowth));
    this.scheduleMissingRoutePoll();
  }

  /** Forgets a consumer group locally (a start that failed half-way). */
  unregisterLocal(kind: 'producer' | 'consumer', group: string): void {
    if (kind === 'consumer') this.consumers.delete(group);
    else this.producers.delete(group);
  }

  /** Removes a group and tells every broker (UNREGISTER_CLIENT), so the group rebalances without waiting. */
  async unregister(kind: 'producer' | 'consumer', group: string): Promise<void> {
    if (kind === 'producer') {
      const left = (this.producers.get(group) ?? 1) - 1;
      if (left > 0) {
        this.producers.set(group, left);
        return;
      }
      this.producers.delete(group);
    } else {
      this.consumers.delete(group);
      this.heartbeated.clear();
    }
    const addrs = this.allBrokerAddrs(true);
    await Promise.allSettled(
      addrs.map((addr) =>
        this.api.unregisterClient(
          addr,
          this.clientId,
          kind === 'producer' ? group : undefined,
          kind === 'consumer' ? group : undefined,
        ),
      ),
    );
  }

  /** Cached route, fetched from a NameServer when missing. */
  async route(topic: string): Promise<TopicRouteData | undefined> {
    return this.routes.get(topic) ?? (await this.updateRoute(topic));
  }

  cachedRoute(topic: string): TopicRouteData | undefined {
    return this.routes.get(topic);
  }

  /** Fetches the route of `topic` and updates the broker address table; undefined when the topic is unknown. */
  async updateRoute(topic: string): Promise<TopicRouteData | undefined> {
    const route = await this.api.getTopicRoute(topic);
    if (route === undefined) {
      this.routes.delete(topic);
      return undefined;
    }
    this.routes.set(topic, route);
    for (const b of route.brokerDatas) this.brokerAddrs.set(b.brokerName, { ...b.brokerAddrs });
    return route;
  }

  private async refreshAllRoutes(): Promise<void> {
    const topics = new Set(this.routes.keys());
    for (const c of this.consumers.values()) for (const t of c.topics()) topics.add(t);
    await Promise.allSettled([...topics].map((t) => this.updateRoute(t)));
  }

  /** Master address of a broker group, when known. */
  masterAddr(brokerName: string): string | undefined {
    return this.brokerAddrs.get(brokerName)?.[masterId];
  }

  /** Address to read from: the suggested broker id when present, else the master, else any replica. */
  readAddr(brokerName: string, brokerId = 0): string | undefined {
    const addrs = this.brokerAddrs.get(brokerName);
    if (addrs === undefined) return undefined;
    return addrs[String(brokerId)] ?? addrs[masterId] ?? Object.values(addrs)[0];
  }

  /** Every known broker address; masters only when `mastersOnly`. */
  allBrokerAddrs(mastersOnly = false): string[] {
    const out = new Set<string>();
    for (const addrs of this.brokerAddrs.values()) {
      for (const [id, addr] of Object.entries(addrs)) if (!mastersOnly || id === masterId) out.add(addr);
    }
    return [...out];
  }

  heartbeatData(): HeartbeatData {
    return {
      clientID: this.clientId,
      producerDataSet: [...this.producers.keys()].map((groupName) => ({ groupName })),
      consumerDataSet: [...this.consumers.values()].map((c) => c.consumerData()),
    };
  }

  /** HEART_BEAT to every broker (masters only when there are no consumers). */
  async sendHeartbeatToAll(): Promise<void> {
    if (this.closed) return;
    const data = this.heartbeatData();
    if (data.producerDataSet.length === 0 && data.consumerDataSet.length === 0) return;
    const addrs = this.allBrokerAddrs(data.consumerDataSet.length === 0);
    const results = await Promise.allSettled(addrs.map((addr) => this.api.heartbeat(addr, data)));
    for (const [i, r] of results.entries()) {
      if (r.status === 'rejected') this.log.debug('heartbeat failed', { broker: addrs[i], err: r.reason });
      else this.heartbeated.add(addrs[i] as string);
    }
  }

  /**
   * Heartbeats `addr` unless it already has this client's consumers, so that asking it for a group's members
   * never finds the group missing merely because the broker was discovered after the last heartbeat.
   */
  async ensureHeartbeat(addr: string): Promise<void> {
    if (this.heartbeated.has(addr) || this.consumers.size === 0) return;
    await this.api.heartbeat(addr, this.heartbeatData());
    this.heartbeated.add(addr);
  }

  /** Rebalances every consumer now; concurrent calls coalesce into one extra run. */
  async rebalanceNow(): Promise<void> {
    if (this.closed) return;
    if (this.rebalancing !== undefined) {
      this.rebalanceAgain = true;
      return this.rebalancing;
    }
    this.rebalancing = (async () => {
      do {
        this.rebalanceAgain = false;
        for (const c of [...this.consumers.values()]) {
          await c
            .doRebalance()
            .catch((err) => this.log.warn('rebalance failed', { group: c.consumerData().groupName, err }));
        }
      } while (this.rebalanceAgain && !this.closed);
    })().finally(() => {
      this.rebalancing = undefined;
    });
    return this.rebalancing;
  }

  /** Hands a broker's offset reset to the consumer of its group, if this client has one. */
  private applyReset(req: RemotingCommand): void {
    let h: ReturnType<typeof decodeResetOffsetHeader>;
    let offsets: QueueOffset[];
    try {
      h = decodeResetOffsetHeader(req);
      offsets = decodeResetOffsetBody(req.body).filter((e) => e.topic === h.topic);
    } catch (err) {
      this.log.warn('malformed offset reset ignored', { err });
      return;
    }
    const consumer = this.consumers.get(h.group);
    if (consumer?.resetOffsets === undefined) return;
    this.log.info('offsets reset by the broker', { group: h.group, topic: h.topic, queues: offsets.length });
    consumer
      .resetOffsets(h.topic, offsets)
      .catch((err) => this.log.warn('offset reset failed', { group: h.group, err }));
  }

  /** Schedules a rebalance on the next tick (the broker's change notice is oneway). */
  rebalanceSoon(): void {
    setImmediate(() => {
      this.rebalanceNow().catch(() => undefined);
    });
  }
}
