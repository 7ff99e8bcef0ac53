/** Builds the default store (the file store on node:fs) for a broker that was not handed one. */
import type { StoreConfig } from '../store/config.js';
import type { MessageStore } from '../store/types.js';
import { timerTagsCodeOf } from './timer/tags-code.js';

export async function createDefaultStore(config: Partial<StoreConfig>): Promise<MessageStore> {
  // Loaded lazily so the broker's own modules load without the file store (tests inject a store).
  const { createMessageStore, defaultTagsCodeOf } = await import('../store/index.js');
  return createMessageStore(config, { tagsCodeOf: timerTagsCodeOf(defaultTagsCodeOf) });
}
