/**
 * A read worker without jobs for `TSROCKET_NATIVE_SPARSE_IDLE_MS` drops its mappings (the broker's RSS goes back to
 * what it was), and maps again when filtered pulls come back. Its own file: the option is read when the store's
 * modules load (imported below after setting it short).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

process.env.TSROCKET_NATIVE_SPARSE_IDLE_MS = '200';
const { bitmapPredicateOf, compiledSql92, sqlMessageFilter } = await import('../../src/broker/filter/sql92-filter.js');
const { GetStatus } = await import('../../src/store/index.js');
const { ReadWorker, sparseReadOptions } = await import('../../src/store/read-worker.js');
const { reopenedBitmapStore, tempDir } = await import('./helpers.js');

const built = fs.existsSync(fileURLToPath(new URL('../../native/sparse-read.node', import.meta.url)));
const native = built
  ? (createRequire(import.meta.url)(fileURLToPath(new URL('../../native/sparse-read.node', import.meta.url))) as {
      mapping: boolean;
    })
  : undefined;
const skip =
  native?.mapping !== true || process.platform !== 'linux' || sparseReadOptions.mode !== 'map'
    ? 'native/sparse-read.c not built here, or its mapping turned off'
    : false;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('after the idle time without jobs the worker unmaps its segments; pulls that come back map them again', {
  skip,
}, async () => {
  assert.equal(sparseReadOptions.idleMs, 200);
  const dir = await tempDir('tsrocket-idle-');
  dirs.push(dir);
  const expression = 'bucket = 7';
  const store = await reopenedBitmapStore(dir, expression, bitmapPredicateOf, 'z');
  const segment = path.join(dir, 'commitlog', '0'.repeat(20));
  const mapped = () => fs.readFileSync('/proc/self/maps', 'utf8').includes(segment);
  try {
    const worker = ReadWorker.shared();
    assert.ok(worker !== undefined);
    const c = compiledSql92(expression);
    assert.ok(c.ok);
    const probe = store.filterBitmap?.probe('T', 'G', expression);
    assert.ok(probe !== undefined);
    const filter = sqlMessageFilter(c.filter, probe);
    /** Pulls the queue to its end until the worker has read (a pause after slow wake-ups ended first). */
    const pullUntilRead = async () => {
      const jobs = worker.jobsRun;
      for (let round = 0; round < 50 && worker.jobsRun === jobs; round++) {
        for (let i = 0; i < 4 && worker.noteWake(1, performance.now() - 2000) === false; i++);
        let offset = 0n;
        for (;;) {
          const r = await store.getMessage('T', 0, offset, 8, 1024 * 1024, filter);
          if (r.status === GetStatus.FOUND) assert.ok(r.records.length > 0);
          r.release?.();
          offset = r.nextBeginOffset;
          if (offset >= r.maxOffset) break;
        }
      }
      assert.ok(worker.jobsRun > jobs, 'the worker read');
    };
    await pullUntilRead();
    // Pulls keep coming: mapped. (The worker answered before the pull resolved, so it maps before this look.)
    assert.ok(mapped(), 'mapped while read');
    for (let i = 0; i < 3000 && mapped(); i++) await sleep(10);
    assert.equal(mapped(), false, 'unmapped after the idle time');
    await pullUntilRead();
    assert.ok(mapped(), 'mapped again');
  } finally {
    await store.shutdown();
  }
});
