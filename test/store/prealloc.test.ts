import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createMessageStore } from '../../src/store/index.js';
import { NodeStorageIO } from '../../src/store/io.js';
import { SegmentPrealloc } from '../../src/store/prealloc.js';
import { Segments } from '../../src/store/segments.js';
import { segmentBody as body, checkAll, msg, recoversToEnd, tempDir, until } from './helpers.js';

const segBytes = 1024 * 1024;
const config = {
  mappedFileSizeCommitLog: segBytes,
  commitLogPreallocateAheadBytes: 768 * 1024,
  flushIntervalCommitLog: 50,
  flushIntervalConsumeQueue: 50,
} as const;

test('zeros are kept written ahead of the CommitLog tail while puts run; records intact, recovery ends at the true end (clean and crash)', async () => {
  const dir = await tempDir();
  const copy = await tempDir();
  const store = createMessageStore({ storePathRootDir: dir, ...config });
  await store.start();
  const n = 3000;
  let end = 0n;
  try {
    // Concurrent bursts, so batches are written while zero jobs run just ahead of them.
    for (let i = 0; i < n; i += 50) {
      const burst = [];
      for (let k = i; k < i + 50; k++) burst.push(store.putMessage(msg('T', 0, body(k))));
      for (const r of await Promise.all(burst)) assert.equal(r.status, 'PUT_OK');
    }
    end = store.getMaxPhyOffset();
    assert.ok(end > BigInt(2 * segBytes), 'the puts span three segments');
    await until(() => Number(store.stats()['commitLogPreallocatedBytes']) > 0);
    // Blocks past the tail are allocated: the tail segment holds more blocks than its records need.
    const tailStart = Math.floor(Number(end) / segBytes) * segBytes;
    const tailFile = path.join(dir, 'commitlog', String(tailStart).padStart(20, '0'));
    await until(async () => (await fs.stat(tailFile)).blocks * 512 > Number(end) - tailStart + 64 * 1024);
    await checkAll(store, n);
    // The CommitLog copied while the store runs, with no checkpoint or queues: a crash image whose recovery scans
    // the log and must stop at the last record although zeros follow it.
    await fs.cp(path.join(dir, 'commitlog'), path.join(copy, 'commitlog'), { recursive: true });
  } finally {
    await store.shutdown();
  }
  await recoversToEnd({ clean: dir, crash: copy }, config, end, n);
});

test('SegmentPrealloc: zero jobs start a chunk past the reserve offset, a batch reaching one waits for it, the window fills', async () => {
  const dir = await tempDir();
  const segs = new Segments(new NodeStorageIO(), dir, 64 * 1024);
  await segs.load();
  await segs.extendTo(0);
  segs.add();
  const errors: Error[] = [];
  let reserve = 1000;
  const p = new SegmentPrealloc(
    segs,
    64 * 1024,
    (err) => errors.push(err),
    () => reserve,
  );
  try {
    p.advance();
    // Chunks are a quarter segment (16 KiB): the first starts at 32 KiB, one chunk past 1000 rounded up.
    assert.equal(p.clearFor(32 * 1024), undefined, 'a batch below the running job writes at once');
    const wait = p.clearFor(32 * 1024 + 1);
    assert.ok(wait !== undefined, 'a batch reaching into the running job waits');
    await wait;
    // Batches reserved since the last call are seen: the next job starts a chunk past the reserve offset now.
    reserve = 40 * 1024;
    await until(() => p.aheadOf(40 * 1024) >= 64 * 1024);
    await p.stop();
    assert.ok(p.stats.bytesZeroed >= 48 * 1024, 'the window filled');
    assert.ok(p.stats.bytesZeroed <= p.aheadOf(0) - 32 * 1024, 'zeros from 32 KiB on, none below');
    assert.ok(p.stats.jobs >= 4);
    assert.deepEqual(errors, []);
    // A cut frees the blocks past it: nothing is claimed beyond it any more.
    p.cutTo(2000);
    assert.equal(p.aheadOf(2000), 0);
  } finally {
    await p.stop();
    await segs.closeAll();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('SegmentPrealloc: a failed zero job (EBADF here; ENOSPC, EIO alike) is counted and logged, frees its range at once, pauses the zeros', async () => {
  const dir = await tempDir();
  const real = new NodeStorageIO();
  const readOnly: number[] = [];
  // The real files, but the descriptor lent to the worker is read-only: its writes fail as a full or broken disk's.
  const io = Object.create(real) as NodeStorageIO;
  io.open = async (file: string) => {
    const f = await real.open(file);
    const fd = openSync(file, 'r');
    readOnly.push(fd);
    f.leaseFd = () => fd;
    f.endLease = () => undefined;
    return f;
  };
  const segs = new Segments(io, dir, 64 * 1024);
  await segs.load();
  await segs.extendTo(0);
  const errors: Error[] = [];
  const p = new SegmentPrealloc(
    segs,
    64 * 1024,
    (err) => errors.push(err),
    () => 0,
  );
  try {
    p.advance();
    const wait = p.clearFor(64 * 1024);
    assert.ok(wait !== undefined);
    await wait;
    await until(() => p.stats.failures === 1);
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /EBADF/);
    assert.equal(p.aheadOf(0), 0, 'nothing claimed');
    p.advance();
    assert.equal(p.clearFor(64 * 1024), undefined, 'no new job during the pause');
    assert.equal(p.stats.jobs, 1);
  } finally {
    await p.stop();
    await segs.closeAll();
    for (const fd of readOnly) closeSync(fd);
    await fs.rm(dir, { recursive: true, force: true });
  }
});
