import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { NodeStorageIO } from '../../src/store/index.js';
import { IndexFile, indexHeaderBytes, slotCopyBytesMax } from '../../src/store/index-file.js';
import type { FileIO, StorageIO } from '../../src/store/io.js';
import { tempDir } from './helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});
async function dir(): Promise<string> {
  const d = await tempDir();
  dirs.push(d);
  return d;
}

/** Real files whose writes are recorded (length, position), with a hook called before each write. */
class RecordingIO extends NodeStorageIO implements StorageIO {
  writes: { len: number; at: number }[] = [];
  beforeWrite: ((len: number, at: number) => void) | undefined;
  override async open(file: string): Promise<FileIO> {
    const f = await super.open(file);
    const write = f.write.bind(f);
    f.write = async (buf: Buffer, at: number) => {
      this.writes.push({ len: buf.length, at });
      this.beforeWrite?.(buf.length, at);
      await write(buf, at);
    };
    return f;
  }
}

const t0 = 1_700_000_000_000;

async function lookup(idx: IndexFile, key: string): Promise<number[]> {
  const out: number[] = [];
  await idx.select(key, 100, 0, Number.MAX_SAFE_INTEGER, out);
  return out;
}

test('IndexFile: two flushes at once (a roll meeting the checkpoint) write every entry once and the file keeps taking keys', async () => {
  const d = await dir();
  const io = new NodeStorageIO();
  const file = path.join(d, '20240101000000000');
  const idx = await IndexFile.create(io, file, 'x', 64, 1000, 0, 0);
  await idx.openForWrite();
  for (let i = 0; i < 50; i++) assert.ok(idx.putKey(`T#k${i}`, 1000 + i, t0));
  const first = idx.flush();
  // Puts and a second flush while the first one's writes are in flight.
  for (let i = 50; i < 80; i++) assert.ok(idx.putKey(`T#k${i}`, 1000 + i, t0));
  const second = idx.flush();
  await Promise.all([first, second]);
  // And it keeps taking keys and flushing them.
  for (let i = 80; i < 90; i++) assert.ok(idx.putKey(`T#k${i}`, 1000 + i, t0));
  assert.deepEqual(await lookup(idx, 'T#k85'), [1085]);
  await idx.flush();
  await idx.close();
  const loaded = await IndexFile.load(io, file, 'x', 64, 1000);
  assert.equal(loaded.indexCount, 91);
  for (let i = 0; i < 90; i++) assert.deepEqual(await lookup(loaded, `T#k${i}`), [1000 + i], `key k${i}`);
  await loaded.close();
});

test('IndexFile: a flush with every slot page dirty writes the table in slices (slotCopyBytesMax), puts between them kept', async () => {
  const d = await dir();
  const io = new RecordingIO();
  const file = path.join(d, '20240101000000000');
  const slotNum = 5_000_000; // RocketMQ's default: a 20 MB slot table
  const num = 5000;
  const idx = await IndexFile.create(io, file, 'x', slotNum, num, 0, 0);
  await idx.openForWrite();
  // A key in every 4 KiB page of slots (1024 slots a page).
  const pages = Math.ceil(slotNum / 1024);
  for (let p = 0; p < pages; p++) assert.ok(idx.putHash(p * 1024 + 7, 10 + p, t0));
  const entriesAt = indexHeaderBytes + slotNum * 4;
  let putsDuring = 0;
  io.beforeWrite = (_len, at) => {
    // Between two slices of the slot table: new keys land in pages already written and in pages still to come.
    if (at >= indexHeaderBytes && at < entriesAt && putsDuring < 3) {
      assert.ok(idx.putHash(putsDuring * 2_000_000 + 9, 5000 + putsDuring, t0));
      putsDuring++;
    }
  };
  io.writes = [];
  await idx.flush();
  io.beforeWrite = undefined;
  const slotWrites = io.writes.filter((w) => w.at >= indexHeaderBytes && w.at < entriesAt);
  assert.ok(slotWrites.length >= 4, `${slotWrites.length} slot writes`);
  assert.ok(
    slotWrites.every((w) => w.len <= slotCopyBytesMax),
    `largest slot write ${Math.max(...slotWrites.map((w) => w.len))} bytes`,
  );
  // The slices cover the whole table, each once.
  assert.equal(
    slotWrites.reduce((s, w) => s + w.len, 0),
    slotNum * 4,
  );
  await idx.flush(); // the puts made during the first flush
  await idx.close();
  const loaded = await IndexFile.load(io, file, 'x', slotNum, num);
  assert.equal(loaded.indexCount, 1 + pages + 3);
  const raw = await fs.readFile(file);
  for (let p = 0; p < pages; p++) {
    const slot = p * 1024 + 7;
    assert.equal(raw.readInt32BE(indexHeaderBytes + slot * 4), 1 + p, `slot of page ${p}`);
  }
  for (let i = 0; i < 3; i++) {
    const slot = i * 2_000_000 + 9;
    assert.equal(raw.readInt32BE(indexHeaderBytes + slot * 4), 1 + pages + i, `slot put during the flush ${i}`);
    const e = entriesAt + (1 + pages + i) * 20;
    assert.equal(Number(raw.readBigInt64BE(e + 4)), 5000 + i);
  }
  await loaded.close();
});

