import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { allocate, allocationSupported, setAllocateCommandForTest } from '../../src/store/allocate.js';
import { createMessageStore } from '../../src/store/index.js';
import { type FileIO, NodeStorageIO } from '../../src/store/io.js';
import { segmentBody as body, checkAll, msg, recoversToEnd, tempDir, until } from './helpers.js';

const segBytes = 1024 * 1024;
const config = {
  mappedFileSizeCommitLog: segBytes,
  flushIntervalCommitLog: 50,
  flushIntervalConsumeQueue: 50,
} as const;

const segmentFile = (dir: string, start: number) => path.join(dir, 'commitlog', String(start).padStart(20, '0'));
const allocatedBytes = async (file: string) => (await fs.stat(file)).blocks * 512;

test('CommitLog segments have their blocks allocated before their first write (the active one at start, each next one); records intact, recovery ends at the true end (clean and crash)', {
  skip: !allocationSupported,
}, async () => {
  const dir = await tempDir();
  const copy = await tempDir();
  const store = createMessageStore({ storePathRootDir: dir, ...config });
  await store.start();
  const n = 3000;
  let end = 0n;
  try {
    // Before any put: the active segment and the one after it are allocated, although nothing is written.
    await until(() => Number(store.stats()['commitLogAllocatedSegments']) >= 2);
    assert.ok((await allocatedBytes(segmentFile(dir, 0))) >= segBytes, 'the active segment is allocated');
    assert.ok((await allocatedBytes(segmentFile(dir, segBytes))) >= segBytes, 'the next segment is allocated');
    for (let i = 0; i < n; i += 50) {
      const burst = [];
      for (let k = i; k < i + 50; k++) burst.push(store.putMessage(msg('T', 0, body(k))));
      for (const r of await Promise.all(burst)) assert.equal(r.status, 'PUT_OK');
    }
    end = store.getMaxPhyOffset();
    assert.ok(end > BigInt(2 * segBytes), 'the puts span three segments');
    // Each roll allocated the segment after the new active one.
    const segments = Math.floor(Number(end) / segBytes) + 2;
    await until(() => Number(store.stats()['commitLogAllocatedSegments']) >= segments);
    assert.equal(store.stats()['commitLogAllocateFailures'], 0);
    assert.ok((await allocatedBytes(segmentFile(dir, (segments - 1) * segBytes))) >= segBytes);
    await checkAll(store, n);
    // A crash image: the log copied while the store runs, no checkpoint or queues; its tail segment's unwritten
    // blocks read as zeros, so recovery must stop at the last record.
    await fs.cp(path.join(dir, 'commitlog'), path.join(copy, 'commitlog'), { recursive: true });
  } finally {
    await store.shutdown();
  }
  await recoversToEnd({ clean: dir, crash: copy }, config, end, n);
});

test('commitLogAllocateSegments=false leaves the segments sparse', { skip: !allocationSupported }, async () => {
  const dir = await tempDir();
  const store = createMessageStore({ storePathRootDir: dir, ...config, commitLogAllocateSegments: false });
  await store.start();
  try {
    for (let i = 0; i < 20; i++) assert.equal((await store.putMessage(msg('T', 0, body(i)))).status, 'PUT_OK');
    assert.equal(store.stats()['commitLogAllocatedSegments'], 0);
    assert.ok((await allocatedBytes(segmentFile(dir, segBytes))) < segBytes / 2, 'the next segment is sparse');
  } finally {
    await store.shutdown();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('allocate goes through the open descriptor: a segment deleted meanwhile is not created again', {
  skip: !allocationSupported,
}, async () => {
  const dir = await tempDir();
  const io = new NodeStorageIO();
  const file = path.join(dir, 'seg');
  const f = await io.open(file);
  try {
    await f.truncate(segBytes);
    await fs.unlink(file);
    await allocate(f, 0, segBytes);
    await assert.rejects(fs.stat(file), { code: 'ENOENT' });
  } finally {
    await f.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('allocate refuses a file without a descriptor to lease (the fault-injecting files)', async () => {
  const f = { path: '/nowhere' } as unknown as FileIO;
  await assert.rejects(allocate(f, 0, segBytes), /descriptor|Linux/);
});

test('without fallocate the store works as before: the failures are counted, segments stay sparse', {
  skip: !allocationSupported,
}, async () => {
  setAllocateCommandForTest('tsrocket-no-such-fallocate');
  const dir = await tempDir();
  const store = createMessageStore({ storePathRootDir: dir, ...config });
  await store.start();
  try {
    await until(() => Number(store.stats()['commitLogAllocateFailures']) >= 2);
    for (let i = 0; i < 3000; i++) assert.equal((await store.putMessage(msg('T', 0, body(i)))).status, 'PUT_OK');
    assert.equal(store.stats()['commitLogAllocatedSegments'], 0);
    await checkAll(store, 3000);
  } finally {
    await store.shutdown();
    setAllocateCommandForTest('fallocate');
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the disk watermark does not count blocks allocated ahead of the writes: a disk over the limit only by them accepts puts', {
  skip: !allocationSupported,
}, async () => {
  const dir = await tempDir();
  const totalBytes = 100 * 1024 * 1024;
  // The file system as statfs would show it: 91 % used, of which the two allocated 1 MiB segments are part.
  class Nearly extends NodeStorageIO {
    override diskUsage() {
      const freeBytes = totalBytes * 0.09;
      return Promise.resolve({ usedRatio: 1 - freeBytes / totalBytes, totalBytes, freeBytes });
    }
  }
  const store = createMessageStore(
    { storePathRootDir: dir, ...config, diskSpaceWarningLevelRatio: 0.9 },
    { io: new Nearly() },
  );
  await store.start();
  try {
    await until(() => Number(store.stats()['commitLogAllocatedSegments']) >= 2);
    await (store as unknown as { checkDiskNow(): Promise<void> }).checkDiskNow();
    const ratio = Number(store.stats()['diskUsedRatio']);
    assert.ok(ratio < 0.9 && ratio > 0.88, `ratio ${ratio}: 0.91 less the 2 MiB allocated ahead`);
    assert.equal((await store.putMessage(msg('T', 0, body(0)))).status, 'PUT_OK');
  } finally {
    await store.shutdown();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
