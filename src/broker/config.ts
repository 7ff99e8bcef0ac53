/**
 * Broker configuration. Key names are RocketMQ's (BrokerConfig / broker.conf) so existing broker.conf files
 * load unchanged; keys RocketMQ does not have are marked "tsrocket". The known keys, their types, allowed
 * values and status are in config-keys.ts; this file merges defaults < file < flags and checks them.
 */
import os from 'node:os';
import {
  type ConfigLayer,
  type ConfigScalar,
  type ConfigWarning,
  defaultsOf,
  readConfigFile,
  resolveConfig,
} from '../common/config.js';
import { createLogger } from '../common/log.js';
import type { ServerConnectionConfig } from '../remoting/limits.js';
import { type StoreConfig, storeKeys } from '../store/config.js';
import { brokerKeys, brokerSchema } from './config-keys.js';
import { advertisedIp, type NetworkInterfaces } from './host.js';

export const BrokerRole = { ASYNC_MASTER: 'ASYNC_MASTER', SYNC_MASTER: 'SYNC_MASTER', SLAVE: 'SLAVE' } as const;
export type BrokerRole = (typeof BrokerRole)[keyof typeof BrokerRole];

/** Connection keys (idle time, caps, fd reserve, partial frames): remoting/limits.ts. */
export interface BrokerConfig extends ServerConnectionConfig {
  brokerClusterName: string;
  brokerName: string;
  /** 0 = master; replicas (> 0) need HA replication, not built yet. */
  brokerId: number;
  /** ASYNC_MASTER; SYNC_MASTER and SLAVE need HA replication, not built yet. */
  brokerRole: BrokerRole;
  /** 0 = ephemeral (tests). */
  listenPort: number;
  /** "host:port;host:port", empty = no NameServer. */
  namesrvAddr: string;
  /**
   * IPv4 address registered with NameServers and written as store host. '' = chosen at start: the bind address,
   * or when bound to every interface the first non-loopback IPv4 interface (127.0.0.1 if none).
   */
  brokerIP1: string;
  /** Host to bind (tsrocket; also accepted as RocketMQ 5's bindAddress). */
  listenHost: string;
  /** Node/V8 flags the broker's process runs with (`tsrocket start` / `broker` re-run themselves with them). */
  nodeFlags: string;
  /** Serve the gRPC MessagingService (src/proxy) on grpcServerPort (tsrocket). */
  enableGrpc: boolean;
  /** 0 = ephemeral (tests). */
  grpcServerPort: number;
  autoCreateTopicEnable: boolean;
  autoCreateSubscriptionGroup: boolean;
  /** Auto-creation on send stops once the broker holds this many topics, retry/DLQ topics aside (tsrocket). */
  autoCreateTopicMax: number;
  /** Auto-creation of subscription groups stops once the broker holds this many (tsrocket). */
  autoCreateSubscriptionGroupMax: number;
  /** Keys a de-duplicated topic's table holds at most; past it the oldest leave (tsrocket). */
  dedupKeysPerTopicMax: number;
  defaultTopicQueueNums: number;
  /** PermName bits: 2 write, 4 read. */
  brokerPermission: number;
  registerBrokerTimeoutMills: number;
  /** Period of REGISTER_BROKER to every NameServer. */
  registerNameServerPeriod: number;
  storePathRootDir: string;
  regionId: string;
  traceOn: boolean;
  /** Create the trace topic at start (RocketMQ ships it off; `tsrocket start` and startEmbedded turn it on). */
  traceTopicEnable: boolean;
  msgTraceTopicName: string;
  /** Store replies of request-reply as well as pushing them to the requester (RocketMQ's default true). */
  storeReplyMessageEnable: boolean;
  /** Largest message body accepted (RocketMQ's maxMessageSize). */
  maxMessageSize: number;
  /** Largest encoded properties string (tsrocket). */
  maxPropertiesBytes: number;
  longPollingEnable: boolean;
  /** Serve SQL92 subscriptions (RocketMQ ships it off; `tsrocket start` and startEmbedded turn it on). */
  enablePropertyFilter: boolean;
  /** Keep the SQL92 filter bitmap (RocketMQ's enableCalcFilterBitMap; `tsrocket start` turns it on). */
  enableCalcFilterBitMap: boolean;
  /** Cap on how long a pull is held; kept below the clients' 30 s socket timeout (tsrocket). */
  longPollingHoldMsMax: number;
  /** How often held pulls are swept for their deadline (tsrocket). */
  longPollingSweepMs: number;
  /** Period of consumer offset persistence. */
  flushConsumerOffsetInterval: number;
  /** Period of the POP revive pass: unacked popped messages past their invisible time come back (ms). */
  reviveInterval: number;
  /** Queues of the revive log (rmq_sys_REVIVE_LOG_<cluster>) the pop check points spread over. */
  reviveQueueNum: number;
  /** Pops held waiting for messages at once; past it a pop is answered POLLING_FULL. */
  maxPopPollingSize: number;
  /** A client silent for longer than this is dropped (RocketMQ's channelExpiredTimeout). */
  channelExpiredTimeout: number;
  /** Producer and consumer registrations one connection may hold (tsrocket). */
  clientRegistrationsPerConnectionMax: number;
  /** Period of the idle-client scan (tsrocket). */
  clientScanIntervalMs: number;
  maxReconsumeTimesDefault: number;
  /** Largest total bytes in one pull response (tsrocket; RocketMQ maxTransferBytesOnMessageInMemory). */
  pullBytesMax: number;
  /** Largest maxMsgNums honoured in one pull. */
  pullMsgNumsMax: number;
  /** A queued send of a connection over its share is answered SYSTEM_BUSY after waiting this long (ms). */
  waitTimeMillsInSendQueue: number;
  /** Sends queued across connections past which a connection over its share is refused at once. */
  sendThreadPoolQueueCapacity: number;
  /** Sends of one connection processed at once; more wait in that connection's queue (tsrocket). */
  sendInFlightPerConnectionMax: number;
  /** Send body bytes processed at once across connections; more wait in their connections' queues (tsrocket). */
  sendInFlightBytesMax: number;
  /** Sends queued on one connection at which it is no longer read until half are served (tsrocket). */
  sendQueuedPerConnectionMax: number;
  /** Send body bytes queued across connections, like sendThreadPoolQueueCapacity (tsrocket). */
  sendQueueBytesMax: number;
  /** Age of a half message before its producer is asked about it (ms). */
  transactionTimeOut: number;
  /** Check-backs of one half message before it is rolled back. */
  transactionCheckMax: number;
  /** Period of the transaction check pass (ms). */
  transactionCheckInterval: number;
  /** Refuse transactional sends (NO_PERMISSION). */
  rejectTransactionMessage: boolean;
}

