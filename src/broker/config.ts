/**
 * Broker configuration. Key names are RocketMQ's (BrokerConfig / broker.conf) so existing broker.conf files
 * load unchanged; keys RocketMQ does not have are marked "tsrocket".
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mergeConfig, parseProperties } from '../common/config.js';

export interface BrokerConfig {
  brokerClusterName: string;
  brokerName: string;
  /** 0 = master. */
  brokerId: number;
  /** 0 = ephemeral (tests). */
  listenPort: number;
  /** "host:port;host:port", empty = no NameServer. */
  namesrvAddr: string;
  /** Address advertised to NameServers and written as store host. */
  brokerIP1: string;
  /** Host to bind (tsrocket). */
  listenHost: string;
  autoCreateTopicEnable: boolean;
  autoCreateSubscriptionGroup: boolean;
  defaultTopicQueueNums: number;
  /** PermName bits: 2 write, 4 read. */
  brokerPermission: number;
  registerBrokerTimeoutMills: number;
  /** Period of REGISTER_BROKER to every NameServer. */
  registerNameServerPeriod: number;
  storePathRootDir: string;
  regionId: string;
  traceOn: boolean;
  /** Largest message body accepted (RocketMQ's maxMessageSize). */
  maxMessageSize: number;
  /** Largest encoded properties string (tsrocket). */
  maxPropertiesBytes: number;
  longPollingEnable: boolean;
  /** Cap on how long a pull is held; kept below the clients' 30 s socket timeout (tsrocket). */
  longPollingHoldMsMax: number;
  /** How often held pulls are swept for their deadline (tsrocket). */
  longPollingSweepMs: number;
  /** Period of consumer offset persistence. */
  flushConsumerOffsetInterval: number;
  /** A client silent for longer than this is dropped (RocketMQ's channelExpiredTimeout). */
  channelExpiredTimeout: number;
  /** Period of the idle-client scan (tsrocket). */
  clientScanIntervalMs: number;
  /** Fixed redelivery delay of sent-back messages until delay levels land (tsrocket). */
  sendBackDelayMs: number;
  maxReconsumeTimesDefault: number;
  /** Largest total bytes in one pull response (tsrocket; RocketMQ maxTransferBytesOnMessageInMemory). */
  pullBytesMax: number;
  /** Largest maxMsgNums honoured in one pull. */
  pullMsgNumsMax: number;
}

export const defaultBrokerConfig: Readonly<BrokerConfig> = {
  brokerClusterName: 'DefaultCluster',
  brokerName: 'broker-a',
  brokerId: 0,
  listenPort: 10911,
  namesrvAddr: '',
  brokerIP1: '127.0.0.1',
  listenHost: '0.0.0.0',
  autoCreateTopicEnable: true,
  autoCreateSubscriptionGroup: true,
  defaultTopicQueueNums: 8,
  brokerPermission: 6,
  registerBrokerTimeoutMills: 6000,
  registerNameServerPeriod: 30_000,
  storePathRootDir: path.join(os.homedir(), 'store'),
  regionId: 'DefaultRegion',
  traceOn: true,
  maxMessageSize: 4 * 1024 * 1024,
  maxPropertiesBytes: 32 * 1024 - 1,
  longPollingEnable: true,
  longPollingHoldMsMax: 25_000,
  longPollingSweepMs: 200,
  flushConsumerOffsetInterval: 5000,
  channelExpiredTimeout: 120_000,
  clientScanIntervalMs: 10_000,
  sendBackDelayMs: 1000,
  maxReconsumeTimesDefault: 16,
  pullBytesMax: 4 * 1024 * 1024,
  pullMsgNumsMax: 1024,
};

/** Defaults overlaid with `partial`. */
export function brokerConfigOf(partial: Partial<BrokerConfig> = {}): BrokerConfig {
  const out: BrokerConfig = { ...defaultBrokerConfig };
  for (const [k, v] of Object.entries(partial)) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

/**
 * Parses a broker.conf (Java properties: `key=value`, `#`/`!` comments). Keys of BrokerConfig are coerced to
 * their type (a bad value is an InvalidArgumentError naming the key); the others are returned in `extra`
 * (store keys, keys we do not implement yet).
 */
export function parseBrokerConf(text: string): { config: BrokerConfig; extra: Record<string, string> } {
  const { config, unknown } = mergeConfig(
    defaultBrokerConfig as unknown as Record<string, string | number | boolean>,
    parseProperties(text),
  );
  return { config: config as unknown as BrokerConfig, extra: unknown };
}

export async function loadBrokerConf(file: string): Promise<{ config: BrokerConfig; extra: Record<string, string> }> {
  return parseBrokerConf(await readFile(file, 'utf8'));
}

/** NameServer addresses of `namesrvAddr` ("a:9876;b:9876"). */
export function namesrvAddrList(config: BrokerConfig): string[] {
  return config.namesrvAddr
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
