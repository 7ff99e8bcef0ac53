/**
 * The read worker (read-worker.ts) is started with a store that has SQL92 filters registered in its filter bitmap,
 * so that the first filtered pulls do not wait for the thread to load; a store without filters starts none. Its
 * own file: the worker is one per process.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, test } from 'node:test';
import { bitmapPredicateOf } from '../../src/broker/filter/sql92-filter.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore, type StoreConfig } from '../../src/store/index.js';
import { readWorkerStats } from '../../src/store/read-worker.js';
import { msg, tempDir } from './helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

async function open(dir: string, more: Partial<StoreConfig> = {}): Promise<FileMessageStore> {
  const store = createMessageStore(
    { storePathRootDir: dir, sparseReadWorkerEnable: true, ...more },
    { filterBitmap: bitmapPredicateOf },
  ) as FileMessageStore;
  await store.start();
  return store;
}

test('a store with registered filters starts the read worker; without filters, or with the worker off, none', async () => {
  const dir = await tempDir('tsrocket-worker-start-');
  dirs.push(dir);
  let store = await open(dir);
  await store.putMessage(msg('T', 0, 'before any filter'));
  assert.equal(readWorkerStats().started, false, 'no filters: no worker');
  assert.ok(store.filterBitmap?.register('T', 'G', 'a = 1'));
  await store.shutdown();
  store = await open(dir, { sparseReadWorkerEnable: false });
  assert.equal(readWorkerStats().started, false, 'the worker is off');
  await store.shutdown();
  store = await open(dir);
  try {
    assert.equal(readWorkerStats().started, true, 'started with the store, before any pull');
    assert.equal(readWorkerStats().jobs, 0);
  } finally {
    await store.shutdown();
  }
});
