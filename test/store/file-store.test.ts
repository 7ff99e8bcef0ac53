import fs from 'node:fs/promises';
import { createMessageStore } from '../../src/store/index.js';
import { smallStore, tempDir } from './helpers.js';
import { storeSuite } from './suite.js';

for (const flushDiskType of ['ASYNC_FLUSH', 'SYNC_FLUSH'] as const) {
  storeSuite(`file ${flushDiskType}`, async () => {
    const dir = await tempDir();
    const store = createMessageStore({ storePathRootDir: dir, ...smallStore, flushDiskType });
    await store.start();
    return {
      store,
      close: async () => {
        await store.shutdown();
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  });
}
