/** The store's entry point: `createMessageStore(config)` (the one factory) and the types the broker codes against. */
import type { PredicateCompiler } from './bitmap/filters.js';
import { resolveStoreConfig, type StoreConfig } from './config.js';
import { defaultTagsCodeOf, type TagsCodeOf } from './dispatch.js';
import { FileMessageStore } from './file-store.js';
import { type Clock, NodeStorageIO, type StorageIO, systemClock } from './io.js';
import { MemoryMessageStore } from './memory-store.js';
import type { MessageStore } from './types.js';

export type { PredicateCompiler, PropertiesPredicate } from './bitmap/filters.js';
export { defaultStoreConfig, FlushDiskType, resolveStoreConfig, type StoreConfig } from './config.js';
export { type Dispatcher, type DispatchRequest, defaultTagsCodeOf, type TagsCodeOf } from './dispatch.js';
export { FileMessageStore } from './file-store.js';
export { type Clock, ManualClock, NodeStorageIO, type StorageIO, systemClock } from './io.js';
export { MemoryMessageStore } from './memory-store.js';
export type { RecoveryReport } from './recovery.js';
export * from './types.js';

/** Options beyond RocketMQ's keys: injected storage and clock, and the tag-hash rule used when rebuilding. */
export interface StoreDeps {
  io?: StorageIO;
  clock?: Clock;
  /** Tag hash of a stored message when ConsumeQueues are rebuilt; default: the TAGS hash (`tagsCodeOf`). */
  tagsCodeOf?: TagsCodeOf;
  /** 'memory' gives a MemoryMessageStore (tests, embedded use without persistence). */
  kind?: 'file' | 'memory';
  /** Keeps the SQL92 filter bitmap (enableCalcFilterBitMap), compiling subscriptions with this (file store). */
  filterBitmap?: PredicateCompiler | undefined;
}

/** Creates a store (not started: call `start()`); file-backed unless `deps.kind` is 'memory'. */
export function createMessageStore(config: Partial<StoreConfig>, deps: StoreDeps = {}): MessageStore {
  const cfg = resolveStoreConfig(config);
  if (deps.kind === 'memory') return new MemoryMessageStore(cfg, deps.clock ?? systemClock);
  return new FileMessageStore(
    cfg,
    deps.io ?? new NodeStorageIO(),
    deps.clock ?? systemClock,
    deps.tagsCodeOf ?? defaultTagsCodeOf,
    deps.filterBitmap,
  );
}
