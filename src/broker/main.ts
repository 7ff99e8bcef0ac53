/** Standalone broker entry: `tsrocket broker -c broker.conf` and `tsrocket start` start a broker through here. */

import type { ConfigWarning } from '../common/config.js';
import { createLogger, type Logger } from '../common/log.js';
import type { StoreConfig } from '../store/config.js';
import { Broker, type BrokerOptions } from './broker.js';
import { type BrokerConfig, type LoadedBrokerConfig, loadBrokerConfig } from './config.js';

/** Logs config warnings, one line each (unknown key with the nearest known one, flag over file, inert key). */
export function logConfigWarnings(warnings: readonly ConfigWarning[], log: Logger = createLogger('config')): void {
  for (const w of warnings) log.warn(w.message, w.fields);
}

/** Starts a broker from a loaded configuration; resolves once it serves and registered. */
export async function startBroker(
  loaded: Pick<LoadedBrokerConfig, 'broker' | 'store'>,
  options: BrokerOptions = {},
): Promise<Broker> {
  const broker = new Broker(loaded.broker, loaded.store, options);
  await broker.start();
  return broker;
}

/**
 * Starts a broker from a broker.conf path or a config object (`overrides` win, as command-line flags do);
 * logs config warnings; throws ConfigError on a refused key. The caller owns shutdown (`await broker.close()`
 * on SIGINT/SIGTERM) and says when it serves.
 */
export async function runBroker(
  configOrPath: string | Partial<BrokerConfig>,
  storeConfig: Partial<StoreConfig> = {},
  overrides: Partial<BrokerConfig> = {},
): Promise<Broker> {
  const loaded = await loadBrokerConfig(
    typeof configOrPath === 'string'
      ? { file: configOrPath, flags: overrides, store: storeConfig }
      : { defaults: configOrPath, flags: overrides, store: storeConfig },
  );
  logConfigWarnings(loaded.warnings);
  return startBroker(loaded);
}
