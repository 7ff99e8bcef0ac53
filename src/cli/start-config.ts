/**
 * The broker configuration of `tsrocket start`, shared by its in-process broker and by each broker process of
 * `--brokers N` (src/cli/broker-child.ts), so both read broker.conf and the flags the same way.
 */
import { join } from 'node:path';
import type { LoadedBrokerConfig } from '../broker/config.js';
import { InvalidArgumentError } from '../common/errors.js';
import type { Logger } from '../common/log.js';

/** What the broker(s) of `tsrocket start` are built from (the JSON a broker process is started with). */
export interface StartBrokerInput {
  /** Absolute data directory. */
  dataDir: string;
  /** --data was given: the broker's store goes under it even when broker.conf sets storePathRootDir. */
  dataDirGiven?: boolean | undefined;
  /** Explicit broker port; undefined = listenPort of broker.conf, else 10911. */
  brokerPort?: number | undefined;
  /** Explicit gRPC port; undefined = grpcServerPort of broker.conf, else 8081 (0 when brokerPort is 0). */
  grpcPort?: number | undefined;
  noGrpc?: boolean | undefined;
  host?: string | undefined;
  brokerConfigFile?: string | undefined;
}

/** Most brokers `--brokers` starts (broker-a … broker-p). */
export const startBrokersMax = 16;
/** Port distance between the brokers of one host, as in RocketMQ's multi-broker examples (10911, 10921, …):
 * the HA (+1) and fast (-2) ports of each stay free. */
export const brokerPortStep = 10;

/** brokerName of member `index` of `--brokers N`: broker-a, broker-b, … */
export function memberName(index: number): string {
  return `broker-${String.fromCharCode(97 + index)}`;
}

/** `--brokers` as a number (1 when not given); InvalidArgumentError otherwise. */
export function brokersFlag(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 1 || n > startBrokersMax) {
    throw new InvalidArgumentError(`--brokers: expected a whole number from 1 to ${startBrokersMax}, got "${text}"`);
  }
  return n;
}

/** Loads and checks the broker configuration of `tsrocket start` (defaults < broker.conf < flags). */
export async function loadStartBrokerConfig(opts: StartBrokerInput): Promise<LoadedBrokerConfig> {
  const { loadBrokerConfig } = await import('../broker/config.js');
  const brokerStore = join(opts.dataDir, 'broker');
  return loadBrokerConfig({
    file: opts.brokerConfigFile,
    // SQL92 (with its bitmap index) and the trace topic on by default: RocketMQ ships them off and users trip on it.
    defaults: {
      listenPort: 10911,
      listenHost: '0.0.0.0',
      storePathRootDir: brokerStore,
      enablePropertyFilter: true,
      enableCalcFilterBitMap: true,
      traceTopicEnable: true,
      // RocketMQ 5 clients served too; ephemeral with an ephemeral broker port, so test systems never collide.
      enableGrpc: true,
      grpcServerPort: opts.brokerPort === 0 ? 0 : 8081,
    },
    flags: {
      listenPort: opts.brokerPort,
      grpcServerPort: opts.grpcPort,
      enableGrpc: opts.noGrpc === true ? false : undefined,
      listenHost: opts.host,
      storePathRootDir: opts.dataDirGiven === true ? brokerStore : undefined,
    },
    flagNames: {
      listenPort: '--broker-port',
      grpcServerPort: '--grpc-port',
      enableGrpc: '--no-grpc',
      listenHost: '--host',
      storePathRootDir: '--data',
    },
  });
}

/**
 * Makes `loaded` member `index` of `--brokers N`: its own brokerName, ports (listenPort + 10 × index, gRPC port +
 * index; 0 stays 0) and store directory (<data>/broker-x, or <storePathRootDir of broker.conf>/broker-x). Every
 * member keeps brokerClusterName, so they register as one cluster. A broker.conf that places the CommitLog or
 * another store file itself would put every member's files in one place: refused.
 */
export function makeMember(loaded: LoadedBrokerConfig, opts: StartBrokerInput, index: number): void {
  for (const key of loaded.fromFile) {
    if (key.startsWith('storePath') && key !== 'storePathRootDir') {
      throw new InvalidArgumentError(
        `--brokers: ${key} of broker.conf would be shared by every broker; set only storePathRootDir`,
      );
    }
  }
  const b = loaded.broker;
  const name = memberName(index);
  b.brokerName = name;
  if (b.listenPort !== 0) b.listenPort += brokerPortStep * index;
  if (b.grpcServerPort !== 0) b.grpcServerPort += index;
  const root =
    opts.dataDirGiven === true || !loaded.fromFile.has('storePathRootDir') ? opts.dataDir : b.storePathRootDir;
  b.storePathRootDir = join(root, name);
  if (loaded.store.storePathRootDir !== undefined) loaded.store.storePathRootDir = b.storePathRootDir;
}

/**
 * Points the broker at the embedded NameServer `namesrvAddr` (unless broker.conf names its own NameServers) and
 * returns the address whose registrations go in-process.
 */
export async function registerWithEmbedded(
  loaded: LoadedBrokerConfig,
  namesrvAddr: string,
  namesrvPort: number,
  log: Logger,
): Promise<string> {
  if (!loaded.fromFile.has('namesrvAddr')) {
    loaded.broker.namesrvAddr = namesrvAddr;
    return namesrvAddr;
  }
  const { namesrvAddrList } = await import('../broker/config.js');
  const listed = namesrvAddrList(loaded.broker).find((a) => a.endsWith(`:${namesrvPort}`));
  if (listed !== undefined) return listed;
  log.warn('the broker registers with namesrvAddr of the config file, not with the embedded NameServer', {
    namesrvAddr: loaded.broker.namesrvAddr,
    embedded: namesrvAddr,
  });
  return namesrvAddr;
}
