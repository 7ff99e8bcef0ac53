/**
 * The NameServer: a RemotingServer serving the route registry. Usable embedded (tests, `tsrocket start`)
 * and standalone (`tsrocket namesrv`). NameServers never talk to each other; brokers register with each.
 */
import { type ConfigScalar, resolveConfig } from '../common/config.js';
import { createLogger, type Logger } from '../common/log.js';
import { PeriodicTask } from '../common/periodic-task.js';
import { ResponseCode } from '../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../remoting/command.js';
import { serverLimitsOf } from '../remoting/limits.js';
import { RemotingServer } from '../remoting/server.js';
import { type NamesrvConfig, namesrvKeys, namesrvSchema } from './config.js';
import { KvConfigManager } from './kv-config-manager.js';
import { namesrvProcessors } from './processor-table.js';
import type { NamesrvContext, ProcessorConnection } from './processors/context.js';
import { RouteInfoManager } from './route-info-manager.js';

/** What `invokeLocal` hands processors as the connection: liveness of its registrations is by timeout only. */
const inProcessConnection: ProcessorConnection = { remoteAddress: 'in-process' };

export interface NameServerOptions {
  /** Injected clock for broker expiry (tests). */
  nowMs?: () => number;
  logger?: Logger;
}

export class NameServer {
  readonly config: NamesrvConfig;
  readonly routes: RouteInfoManager;
  readonly kv: KvConfigManager;
  private readonly server: RemotingServer;
  private readonly log: Logger;
  private readonly expiryScan: PeriodicTask;
  private readonly ctx: NamesrvContext;
  private prepared: Promise<void> | undefined;
  private listening: Promise<void> | undefined;

  /**
   * `config` keys not given take RocketMQ's defaults (port 9876, expiry 120 s, scan every 5 s).
   * Throws ConfigError on a bad value.
   */
  constructor(config: Partial<NamesrvConfig> = {}, opts: NameServerOptions = {}) {
    const resolved = resolveConfig(namesrvSchema, [
      { kind: 'options', source: 'options', values: config as Record<string, ConfigScalar | undefined> },
    ]);
    this.config = Object.fromEntries(
      Object.keys(namesrvKeys).map((k) => [k, resolved.values[k]]),
    ) as unknown as NamesrvConfig;
    this.log = opts.logger ?? createLogger('namesrv');
    for (const w of resolved.warnings) this.log.warn(w.message, w.fields);
    this.routes = new RouteInfoManager({
      brokerChannelExpiredTimeMs: this.config.brokerChannelExpiredTime,
      deleteTopicWithBrokerRegistration: this.config.deleteTopicWithBrokerRegistration,
      nowMs: opts.nowMs,
    });
    this.kv = new KvConfigManager(this.config.kvConfigPath);
    this.server = new RemotingServer({
      name: 'namesrv',
      port: this.config.listenPort,
      host: this.config.bindAddress,
      limits: serverLimitsOf(this.config),
    });
    const ctx: NamesrvContext = { config: this.config, routes: this.routes, kv: this.kv, log: this.log };
    this.ctx = ctx;
    for (const [code, processor] of namesrvProcessors) {
      this.server.registerProcessor(code, (req, conn) => processor(ctx, req, conn));
    }
    this.expiryScan = new PeriodicTask({
      name: 'broker-expiry-scan',
      periodMs: this.config.scanNotActiveBrokerInterval,
      log: this.log,
      run: () => this.scanNotActiveBrokers(),
    });
    this.server.onConnectionClose((conn) => {
      for (const who of this.routes.onChannelDestroy(conn)) {
        this.log.info('broker connection closed, route removed', { brokerName: who.brokerName, addr: who.brokerAddr });
      }
    });
  }

  /** prepare() then listen(). */
  async start(): Promise<void> {
    await this.prepare();
    await this.listen();
  }

  /**
   * Loads the KV config and starts the broker expiry scan: the registry works in-process (`invokeLocal`) from
   * here on, before the port opens. `tsrocket start` registers its broker this way and listens last.
   */
  prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await this.kv.load();
      this.expiryScan.start();
    })();
    return this.prepared;
  }

  /** Opens the port (after prepare()); clients can ask for routes from here on. */
  listen(): Promise<void> {
    this.listening ??= (async () => {
      await this.prepare();
      await this.server.start();
      this.log.info('NameServer listening', { port: this.server.port, host: this.config.bindAddress });
    })();
    return this.listening;
  }

  /**
   * Serves one request in this process, as if it had arrived on a connection that never closes: a broker in
   * the same process registers through here (its route then lives until it unregisters or stops re-registering).
   * A processor's throw rejects.
   */
  async invokeLocal(req: RemotingCommand): Promise<RemotingCommand> {
    await this.prepare();
    const processor = namesrvProcessors.get(req.code);
    if (processor === undefined) {
      return createResponse(req, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, `request code ${req.code} not supported`);
    }
    const resp = await processor(this.ctx, req, inProcessConnection);
    return resp ?? createResponse(req, ResponseCode.SUCCESS);
  }

  /** The port: listenPort, or the one bound when listenPort is 0 (valid after listen()). */
  get port(): number {
    return this.config.listenPort === 0 ? this.server.port : this.config.listenPort;
  }

  /** Runs one expiry scan now (the timer calls it every scanNotActiveBrokerInterval ms). */
  scanNotActiveBrokers(): void {
    for (const gone of this.routes.scanNotActiveBroker()) {
      this.log.warn('broker expired, route removed', { brokerName: gone.brokerName, addr: gone.brokerAddr });
      const conn = gone.channel as { close?: () => void } | undefined;
      conn?.close?.();
    }
  }

  async close(): Promise<void> {
    await this.expiryScan.stop();
    await this.server.close();
    this.log.info('NameServer closed');
  }
}
