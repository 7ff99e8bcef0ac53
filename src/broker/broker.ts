/**
 * The Broker: a RemotingServer serving RocketMQ's broker protocol on top of a MessageStore. Usable in-process
 * (tests, `tsrocket start`) and standalone (`tsrocket broker -c broker.conf`, see main.ts).
 */
import { createLogger } from '../common/log.js';
import { RemotingClient } from '../remoting/client.js';
import { RequestCode, ResponseCode } from '../remoting/codes.js';
import { createRequest, createResponse } from '../remoting/command.js';
import { RemotingServer } from '../remoting/server.js';
import type { StoreConfig } from '../store/config.js';
import type { MessageStore } from '../store/types.js';
import { ClientManager } from './clients.js';
import { type BrokerConfig, brokerConfigOf } from './config.js';
import { ConsumerOffsetManager } from './consumer-offsets.js';
import type { BrokerContext } from './context.js';
import { NamesrvRegistrar } from './namesrv-registrar.js';
import { brokerProcessors } from './processor-table.js';
import { PullHoldService } from './pull-hold.js';
import { SendBackScheduler } from './send-back-scheduler.js';
import { BrokerStats, statsSampleMs } from './stats.js';
import { createDefaultStore } from './store-factory.js';
import { SubscriptionGroupManager } from './subscription-groups.js';
import { TopicConfigManager } from './topic-config.js';

const log = createLogger('broker');

export interface BrokerOptions {
  /** A store to use instead of the file store built from `storeConfig` (tests, embedding). */
  store?: MessageStore;
}

export class Broker {
  readonly config: BrokerConfig;
  readonly topics: TopicConfigManager;
  readonly offsets: ConsumerOffsetManager;
  readonly groups: SubscriptionGroupManager;
  readonly clients = new ClientManager();
  private readonly server: RemotingServer;
  private readonly client = new RemotingClient();
  private readonly pullHolds: PullHoldService;
  private readonly stats = new BrokerStats();
  private readonly registrar: NamesrvRegistrar;
  private store: MessageStore | undefined;
  private sendBack: SendBackScheduler | undefined;
  private ctx: BrokerContext | undefined;
  private timers: NodeJS.Timeout[] = [];
  private state: 'new' | 'starting' | 'running' | 'closing' | 'closed' = 'new';

  constructor(
    brokerConfig: Partial<BrokerConfig> = {},
    private readonly storeConfig: Partial<StoreConfig> = {},
    private readonly options: BrokerOptions = {},
  ) {
    this.config = brokerConfigOf(brokerConfig);
    this.topics = new TopicConfigManager(this.config);
    this.offsets = new ConsumerOffsetManager(this.config.storePathRootDir);
    this.groups = new SubscriptionGroupManager(this.config.storePathRootDir, this.config.autoCreateSubscriptionGroup);
    this.pullHolds = new PullHoldService(this.config.longPollingSweepMs);
    this.server = new RemotingServer({ name: 'broker', port: this.config.listenPort, host: this.config.listenHost });
    this.registrar = new NamesrvRegistrar(this.config, this.topics, this.client, () => this.brokerAddr);
    for (const [code, p] of brokerProcessors) {
      this.server.registerProcessor(code, (req, conn) => {
        const ctx = this.ctx;
        if (ctx === undefined || this.state !== 'running') {
          return createResponse(
            req,
            ResponseCode.SERVICE_NOT_AVAILABLE,
            `broker ${this.config.brokerName} is ${this.state}`,
          );
        }
        return p(ctx, req, conn);
      });
    }
    this.server.onConnectionClose((conn) => this.clients.connectionClosed(conn));
    this.clients.onMembershipChange((group, conns) => {
      for (const conn of conns) {
        conn.invokeOneway(createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { consumerGroup: group }));
      }
    });
    this.topics.onChange(() => {
      this.topics.persist().catch((err: unknown) => log.error('persisting topics failed', { err }));
      if (this.state === 'running') void this.registrar.registerAll();
    });
  }

  /** "brokerIP1:port", valid after start. */
  get brokerAddr(): string {
    return `${this.config.brokerIP1}:${this.server.port}`;
  }

  /** The bound port (the real one when listenPort is 0), valid after start(). */
  get port(): number {
    return this.server.port;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`broker cannot start: it is ${this.state}`);
    this.state = 'starting';
    await Promise.all([this.topics.load(), this.offsets.load(), this.groups.load()]);
    await this.server.start();
    const store =
      this.options.store ??
      (await createDefaultStore({
        ...this.storeConfig,
        storePathRootDir: this.storeConfig.storePathRootDir ?? this.config.storePathRootDir,
        storeHost: this.brokerAddr,
      }));
    this.store = store;
    await store.start();
    this.sendBack = new SendBackScheduler(store, this.config.sendBackDelayMs);
    store.addArrivalListener((topic, queueId, queueOffset, tagsCode) =>
      this.pullHolds.notifyArrival(topic, queueId, queueOffset, tagsCode),
    );
    this.ctx = {
      config: this.config,
      store,
      topics: this.topics,
      offsets: this.offsets,
      groups: this.groups,
      clients: this.clients,
      pullHolds: this.pullHolds,
      sendBack: this.sendBack,
      stats: this.stats,
      brokerAddr: () => this.brokerAddr,
      startedAtMs: Date.now(),
    };
    await this.topics.persist();
    this.pullHolds.start();
    this.every(this.config.flushConsumerOffsetInterval, () =>
      this.offsets.persist().catch((err: unknown) => log.error('persisting consumer offsets failed', { err })),
    );
    this.every(statsSampleMs, () => this.stats.sample());
    this.every(this.config.clientScanIntervalMs, () => {
      for (const conn of this.clients.scanIdle(Date.now(), this.config.channelExpiredTimeout)) conn.close();
    });
    this.state = 'running';
    this.registrar.start();
    await this.registrar.registerAll();
    log.info('broker started', { brokerName: this.config.brokerName, addr: this.brokerAddr });
  }

  private every(ms: number, fn: () => unknown): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Unregisters, answers held pulls, puts pending redeliveries, persists metadata, shuts the store down. */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    const wasRunning = this.state === 'running';
    this.state = 'closing';
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (wasRunning) await this.registrar.close();
    this.pullHolds.close();
    await this.sendBack?.flush();
    await this.server.close();
    await this.store?.shutdown();
    await Promise.all([this.offsets.persist(true), this.topics.persist(), this.groups.persist()]);
    await this.client.close();
    this.state = 'closed';
    log.info('broker closed', { brokerName: this.config.brokerName });
  }
}
