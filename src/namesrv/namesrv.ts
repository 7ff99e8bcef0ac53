/**
 * The NameServer: a RemotingServer serving the route registry. Usable embedded (tests, `tsrocket start`)
 * and standalone (`tsrocket namesrv`). NameServers never talk to each other; brokers register with each.
 */
import { type ConfigScalar, resolveConfig } from '../common/config.js';
import { createLogger, type Logger } from '../common/log.js';
import { PeriodicTask } from '../common/periodic-task.js';
import { serverLimitsOf } from '../remoting/limits.js';
import { RemotingServer } from '../remoting/server.js';
import { type NamesrvConfig, namesrvKeys, namesrvSchema } from './config.js';
import { KvConfigManager } from './kv-config-manager.js';
import { namesrvProcessors } from './processor-table.js';
import type { NamesrvContext } from './processors/context.js';
import { RouteInfoManager } from './route-info-manager.js';

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
  private started = false;

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

  /** Loads the KV config, listens, and starts the broker expiry scan. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.kv.load();
    await this.server.start();
    this.expiryScan.start();
    this.log.info('NameServer listening', { port: this.server.port, host: this.config.bindAddress });
  }

  /** The bound port (the real one when configured with 0), valid after start(). */
  get port(): number {
    return this.server.port;
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