test('IndexFile: slot writes cover whole file pages (a partial write of a page not in the page cache reads it from disk first)', async () => {
  const d = await dir();
  const io = new RecordingIO();
  const file = path.join(d, '20240101000000000');
  const slotNum = 5_000_000;
  const num = 5000;
  const idx = await IndexFile.create(io, file, 'x', slotNum, num, 0, 0);
  await idx.openForWrite();
  const entriesAt = indexHeaderBytes + slotNum * 4;
  // Scattered slots (runs apart), the table's first and last slot, slots on both sides of a file page boundary,
  // and a dense stretch longer than one slice.
  const slots = [0, 1013, 1014, 1015, 700_000, 2_500_000, 2_500_001, slotNum - 1];
  for (let s = 3_000_000; s < 4_200_000; s += 1000) slots.push(s);
  for (const [i, s] of slots.entries()) assert.ok(idx.putHash(s, 100 + i, t0));
  io.writes = [];
  await idx.flush();
  const slotWrites = io.writes.filter((w) => w.at >= indexHeaderBytes && w.at < entriesAt);
  assert.ok(slotWrites.length >= 5, `${slotWrites.length} slot writes`);
  for (const w of slotWrites) {
    assert.ok(w.at === indexHeaderBytes || w.at % 4096 === 0, `slot write at ${w.at} starts inside a file page`);
    const end = w.at + w.len;
    assert.ok(end === entriesAt || end % 4096 === 0, `slot write at ${w.at} ends at ${end}, inside a file page`);
    assert.ok(w.len <= slotCopyBytesMax, `slot write of ${w.len} bytes`);
  }
  await idx.close();
  const raw = await fs.readFile(file);
  for (const [i, s] of slots.entries()) assert.equal(raw.readInt32BE(indexHeaderBytes + s * 4), 1 + i, `slot ${s}`);
  const loaded = await IndexFile.load(io, file, 'x', slotNum, num);
  assert.equal(loaded.indexCount, 1 + slots.length);
  await loaded.close();
});

test('IndexFile: a slot table that ends on a page boundary flushes its last slots (they lie in the next file page)', async () => {
  const d = await dir();
  const io = new NodeStorageIO();
  const file = path.join(d, '20240101000000000');
  // 1024 slots fill one 4 KiB page, but the table starts 40 bytes into the file: the last ten slots are in page 1.
  const slotNum = 1024;
  const idx = await IndexFile.create(io, file, 'x', slotNum, 100, 0, 0);
  await idx.openForWrite();
  const slots = [0, 1013, 1014, slotNum - 1];
  for (const [i, s] of slots.entries()) assert.ok(idx.putHash(s, 100 + i, t0));
  await idx.flush();
  await idx.close();
  const raw = await fs.readFile(file);
  for (const [i, s] of slots.entries()) assert.equal(raw.readInt32BE(indexHeaderBytes + s * 4), 1 + i, `slot ${s}`);
});

test('IndexFile: a full file lets go of its slot table and entry buffer after its last flush; lookups then read the file', async () => {
  const d = await dir();
  const io = new NodeStorageIO();
  const idx = await IndexFile.create(io, path.join(d, '20240101000000001'), 'x', 64, 40, 0, 0);
  await idx.openForWrite();
  let n = 0;
  while (idx.putKey(`T#k${n}`, 1000 + n, t0)) n++;
  assert.equal(n, 39, 'entry 0 is never used');
  assert.ok(idx.isFull());
  // Full but not flushed: the table stays (the flush writes from it), lookups read the memory.
  assert.ok(idx.holdsSlots());
  assert.deepEqual(await lookup(idx, 'T#k7'), [1007]);
  await idx.flush();
  assert.equal(idx.holdsSlots(), false);
  assert.equal(idx.putKey('T#more', 1, t0), false, 'a full file takes no key (and does not throw)');
  for (const k of [0, 7, 38]) assert.deepEqual(await lookup(idx, `T#k${k}`), [1000 + k]);
  assert.deepEqual(await lookup(idx, 'T#absent'), []);
  await idx.close();
  // As a file loaded after a restart reads it.
  const again = await IndexFile.load(io, path.join(d, '20240101000000001'), 'x', 64, 40);
  assert.deepEqual(await lookup(again, 'T#k38'), [1038]);
  await again.close();
});
