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

test('cold reads across block ends: parts are block slices, only a record across a block end is copied, and it is still checked', async () => {
  const d = await tempDir();
  // 4 MiB segments read through 1 MiB blocks, so runs and records cross block ends.
  const s = createMessageStore({
    ...smallStore,
    storePathRootDir: d,
    mappedFileSizeCommitLog: 4 << 20,
  }) as FileMessageStore;
  await s.start();
  try {
    // Three queues interleaved one record at a time (as unbatched sends from many producers store them).
    const sent: string[][] = [[], [], []];
    for (let i = 0; i < 2400; i++) {
      const q = i % 3;
      const body = `q${q}-${i}-${'z'.repeat(700 + ((i * 131) % 600))}`;
      (sent[q] as string[]).push(body);
      assert.equal((await s.putMessage(msg('XB', q, body))).status, 'PUT_OK');
    }
    // Another topic fills the segment, so every block of it lies below the visible end (covered by blocks).
    for (let i = 0; i < 20; i++) {
      assert.equal((await s.putMessage(msg('XF', 0, Buffer.alloc(100_000, 1)))).status, 'PUT_OK');
    }
    const blocks = s.commitLog.blocks;
    assert.ok(blocks !== undefined && blocks.blockBytes === 1 << 20);
    s.commitLog.isHot = () => false;
    // A record that crosses a block end, damaged in its body on disk.
    let queue = -1;
    let crossing = -1;
    let rec = Buffer.alloc(0);
    for (let q = 0; q < 3 && queue < 0; q++) {
      const all = await s.getMessage('XB', q, 0n, 1024, 1 << 24);
      crossing = all.records.findIndex((r) => {
        const at = Number(r.readBigInt64BE(28));
        return Math.floor(at / (1 << 20)) !== Math.floor((at + r.length - 1) / (1 << 20));
      });
      if (crossing >= 0) {
        queue = q;
        rec = Buffer.from(all.records[crossing] as Buffer);
      }
      all.release?.();
    }
    assert.ok(queue >= 0, 'some record crosses a block end');
    const phy = Number(rec.readBigInt64BE(28));
    const fh = await fs.open(s.segmentFileOf(phy), 'r+');
    await fh.write(Buffer.from('!'), 0, 1, phy + rec.length - 200);
    await fh.close();
    blocks.clear();

    const got: string[] = [];
    let offset = 0n;
    let copiedBytes = 0;
    let parts = 0;
    for (;;) {
      const r = await s.getMessage('XB', queue, offset, 300, 1 << 24);
      if (r.status !== GetStatus.FOUND) break;
      for (const part of r.bodyParts ?? []) {
        parts++;
        // A slice of a 1 MiB block, or a record's own copy (at most one record long).
        if (part.buffer.byteLength !== blocks.blockBytes) {
          copiedBytes += part.length;
          assert.ok(part.length <= 700 + 600 + 200, `a copy is one record, not ${part.length} bytes`);
        }
      }
      for (const m of decodeRecords(Buffer.concat(r.bodyParts ?? []))) got.push(m.body.toString());
      r.release?.();
      offset = r.nextBeginOffset;
    }
    const expected = (sent[queue] as string[]).filter((_, k) => k !== crossing);
    assert.deepEqual(got, expected, 'every record but the damaged one, in order');
    assert.equal(s.damage.recordsSkippedCrc, 1);
    // Three 1 MiB block ends lie in the ~3 MiB written: at most that many records were copied.
    assert.ok(copiedBytes <= 3 * 1500, `copied ${copiedBytes} bytes in ${parts} parts`);
  } finally {
    await s.shutdown();
    await fs.rm(d, { recursive: true, force: true });
  }
});
