/** Builds the default store (the file store on node:fs) for a broker that was not handed one. */

import type { PredicateCompiler } from '../store/bitmap/filters.js';
import type { StoreConfig } from '../store/config.js';
import type { TagsCodeOf } from '../store/dispatch.js';
import type { MessageStore } from '../store/types.js';

export async function createDefaultStore(
  config: Partial<StoreConfig>,
  deps: { tagsCodeOf?: TagsCodeOf; filterBitmap?: PredicateCompiler | undefined } = {},
): Promise<MessageStore> {
  // Loaded lazily so the broker's own modules load without the file store (tests inject a store).
  const { createMessageStore } = await import('../store/index.js');
  return createMessageStore(config, deps);
}