export const defaultBrokerConfig: Readonly<BrokerConfig> = defaultsOf<BrokerConfig>(brokerKeys);

const log = createLogger('broker.config');

/**
 * Defaults overlaid with `partial`, checked against the key table: a bad value or a feature not built yet
 * throws ConfigError; unknown keys are logged. An empty brokerIP1 is resolved to the address to register.
 */
export function brokerConfigOf(
  partial: Partial<BrokerConfig> = {},
  interfaces: NetworkInterfaces = os.networkInterfaces(),
): BrokerConfig {
  const resolved = resolveConfig(brokerSchema, [
    { kind: 'options', source: 'options', values: partial as Record<string, ConfigScalar | undefined> },
  ]);
  for (const w of resolved.warnings) log.warn(w.message, w.fields);
  return finish(pick(resolved.values, brokerKeys) as unknown as BrokerConfig, interfaces);
}

function finish(config: BrokerConfig, interfaces: NetworkInterfaces): BrokerConfig {
  if (config.brokerIP1 === '') config.brokerIP1 = advertisedIp(config.listenHost, interfaces);
  return config;
}

function pick(values: Record<string, ConfigScalar>, keys: object): Record<string, ConfigScalar> {
  const out: Record<string, ConfigScalar> = {};
  for (const k of Object.keys(keys)) out[k] = values[k] as ConfigScalar;
  return out;
}

/** What a broker starts from: a broker.conf, the launcher's own defaults, and command-line flags. */
export interface BrokerConfigSources {
  /** broker.conf path. */
  file?: string | undefined;
  /** Settings that replace built-in defaults but yield to the file (what `tsrocket start` picks). */
  defaults?: Partial<BrokerConfig> | undefined;
  /** Explicit settings (command-line flags): they win over the file, and a conflict is warned. */
  flags?: Partial<BrokerConfig> | undefined;
  /** How each flag is spelled on the command line ("--port"), for the conflict warning. */
  flagNames?: Partial<Record<keyof BrokerConfig, string>> | undefined;
  /** Store settings from code, over the file's store keys. */
  store?: Partial<StoreConfig> | undefined;
  interfaces?: NetworkInterfaces | undefined;
}

export interface LoadedBrokerConfig {
  broker: BrokerConfig;
  /** Store keys the file or `store` set; the store fills the rest. */
  store: Partial<StoreConfig>;
  warnings: ConfigWarning[];
  /** Keys set by the config file (and not overridden by a flag). */
  fromFile: ReadonlySet<string>;
}

/**
 * Merges built-in defaults < `defaults` < broker.conf < `flags`, checks every key against the broker and store
 * tables (ConfigError on a bad value or a feature not built yet), and splits broker from store keys.
 */
export async function loadBrokerConfig(src: BrokerConfigSources): Promise<LoadedBrokerConfig> {
  const values = (o: object | undefined) => (o ?? {}) as Record<string, ConfigScalar | undefined>;
  const layers: ConfigLayer[] = [{ kind: 'default', source: 'launcher defaults', values: values(src.defaults) }];
  if (src.file !== undefined) layers.push({ kind: 'file', source: src.file, values: await readConfigFile(src.file) });
  layers.push({ kind: 'flag', source: 'command line', values: values(src.flags), names: src.flagNames ?? {} });
  layers.push({ kind: 'options', source: 'store options', values: values(src.store) });
  const resolved = resolveConfig(brokerSchema, layers);
  const broker = finish(
    pick(resolved.values, brokerKeys) as unknown as BrokerConfig,
    src.interfaces ?? os.networkInterfaces(),
  );
  const store: Record<string, ConfigScalar> = {};
  for (const key of Object.keys(storeKeys)) {
    const by = resolved.setBy.get(key);
    if (by === 'file' || by === 'options') store[key] = resolved.values[key] as ConfigScalar;
  }
  const fromFile = new Set<string>();
  for (const [key, kind] of resolved.setBy) if (kind === 'file') fromFile.add(key);
  return { broker, store: store as Partial<StoreConfig>, warnings: resolved.warnings, fromFile };
}

/** NameServer addresses of `namesrvAddr` ("a:9876;b:9876"). */
export function namesrvAddrList(config: Pick<BrokerConfig, 'namesrvAddr'>): string[] {
  return config.namesrvAddr
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
