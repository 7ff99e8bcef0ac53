/** Standalone broker entry: `tsrocket broker -c broker.conf` and `tsrocket start` call runBroker. */
import { createLogger } from '../common/log.js';
import type { StoreConfig } from '../store/config.js';
import { Broker } from './broker.js';
import { type BrokerConfig, brokerConfigOf, loadBrokerConf } from './config.js';

const log = createLogger('broker');

/** Store keys a broker.conf may carry (MessageStoreConfig names); others in the file are ignored. */
const storeNumberKeys = new Set([
  'mappedFileSizeCommitLog',
  'mappedFileSizeConsumeQueue',
  'flushIntervalCommitLog',
  'flushIntervalConsumeQueue',
  'syncFlushTimeout',
  'fileReservedTime',
  'diskMaxUsedSpaceRatio',
  'maxMessageSize',
  'maxHashSlotNum',
  'maxIndexNum',
]);
const storeStringKeys = new Set(['storePathCommitLog', 'flushDiskType', 'deleteWhen']);

/**
 * Starts a broker from a broker.conf path or a config object; resolves once it serves and registered.
 * The caller owns shutdown (`await broker.close()` on SIGINT/SIGTERM).
 */
export async function runBroker(
  configOrPath: string | Partial<BrokerConfig>,
  storeConfig: Partial<StoreConfig> = {},
  overrides: Partial<BrokerConfig> = {},
): Promise<Broker> {
  let config: BrokerConfig;
  const store: Record<string, unknown> = { ...storeConfig };
  if (typeof configOrPath === 'string') {
    const loaded = await loadBrokerConf(configOrPath);
    config = loaded.config;
    for (const [k, v] of Object.entries(loaded.extra)) {
      if (storeNumberKeys.has(k)) store[k] = Number(v);
      else if (storeStringKeys.has(k)) store[k] = v;
    }
  } else {
    config = brokerConfigOf(configOrPath);
  }
  config = brokerConfigOf({ ...config, ...overrides });
  const broker = new Broker(config, store as Partial<StoreConfig>);
  await broker.start();
  log.info('broker serving', { port: broker.port, namesrvAddr: config.namesrvAddr || '(none)' });
  return broker;
}
