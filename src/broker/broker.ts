/**
 * The Broker: a RemotingServer serving RocketMQ's broker protocol on top of a MessageStore. Usable in-process
 * (tests, `tsrocket start`) and standalone (`tsrocket broker -c broker.conf`, see main.ts).
 */

import { ConfigError } from '../common/config.js';
import { crcImplementation } from '../common/crc32.js';
import { createLogger } from '../common/log.js';
import { PeriodicTask } from '../common/periodic-task.js';
import { SystemTopic } from '../common/topics.js';
import { RemotingClient } from '../remoting/client.js';
import { RequestCode, ResponseCode } from '../remoting/codes.js';
import { createRequest, createResponse, type RemotingCommand } from '../remoting/command.js';
import { serverLimitsOf } from '../remoting/limits.js';
import { encodeConsumerGroupHeader } from '../remoting/protocol/clients.js';
import type { RequestScheduler } from '../remoting/scheduler.js';
import { type Processor, RemotingServer } from '../remoting/server.js';
import { resolveStoreConfig, type StoreConfig, storeKeys } from '../store/config.js';
import { DelayLevels, defaultMessageDelayLevel, parseDelayLevels } from '../store/delay-levels.js';
import type { StorageIO } from '../store/io.js';
import type { MessageStore } from '../store/types.js';
import { ClientManager } from './clients/client-manager.js';
import { RebalanceLocks } from './clients/rebalance-locks.js';
import { type BrokerConfig, brokerConfigOf } from './config.js';
import type { BrokerContext } from './context.js';
import { DedupService } from './dedup/dedup-service.js';
import { ConsumerFilterManager } from './filter/consumer-filters.js';
import { bitmapPredicateOf } from './filter/sql92-filter.js';
import { PullHoldService } from './long-polling/pull-hold.js';
import { ConfigFile } from './metadata/config-file.js';
import { ConsumerOffsetManager } from './metadata/consumer-offsets.js';
import { Perm } from './metadata/perm.js';
import { SubscriptionGroupManager } from './metadata/subscription-groups.js';
import { TopicConfigManager } from './metadata/topic-config.js';
import { NamesrvRegistrar } from './namesrv-registrar.js';
import { BrokerPopService } from './pop/pop-service.js';
import { brokerProcessors } from './processor-table.js';
import { brokerPutHooks } from './put/hooks.js';
import { PutPipeline } from './put/pipeline.js';
import { DelayOffsetFile } from './schedule/delay-offsets.js';
import { DelayService } from './schedule/delay-service.js';
import { scheduleTagsCodeOf } from './schedule/schedule-tags-code.js';
import { createSendScheduler, sendPathCodes } from './send-scheduling.js';
import { type BrokerService, ServiceList } from './services/lifecycle.js';
import { BrokerStats, statsSampleMs } from './stats/broker-stats.js';
import { createDefaultStore } from './store-factory.js';
import { timerTagsCodeOf } from './timer/tags-code.js';
import { TimerService } from './timer/timer-service.js';
import { TransactionCheckService } from './transaction/check-service.js';
import { ClosedHalves } from './transaction/closed-halves.js';

/** The gRPC endpoint (src/proxy), loaded only when enabled. */
type GrpcProxy = import('../proxy/server.js').GrpcProxy;

const log = createLogger('broker');

export interface BrokerOptions {
  /** A store to use instead of the file store built from `storeConfig` (tests, embedding). */
  store?: MessageStore;
  /**
   * A NameServer in this process (`tsrocket start`): registrations with `addr` go to `invoke` instead of over
   * TCP, so the broker is registered before that NameServer opens its port.
   */
  inProcessNamesrv?: { addr: string; invoke(req: RemotingCommand): Promise<RemotingCommand> };
  /** File I/O of the metadata files (tests count or fail their writes); Node's file system by default. */
  metadataIO?: StorageIO;
}

