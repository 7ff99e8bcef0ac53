/** LocalFileOffsetStore (broadcasting): overlapping persists never race on the shared temp file. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalFileOffsetStore } from '../../src/client/offset-store.js';

test('overlapping persistAll calls all succeed and the file ends with the latest offsets', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-offsets-'));
  try {
    const path = join(dir, 'g', 'offsets.json');
    const store = new LocalFileOffsetStore(path);
    const mq = { topic: 'T', brokerName: 'b', queueId: 0 };
    const writes: Promise<void>[] = [];
    for (let i = 1; i <= 20; i++) {
      store.update(mq, BigInt(i), false);
      writes.push(store.persistAll());
    }
    await Promise.all(writes);
    const saved = JSON.parse(await readFile(path, 'utf8')) as { offsetTable: Record<string, { offset: string }> };
    assert.deepEqual(
      Object.values(saved.offsetTable).map((e) => e.offset),
      ['20'],
    );
    const again = new LocalFileOffsetStore(path);
    await again.load();
    assert.equal(await again.storedOffset(mq), 20n);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
