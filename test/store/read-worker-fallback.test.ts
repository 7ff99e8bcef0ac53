/**
 * The read worker without its native module (`TSROCKET_NATIVE_SPARSE=off`, as on a machine without a C compiler):
 * it reads with fs.readSync, maps nothing, and filtered pulls deliver the same records. Its own file: the option is
 * read when the store's modules load (imported below after setting it).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

process.env.TSROCKET_NATIVE_SPARSE = 'off';
const { bitmapPredicateOf, compiledSql92, sqlMessageFilter } = await import('../../src/broker/filter/sql92-filter.js');
const { decodeRecord } = await import('../../src/common/record.js');
const { GetStatus } = await import('../../src/store/index.js');
const { ReadWorker, sparseOptionsOf, sparseReadOptions } = await import('../../src/store/read-worker.js');
const { reopenedBitmapStore, tempDir } = await import('./helpers.js');

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('the options: off, pread, map (the default), the bound on mapped bytes, the idle time', () => {
  assert.equal(sparseReadOptions.mode, 'off');
  assert.deepEqual(sparseOptionsOf({}), { mode: 'map', mapBytesMax: 256 * 1024 * 1024, idleMs: 30_000 });
  assert.deepEqual(
    sparseOptionsOf({
      TSROCKET_NATIVE_SPARSE: 'pread',
      TSROCKET_NATIVE_SPARSE_MAP_MB: '64',
      TSROCKET_NATIVE_SPARSE_IDLE_MS: '500',
    }),
    { mode: 'pread', mapBytesMax: 64 * 1024 * 1024, idleMs: 500 },
  );
  assert.equal(sparseOptionsOf({ TSROCKET_NATIVE_SPARSE_MAP_MB: 'lots' }).mapBytesMax, 256 * 1024 * 1024);
});

test('with the native reads off the worker reads with fs.readSync: the same records, nothing mapped', async () => {
  const dir = await tempDir('tsrocket-fallback-');
  dirs.push(dir);
  const expression = 'bucket = 7';
  const store = await reopenedBitmapStore(dir, expression, bitmapPredicateOf, 'y');
  try {
    const worker = ReadWorker.shared();
    assert.ok(worker !== undefined);
    const c = compiledSql92(expression);
    assert.ok(c.ok);
    const probe = store.filterBitmap?.probe('T', 'G', expression);
    assert.ok(probe !== undefined);
    const filter = sqlMessageFilter(c.filter, probe);
    const jobs = worker.jobsRun;
    for (let pass = 0; pass < 3; pass++) {
      for (let i = 0; i < 4 && worker.noteWake(1, performance.now() - 2000) === false; i++);
      const got: number[] = [];
      let offset = 0n;
      for (;;) {
        const r = await store.getMessage('T', 0, offset, 8, 1024 * 1024, filter);
        if (r.status === GetStatus.FOUND)
          for (const rec of r.records) {
            const m = decodeRecord(rec).msg;
            assert.equal(m.body.toString(), `m${m.queueOffset}-${'y'.repeat(300)}`);
            got.push(Number(m.queueOffset));
          }
        r.release?.();
        offset = r.nextBeginOffset;
        if (offset >= r.maxOffset) break;
      }
      assert.deepEqual(
        got,
        Array.from({ length: 20 }, (_, k) => k * 100 + 7),
      );
    }
    assert.ok(worker.jobsRun > jobs, 'the worker read');
    const maps = fs.readFileSync('/proc/self/maps', 'utf8');
    assert.equal(maps.includes(path.join(dir, 'commitlog')), false, 'no segment mapped');
  } finally {
    await store.shutdown();
  }
});