export class Broker {
  readonly config: BrokerConfig;
  readonly topics: TopicConfigManager;
  readonly offsets: ConsumerOffsetManager;
  readonly groups: SubscriptionGroupManager;
  readonly clients: ClientManager;
  private readonly consumerFilters: ConsumerFilterManager;
  private readonly server: RemotingServer;
  private readonly client = new RemotingClient();
  private readonly pullHolds: PullHoldService;
  private readonly stats = new BrokerStats();
  private readonly registrar: NamesrvRegistrar;
  private readonly services: ServiceList;
  /** Serves sends fairly across connections and sheds the floods (send-scheduling.ts). */
  private readonly sendScheduler: RequestScheduler;
  private store: MessageStore | undefined;
  private put: PutPipeline | undefined;
  private txCheck: TransactionCheckService | undefined;
  private readonly closedHalves = new ClosedHalves();
  private delay: DelayService | undefined;
  private readonly dedup: DedupService;
  /** messageDelayLevel, parsed: delayed messages and send-back retries wait by these levels. */
  readonly delayLevels: DelayLevels;
  private timer: TimerService | undefined;
  private pop: BrokerPopService | undefined;
  private ctx: BrokerContext | undefined;
  private grpc: GrpcProxy | undefined;
  private grpcStarting: Promise<number | undefined> | undefined;
  private state: 'new' | 'starting' | 'running' | 'closing' | 'closed' = 'new';

