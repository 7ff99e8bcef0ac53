/** Standalone broker entry: `tsrocket broker -c broker.conf` and `tsrocket start` call runBroker. */

import { mergeConfig } from '../common/config.js';
import { defaultStoreConfig, type StoreConfig } from '../store/config.js';
import { Broker } from './broker.js';
import { type BrokerConfig, brokerConfigOf, loadBrokerConf } from './config.js';

/** Store keys of a broker.conf (MessageStoreConfig names), coerced to their default's type. */
function storeKeysOf(extra: Record<string, string>): Partial<StoreConfig> {
  const defaults = defaultStoreConfig() as unknown as Record<string, string | number | boolean>;
  const known = Object.fromEntries(Object.entries(extra).filter(([k]) => Object.hasOwn(defaults, k)));
  const { config } = mergeConfig(defaults, known);
  return Object.fromEntries(Object.keys(known).map((k) => [k, config[k]])) as Partial<StoreConfig>;
}

/**
 * Starts a broker from a broker.conf path or a config object; resolves once it serves and registered.
 * The caller owns shutdown (`await broker.close()` on SIGINT/SIGTERM) and says when it serves.
 */
export async function runBroker(
  configOrPath: string | Partial<BrokerConfig>,
  storeConfig: Partial<StoreConfig> = {},
  overrides: Partial<BrokerConfig> = {},
): Promise<Broker> {
  let config: BrokerConfig;
  let store: Partial<StoreConfig> = { ...storeConfig };
  if (typeof configOrPath === 'string') {
    const loaded = await loadBrokerConf(configOrPath);
    config = loaded.config;
    store = { ...storeKeysOf(loaded.extra), ...storeConfig };
  } else {
    config = brokerConfigOf(configOrPath);
  }
  config = brokerConfigOf({ ...config, ...overrides });
  const broker = new Broker(config, store);
  await broker.start();
  return broker;
}
