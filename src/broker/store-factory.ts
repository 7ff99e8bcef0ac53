/** Builds the default store (the file store on node:fs) for a broker that was not handed one. */
import { Prop } from '../common/properties.js';
import { resolveStoreConfig, type StoreConfig } from '../store/config.js';
import type { MessageStore } from '../store/types.js';
import { tagsCodeOf } from './tag-filter.js';

export async function createDefaultStore(config: Partial<StoreConfig>): Promise<MessageStore> {
  // Loaded lazily so the broker's own modules load without the file store (tests inject a store).
  const [{ FileMessageStore }, { NodeStorageIO, systemClock }] = await Promise.all([
    import('../store/file-store.js'),
    import('../store/io.js'),
  ]);
  return new FileMessageStore(resolveStoreConfig(config), new NodeStorageIO(), systemClock, (_topic, props) =>
    tagsCodeOf(props.get(Prop.tags)),
  );
}
