/**
 * A damaged data dir after a clean stop: garbage in the middle of the CommitLog, truncated and garbled
 * ConsumeQueues, a flipped body byte. Each is found at start (or, outside the checked tail, at read time),
 * reported, repaired from the CommitLog where it can be, and never served as valid.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { decodeRecords, RecordPos } from '../../src/common/record.js';
import type { StoreConfig } from '../../src/store/config.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore, GetStatus, PutStatus } from '../../src/store/index.js';
import { msg, smallStore, tempDir } from '../store/helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

async function open(dir: string, extra: Partial<StoreConfig> = {}) {
  const s = createMessageStore({ storePathRootDir: dir, ...smallStore, ...extra }) as FileMessageStore;
  await s.start();
  return s;
}

/** Every body reachable by pulling the queue from its min offset (decodeRecords checks each BODYCRC). */
async function bodies(s: FileMessageStore, topic: string, queueId = 0): Promise<string[]> {
  const out: string[] = [];
  let off = s.getMinOffsetInQueue(topic, queueId);
  for (let guard = 0; guard < 10_000; guard++) {
    const r = await s.getMessage(topic, queueId, off, 32, 1 << 20);
    if (r.status !== GetStatus.FOUND && r.status !== GetStatus.NO_MATCHED_MESSAGE) return out;
    for (const m of decodeRecords(Buffer.concat(r.records))) out.push(m.body.toString());
    off = r.nextBeginOffset;
  }
  throw new Error('the queue never ends');
}

/** Writes `n` messages `${prefix}${i}` to topic/queue and stops cleanly; returns their log offsets. */
async function filled(dir: string, topic: string, n: number, prefix = 'm'): Promise<bigint[]> {
  const s = await open(dir);
  const offsets: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const r = await s.putMessage(msg(topic, 0, `${prefix}${i}-${'x'.repeat(40)}`));
    assert.equal(r.status, PutStatus.PUT_OK);
    offsets.push(r.wroteOffset);
  }
  await s.shutdown();
  return offsets;
}

const body = (prefix: string, i: number) => `${prefix}${i}-${'x'.repeat(40)}`;
const segmentOf = (dir: string, offset: bigint) => {
  const start = Number(offset) - (Number(offset) % smallStore.mappedFileSizeCommitLog);
  return path.join(dir, 'commitlog', String(start).padStart(20, '0'));
};

async function overwrite(file: string, at: number, bytes: Buffer): Promise<void> {
  const fh = await fs.open(file, 'r+');
  await fh.write(bytes, 0, bytes.length, at);
  await fh.close();
}

