/**
 * A crash that leaves a hole at the CommitLog tail: with ASYNC_FLUSH two batches are written at once, so a kill can
 * land the later one and not the earlier. Recovery ends the log at the hole (nothing after it was acked); the
 * records past it must not come back later, when new records fill the hole and the scan reads on into them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { decodeRecords } from '../../src/common/record.js';
import { readCheckpoint, writeCheckpoint } from '../../src/store/checkpoint.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore, GetStatus, PutStatus } from '../../src/store/index.js';
import type { StorageIO } from '../../src/store/io.js';
import { msg, smallStore, tempDir } from '../store/helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

async function open(dir: string) {
  const s = createMessageStore({ storePathRootDir: dir, ...smallStore }) as FileMessageStore;
  await s.start();
  return s;
}

async function bodies(s: FileMessageStore, topic: string): Promise<string[]> {
  const out: string[] = [];
  let off = s.getMinOffsetInQueue(topic, 0);
  while (off < s.getMaxOffsetInQueue(topic, 0)) {
    const r = await s.getMessage(topic, 0, off, 32, 1 << 20);
    assert.equal(r.status, GetStatus.FOUND, `offset ${off}`);
    for (const m of decodeRecords(Buffer.concat(r.records))) out.push(m.body.toString());
    off = r.nextBeginOffset;
  }
  return out;
}

/** The file state of a kill while record `hole` was being written and the records after it had landed. */
async function crashWithHole(dir: string, offsets: readonly bigint[], hole: number): Promise<void> {
  const from = Number(offsets[hole]);
  const to = Number(offsets[hole + 1]);
  const segStart = from - (from % smallStore.mappedFileSizeCommitLog);
  const fh = await fs.open(path.join(dir, 'commitlog', String(segStart).padStart(20, '0')), 'r+');
  await fh.write(Buffer.alloc(to - from), 0, to - from, from - segStart);
  await fh.close();
  // The last checkpoint before the kill vouched for the log up to the hole, not past it.
  const file = path.join(dir, 'checkpoint');
  const io = {
    readFile: async (f: string) => fs.readFile(f).catch(() => undefined),
    writeFileDurable: (f: string, b: Buffer) => fs.writeFile(f, b),
  } as unknown as StorageIO;
  const cp = await readCheckpoint(io, file);
  assert.ok(cp !== undefined);
  await writeCheckpoint(io, file, { ...cp, flushedPhyOffset: from, logicsPhyOffset: from });
  await fs.writeFile(path.join(dir, 'abort'), '');
}

const segmentBytes = smallStore.mappedFileSizeCommitLog;
const body = (prefix: string, i: number) => `${prefix}-${String(i).padStart(4, '0')}-${'x'.repeat(400)}`;

for (const where of ['in a segment', 'at a segment start'] as const) {
  test(`records past a hole at the tail (${where}) after a crash never come back once new records fill it`, async () => {
    const dir = await tempDir('tsrocket-hole-');
    dirs.push(dir);
    const s = await open(dir);
    const offsets: bigint[] = [];
    // Into the second segment, a few records past its start.
    for (let i = 0; offsets.length < 3 || (offsets.at(-3) as bigint) < BigInt(segmentBytes); i++) {
      const r = await s.putMessage(msg('H', 0, body('old', i)));
      assert.equal(r.status, PutStatus.PUT_OK);
      offsets.push(r.wroteOffset);
    }
    await s.shutdown();
    const firstInNext = offsets.findIndex((o) => o >= BigInt(segmentBytes));
    const hole = where === 'at a segment start' ? firstInNext : firstInNext - 5;
    if (where === 'at a segment start') assert.equal(offsets[hole], BigInt(segmentBytes));
    await crashWithHole(dir, offsets, hole);

    const r = await open(dir);
    const kept = Array.from({ length: hole }, (_, i) => body('old', i));
    assert.equal(r.lastRecovery?.clean, false);
    assert.equal(r.lastRecovery?.logEnd, Number(offsets[hole]), 'the log ends at the hole');
    assert.deepEqual(await bodies(r, 'H'), kept);
    // A new record of the same size fills the hole exactly: the next one would be read where the old one after
    // the hole was.
    const filled = await r.putMessage(msg('H', 0, body('new', hole)));
    assert.equal(filled.wroteOffset, offsets[hole]);
    assert.equal(BigInt(filled.wroteBytes), (offsets[hole + 1] as bigint) - (offsets[hole] as bigint));
    await r.shutdown();

    for (const crash of [false, true]) {
      if (crash) await fs.writeFile(path.join(dir, 'abort'), '');
      const t = await open(dir);
      assert.deepEqual(
        await bodies(t, 'H'),
        [...kept, body('new', hole)],
        `${crash ? 'crash' : 'clean'} start: the records past the hole stay gone`,
      );
      assert.equal(t.lastRecovery?.logEnd, Number(offsets[hole + 1]));
      await t.shutdown();
    }
  });
}
