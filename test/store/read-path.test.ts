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

test('cold reads: shared blocks and ConsumeQueue read-ahead return exactly what direct reads return', async () => {
  const d = await tempDir();
  const s = createMessageStore({ storePathRootDir: d, ...smallStore }) as FileMessageStore;
  await s.start();
  try {
    // Four queues written interleaved in small runs, as a busy topic's backlog is; bodies of varied size.
    const sent: string[][] = [[], [], [], []];
    for (let round = 0; round < 60; round++) {
      for (let q = 0; q < 4; q++) {
        const batch = Array.from({ length: 1 + ((round + q) % 4) }, (_, k) => {
          const body = `q${q}-r${round}-k${k}-${'y'.repeat((round * 37 + k * 11) % 300)}`;
          (sent[q] as string[]).push(body);
          return msg('COLD', q, body);
        });
        assert.equal((await s.putMessages(batch)).status, 'PUT_OK');
      }
    }
    const direct: string[][] = [];
    for (let q = 0; q < 4; q++) direct.push(await drain(s, q, 7));
    assert.deepEqual(direct, sent);
    // Now as if every byte were far behind the write position: the cold path serves all reads.
    s.commitLog.isHot = () => false;
    const cold = await Promise.all([0, 1, 2, 3].map((q) => drain(s, q, 7)));
    assert.deepEqual(cold, sent);
    const blocks = s.commitLog.blocks;
    assert.ok(blocks !== undefined);
    assert.ok(blocks.stats.hits > blocks.stats.reads, `blocks shared: ${JSON.stringify(blocks.stats)}`);
    assert.ok(blocks.size() <= blocks.blocksMax);
    assert.ok(s.readAhead.stats.entryHits > 0, `read-ahead used: ${JSON.stringify(s.readAhead.stats)}`);
    assert.ok(s.readAhead.cachedBytes() <= s.readAhead.bytesMax);
  } finally {
    await s.shutdown();
    await fs.rm(d, { recursive: true, force: true });
  }
});

async function drain(s: FileMessageStore, queueId: number, perPull: number): Promise<string[]> {
  const out: string[] = [];
  let offset = 0n;
  for (;;) {
    const r = await s.getMessage('COLD', queueId, offset, perPull, 1 << 24);
    if (r.status !== GetStatus.FOUND) return out;
    for (const m of decodeRecords(Buffer.concat(r.bodyParts ?? r.records))) out.push(m.body.toString());
    offset = r.nextBeginOffset;
  }
}