function garbage(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

test('clean stop, then garbage over records in the middle of the CommitLog: reported, the rest still reachable', async () => {
  for (const fill of ['random', 'zeros'] as const) {
    const dir = await tempDir();
    dirs.push(dir);
    const n = 200;
    const offsets = await filled(dir, 'G', n);
    // Over the end of record 50 and the start of 51..52 (same segment).
    const from = offsets[50] as bigint;
    const to = offsets[53] as bigint;
    assert.equal(segmentOf(dir, from), segmentOf(dir, to));
    const at = Number(from) + 30;
    const len = Number(to) - at - 5;
    const file = segmentOf(dir, from);
    const segStart = Number(path.basename(file));
    await overwrite(file, at - segStart, fill === 'random' ? garbage(len, 7) : Buffer.alloc(len));
    const r = await open(dir);
    // Records 50..52 are gone; every other acked message is still served, in order.
    const want = Array.from({ length: n }, (_, i) => body('m', i)).filter((_, i) => i < 50 || i > 52);
    assert.deepEqual(await bodies(r, 'G'), want, fill);
    const rep = r.lastRecovery;
    assert.ok(rep?.clean, fill);
    assert.equal(rep?.truncated, undefined, fill);
    assert.ok((rep?.damageFound ?? 0) > 0, fill);
    assert.deepEqual(
      rep?.skipped.map((k) => k.offset),
      [Number(offsets[50])],
      fill,
    );
    assert.equal(rep?.skipped[0]?.bytes, Number((offsets[53] as bigint) - (offsets[50] as bigint)), fill);
    assert.equal(r.getMaxOffsetInQueue('G', 0), BigInt(n), fill);
    const stats = r.stats();
    assert.ok(Number(stats['storeDamageFound']) > 0, fill);
    assert.match(String(stats['storeLastRecovery']), /damaged ranges skipped/, fill);
    // New puts continue after the last record, not over it.
    assert.equal((await r.putMessage(msg('G', 0, 'next'))).queueOffset, BigInt(n), fill);
    await r.shutdown();
    // The repair holds: the next clean start finds nothing new to rebuild.
    const again = await open(dir);
    assert.deepEqual(again.lastRecovery?.rebuiltQueues, [], fill);
    assert.equal((await bodies(again, 'G')).length, n - 3 + 1, fill);
    await again.shutdown();
  }
});

test('truncated ConsumeQueue after a clean stop: rebuilt from the CommitLog, every acked message reachable', async () => {
  for (const cut of ['whole entries', 'mid entry'] as const) {
    const dir = await tempDir();
    dirs.push(dir);
    const n = 150; // a ConsumeQueue file holds 100 entries here: the second file is cut
    await filled(dir, 'Q', n);
    const cqFile = path.join(dir, 'consumequeue', 'Q', '0', String(100 * 20).padStart(20, '0'));
    await fs.truncate(cqFile, cut === 'whole entries' ? 20 * 7 : 20 * 7 + 9);
    const r = await open(dir);
    assert.deepEqual(
      await bodies(r, 'Q'),
      Array.from({ length: n }, (_, i) => body('m', i)),
      cut,
    );
    assert.equal(r.getMaxOffsetInQueue('Q', 0), BigInt(n), cut);
    assert.ok(r.lastRecovery?.clean, cut);
    assert.deepEqual(r.lastRecovery?.rebuiltQueues, ['Q/0'], cut);
    assert.ok(Number(r.stats()['storeQueuesRebuilt']) === 1, cut);
    await r.shutdown();
  }
});

test('garbled ConsumeQueue entries after a clean stop: rebuilt, served in order', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const n = 90;
  await filled(dir, 'B', n);
  const cqFile = path.join(dir, 'consumequeue', 'B', '0', '0'.repeat(20));
  await overwrite(cqFile, 20 * 30 + 3, garbage(20 * 12, 11));
  const r = await open(dir);
  assert.deepEqual(
    await bodies(r, 'B'),
    Array.from({ length: n }, (_, i) => body('m', i)),
  );
  assert.deepEqual(r.lastRecovery?.rebuiltQueues, ['B/0']);
  await r.shutdown();
});

test('a queue outside the checked tail: a garbled last entry is caught by the last-entry check', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const s = await open(dir);
  for (let i = 0; i < 20; i++) await s.putMessage(msg('Old', 0, body('o', i)));
  for (let i = 0; i < 600; i++) await s.putMessage(msg('New', 0, body('n', i)));
  await s.shutdown();
  // Point Old's last entry at a record of New.
  const oldCq = path.join(dir, 'consumequeue', 'Old', '0', '0'.repeat(20));
  const newCq = await fs.readFile(path.join(dir, 'consumequeue', 'New', '0', '0'.repeat(20)));
  await overwrite(oldCq, 20 * 19, newCq.subarray(20 * 5, 20 * 6));
  const r = await open(dir, { recoverTailCheckBytes: 8 * 1024 });
  assert.deepEqual(
    await bodies(r, 'Old'),
    Array.from({ length: 20 }, (_, i) => body('o', i)),
  );
  assert.ok((r.lastRecovery?.checkedFrom ?? 0) > 0, 'only the tail was checked');
  assert.deepEqual(r.lastRecovery?.rebuiltQueues, ['Old/0']);
  await r.shutdown();
});

test('a flipped body byte outside the checked tail: never delivered, counted, the consumer gets what follows', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const n = 100;
  const offsets = await filled(dir, 'F', n);
  const bad = 7;
  const rec = offsets[bad] as bigint;
  const file = segmentOf(dir, rec);
  await overwrite(file, Number(rec) - Number(path.basename(file)) + RecordPos.body + 2, Buffer.from('#'));
  // A tail check of 0 bytes: start-up does not look at record 7, so the read path must catch it.
  const r = await open(dir, { recoverTailCheckBytes: 0 });
  assert.deepEqual(
    await bodies(r, 'F'),
    Array.from({ length: n }, (_, i) => body('m', i)).filter((_, i) => i !== bad),
  );
  assert.equal(r.lastRecovery?.damageFound, 0);
  assert.equal(r.stats()['storeRecordsSkippedCrc'], 1);
  // A pull that starts at the damaged record is not wedged: it moves past it.
  const one = await r.getMessage('F', 0, BigInt(bad), 1, 1 << 20);
  assert.equal(one.recordCount, 0);
  assert.equal(one.nextBeginOffset, BigInt(bad + 1));
  assert.equal(await r.lookMessageByOffset(rec), undefined);
  assert.ok(Number(r.stats()['storeRecordsSkippedCrc']) >= 2);
  await r.shutdown();
  // With the default tail check the same damage is found at start and skipped there.
  const again = await open(dir);
  assert.deepEqual(
    again.lastRecovery?.skipped.map((k) => k.offset),
    [Number(rec)],
  );
  assert.equal((await bodies(again, 'F')).length, n - 1);
  await again.shutdown();
});

