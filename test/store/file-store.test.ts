import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { test } from 'node:test';
import { decodeRecord } from '../../src/common/record.js';
import { createMessageStore } from '../../src/store/index.js';
import { msg, smallStore, tempDir } from './helpers.js';
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

test('readLogNow: the recent records of several puts in one read, cut at the visible end; none past it', async () => {
  const dir = await tempDir();
  const store = createMessageStore({ storePathRootDir: dir, ...smallStore });
  await store.start();
  try {
    const puts = [];
    for (let i = 0; i < 3; i++) puts.push(await store.putMessage(msg('T', 0, `body ${i}`)));
    const first = Number(puts[0]?.wroteOffset);
    const end = Number(store.getMaxPhyOffset());
    const bytes = store.readLogNow?.(first, 1 << 20);
    assert.ok(bytes !== undefined);
    assert.equal(bytes.length, end - first, 'cut at the visible end');
    let pos = 0;
    for (let i = 0; i < 3; i++) {
      const { msg: m, size } = decodeRecord(bytes, pos);
      assert.equal(m.body.toString(), `body ${i}`);
      assert.equal(m.commitLogOffset, puts[i]?.wroteOffset);
      pos += size;
    }
    assert.equal(store.readLogNow?.(end, 100), undefined, 'nothing visible there yet');
  } finally {
    await store.shutdown();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