  constructor(
    brokerConfig: Partial<BrokerConfig> = {},
    private readonly storeConfig: Partial<StoreConfig> = {},
    private readonly options: BrokerOptions = {},
  ) {
    this.config = brokerConfigOf(brokerConfig);
    const c = this.config;
    this.delayLevels = delayLevelsOf(storeConfig.messageDelayLevel ?? defaultMessageDelayLevel);
    this.topics = new TopicConfigManager(c, options.metadataIO);
    this.dedup = new DedupService(c.dedupKeysPerTopicMax);
    this.offsets = new ConsumerOffsetManager(c.storePathRootDir, options.metadataIO);
    this.groups = new SubscriptionGroupManager(
      c.storePathRootDir,
      c.autoCreateSubscriptionGroup,
      options.metadataIO,
      c.autoCreateSubscriptionGroupMax,
    );
    this.clients = new ClientManager(c.clientRegistrationsPerConnectionMax);
    this.consumerFilters = new ConsumerFilterManager(() => this.store?.filterBitmap);
    this.pullHolds = new PullHoldService(this.config.longPollingSweepMs);
    this.server = new RemotingServer({
      name: 'broker',
      port: this.config.listenPort,
      host: this.config.listenHost,
      limits: serverLimitsOf(this.config),
    });
    const local = options.inProcessNamesrv;
    this.registrar = new NamesrvRegistrar(
      this.config,
      this.topics,
      (addr, req, timeoutMs) =>
        local !== undefined && addr === local.addr ? local.invoke(req) : this.client.invoke(addr, req, timeoutMs),
      () => this.brokerAddr,
    );
    this.sendScheduler = createSendScheduler(this.config, log);
    for (const [code, p] of brokerProcessors) {
      const processor: Processor = (req, conn) => {
        const ctx = this.ctx;
        if (ctx === undefined || this.state !== 'running') {
          // Retriable: the Java client and ali-ons retry a send answered 14 (not 2), and pulls retry anyway.
          return createResponse(
            req,
            ResponseCode.SERVICE_NOT_AVAILABLE,
            `broker ${this.config.brokerName} is ${this.state}`,
          );
        }
        return p(ctx, req, conn);
      };
      this.server.registerProcessor(code, sendPathCodes.has(code) ? this.sendScheduler.gate(processor) : processor);
    }
    this.server.onConnectionClose((conn) => this.clients.connectionClosed(conn));
    this.clients.onMembershipChange((group, conns) => {
      if (conns.length === 0) this.consumerFilters.unregisterGroup(group);
      for (const conn of conns) {
        conn.invokeOneway(
          createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, encodeConsumerGroupHeader({ consumerGroup: group })),
        );
      }
    });
    this.topics.onChange((changed) => {
      for (const t of changed) this.dedup.sync(t, this.topics.get(t));
      this.topics.persist().catch((err: unknown) => log.error('persisting topics failed', { err }));
      if (this.state === 'running') void this.registrar.registerAll();
    });
    this.services = new ServiceList(this.serviceList(), log);
  }

  /**
   * The broker's services in start order; they stop in reverse. Those before `requests` are ready before the
   * first request is served, those after it advertise the broker. A new background service (schedule, transaction
   * check, POP revive, HA, metrics) is one more entry here; a periodic job is a PeriodicTask entry.
   */
  private serviceList(): BrokerService[] {
    const c = this.config;
    // The port opens once requests are served: a client probing it then finds a recovered store. With
    // listenPort 0 it opens first, as the store writes the bound address as STOREHOST; nobody can know that port
    // before start() resolves, and a request meanwhile is answered SERVICE_NOT_AVAILABLE.
    const remoting: BrokerService = {
      name: 'remoting',
      start: () => this.server.start(),
      stop: () => this.server.close(),
    };
    const ephemeral = c.listenPort === 0;
    return [
      ...(ephemeral ? [remoting] : []),
      { name: 'store', start: () => this.startStore(), stop: () => this.store?.shutdown() },
      // After the store, whose directory lock keeps a second broker from touching these files.
      { name: 'metadata', start: () => this.loadMetadata(), stop: () => this.persistMetadata() },
      {
        name: 'delay',
        start: () => {
          this.topics.ensureTopic(SystemTopic.schedule, this.delayLevels.maxLevel, Perm.read | Perm.write);
          const put = this.put as PutPipeline;
          this.delay = new DelayService({
            store: this.store as MessageStore,
            putRewrittenBatch: (msgs) => put.putRewrittenBatch(msgs),
            levels: this.delayLevels,
            offsets: new DelayOffsetFile(c.storePathRootDir, this.options.metadataIO),
            flushIntervalMs: this.storeConfig.flushDelayOffsetInterval ?? storeKeys.flushDelayOffsetInterval.default,
            log,
          });
          return this.delay.start();
        },
        stop: () => this.delay?.stop(),
      },
      // Before requests: a resend arriving right after a restart must find the keys of the window.
      { name: 'dedup', start: () => this.dedup.start(this.store as MessageStore, this.topics.all()), stop: () => {} },
      { name: 'pull-hold', start: () => this.pullHolds.start(), stop: () => this.pullHolds.close() },
      {
        name: 'timer',
        start: () => {
          const put = this.put as PutPipeline;
          this.timer = new TimerService({
            store: this.store as MessageStore,
            putRewrittenBatch: (msgs) => put.putRewrittenBatch(msgs),
            checkpointFile: ConfigFile.under(c.storePathRootDir, 'timerCheckpoint.json', this.options.metadataIO),
            precisionMs: resolveStoreConfig(this.storeConfig).timerPrecisionMs,
            log: createLogger('broker.timer'),
          });
          return this.timer.start();
        },
        stop: () => this.timer?.stop(),
      },
      // After metadata (consumer offsets) and before requests: pops find the check points the revive log holds.
      {
        name: 'pop',
        start: () => {
          this.pop = new BrokerPopService({
            config: c,
            store: this.store as MessageStore,
            put: this.put as PutPipeline,
            topics: this.topics,
            groups: this.groups,
            offsets: this.offsets,
            stats: this.stats,
            brokerAddr: () => this.brokerAddr,
            log: createLogger('broker.pop'),
          });
          return this.pop.start();
        },
        stop: () => this.pop?.stop(),
      },
      new PeriodicTask({ name: 'pop-revive', periodMs: c.reviveInterval, log, run: () => this.pop?.revive() }),
      new PeriodicTask({
        name: 'consumer-offset-flush',
        periodMs: c.flushConsumerOffsetInterval,
        log,
        run: () => this.offsets.persist(),
      }),
      new PeriodicTask({ name: 'stats-sample', periodMs: statsSampleMs, log, run: () => this.stats.sample() }),
      new PeriodicTask({
        name: 'client-scan',
        periodMs: c.clientScanIntervalMs,
        log,
        run: () => {
          for (const conn of this.clients.scanIdle(Date.now(), c.channelExpiredTimeout)) conn.close();
        },
      }),
      new PeriodicTask({
        name: 'transaction-check',
        periodMs: c.transactionCheckInterval,
        log,
        run: () => this.transactionCheck().runPass(),
      }),
      { name: 'requests', start: () => this.openToRequests(), stop: () => this.closeToRequests() },
      ...(ephemeral ? [] : [remoting]),
      {
        name: 'namesrv-registration',
        start: () => {
          this.registrar.start();
          return this.registrar.registerAll();
        },
        stop: async () => {
          await this.registrar.close();
          await this.client.close();
        },
      },
      ...(c.enableGrpc ? [this.grpcService()] : []),
    ];
  }

  /**
   * RocketMQ 5's gRPC MessagingService (src/proxy) on grpcServerPort, on this broker's context. Started in the
   * background, last: loading grpc-js and the .proto files takes about as long as an empty broker's whole start,
   * and remoting clients and the NameServer must not wait for it. A failure to listen is logged; the broker serves on.
   */
  private grpcService(): BrokerService {
    return {
      name: 'grpc',
      start: () => {
        this.grpcStarting = this.startGrpc();
      },
      stop: async () => {
        await this.grpcStarting;
        await this.grpc?.stop();
      },
    };
  }

  private async startGrpc(): Promise<number | undefined> {
    const { listenHost: host, grpcServerPort: port } = this.config;
    try {
      const { GrpcProxy } = await import('../proxy/server.js');
      if (this.state !== 'running') return undefined;
      const proxy = new GrpcProxy({
        host,
        port,
        advertisedHost: () => this.config.brokerIP1,
        broker: this.ctx as BrokerContext,
        recallTimer: (topic, uniqKey, deliverMs, bornHost) => {
          const timer = this.timer;
          if (timer === undefined)
            return Promise.resolve({ status: 'failed', remark: 'the timer service is not running' });
          return timer.recall(topic, uniqKey, deliverMs, bornHost);
        },
      });
      await proxy.start();
      this.grpc = proxy;
      return proxy.port;
    } catch (err) {
      log.error('gRPC endpoint not started: RocketMQ 5 clients cannot connect', { err: err as Error, host, port });
      return undefined;
    }
  }

  /** The gRPC endpoint's port once it listens; undefined when enableGrpc is off or it could not start. */
  get grpcPort(): number | undefined {
    return this.grpc?.port;
  }

  /** Resolves once the gRPC endpoint listens (to its port) or could not start (undefined); undefined when off. */
  grpcReady(): Promise<number | undefined> {
    return this.grpcStarting ?? Promise.resolve(undefined);
  }

  /** "brokerIP1:port", valid after start (with listenPort 0: once the port is bound, the first service). */
  get brokerAddr(): string {
    return `${this.config.brokerIP1}:${this.port}`;
  }

  /** The port: listenPort, or the one bound when listenPort is 0 (valid after start()). */
  get port(): number {
    return this.config.listenPort === 0 ? this.server.port : this.config.listenPort;
  }

  /** Starts every service in order; on a failure the started ones are stopped and ServiceStartError names it. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`broker cannot start: it is ${this.state}`);
    this.state = 'starting';
    try {
      await this.services.startAll();
    } catch (err) {
      this.state = 'closed';
      throw err;
    }
    log.info('broker started', {
      brokerName: this.config.brokerName,
      addr: this.brokerAddr,
      bodyCrc: crcImplementation.description,
    });
  }

  private async startStore(): Promise<void> {
    const store =
      this.options.store ??
      (await createDefaultStore(
        {
          ...this.storeConfig,
          storePathRootDir: this.storeConfig.storePathRootDir ?? this.config.storePathRootDir,
          storeHost: this.brokerAddr,
        },
        {
          tagsCodeOf: timerTagsCodeOf(scheduleTagsCodeOf(this.delayLevels)),
          // RocketMQ's enableCalcFilterBitMap; SQL92 subscriptions exist only with enablePropertyFilter.
          filterBitmap:
            this.config.enableCalcFilterBitMap && this.config.enablePropertyFilter ? bitmapPredicateOf : undefined,
        },
      ));
    this.store = store;
    await store.start();
    store.addArrivalListener((topic, queueId, queueOffset, tagsCode) => {
      this.pullHolds.notifyArrival(topic, queueId, queueOffset, tagsCode);
      this.pop?.notifyArrival(topic, tagsCode);
    });
    this.put = new PutPipeline(
      store,
      brokerPutHooks({
        config: this.config,
        topics: this.topics,
        groups: this.groups,
        levels: this.delayLevels,
        timer: resolveStoreConfig(this.storeConfig),
      }),
    );
  }

  /** The check pass over half messages; built on first use, once the store and the put pipeline exist. */
  private transactionCheck(): TransactionCheckService {
    this.txCheck ??= new TransactionCheckService({
      config: this.config,
      store: this.store as MessageStore,
      putRewritten: (msg) => (this.put as PutPipeline).putRewritten(msg),
      offsets: this.offsets,
      clients: this.clients,
      closedHalves: this.closedHalves,
      brokerAddr: () => this.brokerAddr,
      log,
    });
    return this.txCheck;
  }

  private async loadMetadata(): Promise<void> {
    await Promise.all([this.topics.load(), this.offsets.load(), this.groups.load()]);
    await this.topics.persist();
  }

  private async persistMetadata(): Promise<void> {
    await Promise.all([this.offsets.persist(true), this.topics.persist(), this.groups.persist()]);
  }

  private openToRequests(): void {
    this.ctx = {
      config: this.config,
      store: this.store as MessageStore,
      put: this.put as PutPipeline,
      topics: this.topics,
      offsets: this.offsets,
      groups: this.groups,
      clients: this.clients,
      consumerFilters: this.consumerFilters,
      locks: new RebalanceLocks(),
      pullHolds: this.pullHolds,
      delay: this.delay as DelayService,
      pop: this.pop as BrokerPopService,
      stats: this.stats,
      closedHalves: this.closedHalves,
      dedup: this.dedup,
      brokerAddr: () => this.brokerAddr,
      startedAtMs: Date.now(),
      connectionStats: () => this.server.stats(),
    };
    this.state = 'running';
  }

  private closeToRequests(): void {
    if (this.state === 'running') this.state = 'closing';
  }

  /**
   * Refuses requests at once, then stops the services in reverse order: unregisters, answers held pulls, puts
   * pending redeliveries, persists metadata, shuts the store down, closes connections.
   */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    try {
      await this.services.stopAll();
    } finally {
      this.state = 'closed';
    }
    log.info('broker closed', { brokerName: this.config.brokerName });
  }
}

/** The broker's delay levels; a bad messageDelayLevel given programmatically is refused like one in a file. */
function delayLevelsOf(text: string): DelayLevels {
  const parsed = parseDelayLevels(text);
  if (typeof parsed === 'string') {
    throw new ConfigError('messageDelayLevel', `config messageDelayLevel=${JSON.stringify(text)}: ${parsed}`);
  }
  return new DelayLevels(parsed);
}