test('an undamaged store starts with no findings and rebuilds nothing, clean or after a crash', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const s = await open(dir);
  for (let i = 0; i < 300; i++) await s.putMessage(msg(`T${i % 3}`, i % 2, body('u', i), { keys: [`k${i}`] }));
  await s.shutdown();
  for (const crash of [false, true]) {
    if (crash) await fs.writeFile(path.join(dir, 'abort'), '');
    const r = await open(dir);
    assert.equal(r.lastRecovery?.clean, !crash);
    assert.equal(r.lastRecovery?.damageFound, 0);
    assert.deepEqual(r.lastRecovery?.rebuiltQueues, []);
    assert.equal(r.lastRecovery?.indexRebuilt, false);
    assert.equal(r.stats()['storeDamageFound'], 0);
    await r.shutdown();
  }
});

test('an IndexFile header naming no record after a clean stop: the index is dropped, rebuilt and queries work', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const s = await open(dir);
  for (let i = 0; i < 40; i++) await s.putMessage(msg('I', 0, body('i', i), { keys: [`key${i}`] }));
  await s.shutdown();
  const names = (await fs.readdir(path.join(dir, 'index'))).sort();
  const newest = path.join(dir, 'index', names[names.length - 1] as string);
  const end = Buffer.alloc(8);
  end.writeBigInt64BE(10n ** 12n);
  await overwrite(newest, 24, end);
  const r = await open(dir);
  assert.equal(r.lastRecovery?.indexRebuilt, true);
  assert.ok((r.lastRecovery?.damageFound ?? 0) > 0);
  const q = await r.queryMessage('I', 'key33', 8, 0n, BigInt(Date.now() + 60_000));
  assert.deepEqual(
    decodeRecords(Buffer.concat(q.records)).map((m) => m.body.toString()),
    [body('i', 33)],
  );
  assert.equal(q.indexLastUpdatePhyoffset < 10n ** 12n, true);
  await r.shutdown();
});

test('garbage across a segment boundary (BLANK marker and the next segment head): both sides skipped, rest kept', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const n = 1000;
  const offsets = await filled(dir, 'S', n);
  const boundary = BigInt(smallStore.mappedFileSizeCommitLog);
  const seg0 = segmentOf(dir, 0n);
  const seg1 = segmentOf(dir, boundary);
  const from = Number(boundary) - 300;
  await overwrite(seg0, from, garbage(300, 3));
  await overwrite(seg1, 0, garbage(150, 5));
  const r = await open(dir);
  const lost = new Set<number>();
  for (let i = 0; i < n; i++) {
    const o = offsets[i] as bigint;
    const end = i + 1 < n ? (offsets[i + 1] as bigint) : o + 1n;
    if (end > BigInt(from) && o < boundary + 150n) lost.add(i);
  }
  assert.ok(lost.size >= 2 && lost.size < 8, `lost ${lost.size}`);
  assert.deepEqual(
    await bodies(r, 'S'),
    Array.from({ length: n }, (_, i) => body('m', i)).filter((_, i) => !lost.has(i)),
  );
  assert.equal(r.lastRecovery?.truncated, undefined);
  assert.equal(r.lastRecovery?.skipped.length, 2);
  await r.shutdown();
});

test('a topic deleted and created again is not mistaken for damage: its old records stay out of its queue', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  let s = await open(dir);
  // Another queue stays (with none left at all, the queues are rebuilt from the log start: a known gap).
  await s.putMessage(msg('Keep', 0, 'k'));
  for (let i = 0; i < 30; i++) await s.putMessage(msg('Re', 0, body('old', i)));
  s.deleteTopics(['Re']);
  await s.shutdown();
  s = await open(dir);
  for (let i = 0; i < 10; i++) await s.putMessage(msg('Re', 0, body('new', i)));
  await s.shutdown();
  const r = await open(dir);
  assert.equal(r.lastRecovery?.damageFound, 0);
  assert.deepEqual(r.lastRecovery?.rebuiltQueues, []);
  assert.deepEqual(
    await bodies(r, 'Re'),
    Array.from({ length: 10 }, (_, i) => body('new', i)),
  );
  await r.shutdown();
});
