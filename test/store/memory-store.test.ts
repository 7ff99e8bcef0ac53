import { createMessageStore } from '../../src/store/index.js';
import { storeSuite } from './suite.js';

storeSuite('memory', async () => {
  const store = createMessageStore({ storePathRootDir: '/nonexistent' }, { kind: 'memory' });
  await store.start();
  return { store, close: () => store.shutdown() };
});
