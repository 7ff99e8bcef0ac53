/** Builds the default store (the file store) for a broker that was not handed one. */
import type { StoreConfig } from '../store/config.js';
import type { MessageStore } from '../store/types.js';

export function createDefaultStore(_config: Partial<StoreConfig>): MessageStore {
  throw new Error('the file store is not available yet: pass options.store');
}
