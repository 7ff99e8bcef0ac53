import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { test } from 'node:test';
import { decodeRecords } from '../../src/common/record.js';
import { encodeFrameParts } from '../../src/remoting/codec.js';
import { createRequest } from '../../src/remoting/command.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore, GetStatus } from '../../src/store/index.js';
import { msg, smallStore, tempDir } from './helpers.js';

test('pull reads: body slices equal the records, across runs, gaps and segments, with and without filters', async () => {
  const d = await tempDir();
  const s = createMessageStore({ storePathRootDir: d, ...smallStore }) as FileMessageStore;
  await s.start();
  try {
    // Queue 0 gets runs of 1..5 records between other queues' records (small and large gaps).
    let n = 0;
    for (let round = 0; round < 40; round++) {
      for (let k = 0; k <= round % 5; k++) await s.putMessage(msg('RP', 0, `q0-${n++}`, { tag: n % 2 ? 'a' : 'b' }));
      const filler = round % 7 === 0 ? 40 : 1;
      for (let k = 0; k < filler; k++) await s.putMessage(msg('RP', 1, 'x'.repeat(round % 3 === 0 ? 2000 : 10)));
    }
    const r = await s.getMessage('RP', 0, 0n, 1000, 1 << 24);
    assert.equal(r.status, GetStatus.FOUND);
    assert.equal(r.recordCount, n);
    assert.equal(r.records.length, n);
    const parts = r.bodyParts ?? [];
    assert.ok(parts.length < n, `contiguous records share a slice (${parts.length} parts for ${n})`);
    assert.deepEqual(Buffer.concat(parts), Buffer.concat(r.records));
    const bodies = decodeRecords(Buffer.concat(parts)).map((m) => m.body.toString());
    assert.deepEqual(
      bodies,
      Array.from({ length: n }, (_, i) => `q0-${i}`),
    );
    assert.deepEqual(
      r.queueOffsets,
      Array.from({ length: n }, (_, i) => BigInt(i)),
    );
    // From an offset in the middle, and a tag filter that leaves holes in the runs.
    const mid = await s.getMessage('RP', 0, 7n, 10, 1 << 24);
    assert.deepEqual(
      mid.queueOffsets,
      Array.from({ length: 10 }, (_, i) => BigInt(7 + i)),
    );
    const tagA = await s.getMessage('RP', 0, 0n, 1000, 1 << 24, { isMatchedByTagsCode: (c) => c === 97n });
    assert.deepEqual(Buffer.concat(tagA.bodyParts ?? []), Buffer.concat(tagA.records));
    assert.ok(decodeRecords(Buffer.concat(tagA.records)).every((m) => m.properties.get('TAGS') === 'a'));
    // A frame with body slices is the frame with the concatenated body.
    const req = createRequest(11, { a: 1 });
    const whole = Buffer.concat(encodeFrameParts({ ...req, body: Buffer.concat(parts) }));
    assert.deepEqual(Buffer.concat(encodeFrameParts({ ...req, bodyParts: parts })), whole);
  } finally {
    await s.shutdown();
    await fs.rm(d, { recursive: true, force: true });
  }
});
