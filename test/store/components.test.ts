import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { javaStringHashCode } from '../../src/common/hash.js';
import { SysFlag } from '../../src/common/message.js';
import { decodeRecords } from '../../src/common/record.js';
import { BlockCache } from '../../src/store/block-cache.js';
import { ConsumeQueue } from '../../src/store/consume-queue.js';
import { FaultyStorageIO } from '../../src/store/fault-io.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore, GetStatus, ManualClock, NodeStorageIO, PutStatus } from '../../src/store/index.js';
import {
  IndexFile,
  indexKeyHash,
  indexKeyHashAfter,
  indexKeyHashAfterBytes,
  indexKeyHashJoined,
} from '../../src/store/index-file.js';
import type { FileIO } from '../../src/store/io.js';
import { PiecePool, pieceBytesMin } from '../../src/store/log-pieces.js';
import { ReadAhead } from '../../src/store/read-ahead.js';
import { msg, smallStore, tempDir } from './helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});
async function dir(): Promise<string> {
  const d = await tempDir();
  dirs.push(d);
  return d;
}

test('ConsumeQueue: 20-byte entries across files, reload, truncate beyond the log end', async () => {
  const d = await dir();
  const io = new NodeStorageIO();
  const q = new ConsumeQueue(io, path.join(d, 'T', '0'), 'T', 0, 20 * 10, (r) => assert.fail(r));
  for (let i = 0; i < 25; i++) q.append(i * 100, 100, BigInt(i));
  await q.flush();
  const names = (await fs.readdir(path.join(d, 'T', '0'))).sort();
  assert.deepEqual(names, ['00000000000000000000', '00000000000000000200', '00000000000000000400']);
  const raw = await fs.readFile(path.join(d, 'T', '0', names[1] as string));
  assert.equal(raw.length, 200);
  assert.equal(raw.readBigInt64BE(0), 1000n); // entry 10: offset 8
  assert.equal(raw.readInt32BE(8), 100); // size 4
  assert.equal(raw.readBigInt64BE(12), 10n); // tag hash 8
  await q.close();
  const r = new ConsumeQueue(io, path.join(d, 'T', '0'), 'T', 0, 20 * 10, (e) => assert.fail(e));
  await r.load();
  assert.equal(r.maxOffset, 25);
  const e = await r.entryAt(13);
  assert.deepEqual(e, { phyOffset: 1300, size: 100, tagsCode: 13n });
  assert.equal((await r.read(8, 32)).length, 2 * 20); // stops at the file boundary
  await r.truncateBeyond(1500); // entries ending past 1500 go
  assert.equal(r.maxOffset, 15);
  await r.close();
});

test('IndexFile: RocketMQ header/slot/entry layout, chained lookups, time range', async () => {
  const d = await dir();
  const io = new NodeStorageIO();
  const file = path.join(d, '20240101000000000');
  const idx = await IndexFile.create(io, file, '20240101000000000', 8, 16, 0, 0);
  await idx.openForWrite();
  const t0 = 1_700_000_000_000;
  assert.ok(idx.putKey('T#a', 100, t0));
  assert.ok(idx.putKey('T#b', 200, t0 + 5000));
  assert.ok(idx.putKey('T#a', 300, t0 + 9000));
  await idx.flush();
  const raw = await fs.readFile(file);
  assert.equal(raw.length, 40 + 8 * 4 + 16 * 20);
  assert.equal(Number(raw.readBigInt64BE(0)), t0); // beginTimestamp
  assert.equal(Number(raw.readBigInt64BE(8)), t0 + 9000); // endTimestamp
  assert.equal(Number(raw.readBigInt64BE(16)), 100); // beginPhyOffset
  assert.equal(Number(raw.readBigInt64BE(24)), 300); // endPhyOffset
  assert.equal(raw.readInt32BE(36), 4); // indexCount starts at 1
  const slotA = indexKeyHash('T#a') % 8;
  assert.equal(raw.readInt32BE(40 + slotA * 4), 3); // newest entry for T#a
  const e3 = 40 + 8 * 4 + 3 * 20;
  assert.equal(raw.readInt32BE(e3), indexKeyHash('T#a'));
  assert.equal(Number(raw.readBigInt64BE(e3 + 4)), 300);
  assert.equal(raw.readInt32BE(e3 + 12), 9); // seconds since begin
  assert.equal(raw.readInt32BE(e3 + 16), 1); // previous entry for the slot
  const out: number[] = [];
  await idx.select('T#a', 10, t0, t0 + 10_000, out);
  assert.deepEqual(out, [300, 100]);
  const late: number[] = [];
  await idx.select('T#a', 10, t0 + 8000, t0 + 10_000, late);
  assert.deepEqual(late, [300]);
  await idx.close();
  const loaded = await IndexFile.load(io, file, 'x', 8, 16);
  const again: number[] = [];
  await loaded.select('T#a', 10, 0, Number.MAX_SAFE_INTEGER, again);
  assert.deepEqual(again, [300, 100]);
  await loaded.close();
});

test('index rolls over to a new file when full and queries span files', async () => {
  const d = await dir();
  const s = createMessageStore({ storePathRootDir: d, ...smallStore, maxIndexNum: 10 }) as FileMessageStore;
  await s.start();
  for (let i = 0; i < 30; i++) await s.putMessage(msg('I', 0, `i${i}`, { keys: [`k${i % 3}`] }));
  await s.checkpoint();
  assert.ok((await fs.readdir(path.join(d, 'index'))).length >= 3);
  const found = await s.queryMessage('I', 'k1', 100, 0n, BigInt(Date.now() + 100_000));
  assert.equal(found.records.length, 10);
  await s.shutdown();
});

test('offset by time: binary search over store timestamps (manual clock)', async () => {
  const d = await dir();
  const clock = new ManualClock(1_000_000);
  const s = createMessageStore({ storePathRootDir: d, ...smallStore }, { clock }) as FileMessageStore;
  await s.start();
  for (let i = 0; i < 100; i++) {
    await s.putMessage(msg('O', 0, `o${i}`));
    clock.advance(1000);
  }
  assert.equal(await s.getOffsetInQueueByTime('O', 0, 0n), 0n);
  assert.equal(await s.getOffsetInQueueByTime('O', 0, 1_000_000n + 41_500n), 42n);
  assert.equal(await s.getOffsetInQueueByTime('O', 0, 1_000_000n + 42_000n), 42n);
  assert.equal(await s.getOffsetInQueueByTime('O', 0, 9_000_000n), 100n);
  await s.shutdown();
});

test('group commit: 64 concurrent SYNC_FLUSH puts share a few fdatasyncs', async () => {
  const d = await dir();
  const io = new FaultyStorageIO(new NodeStorageIO(), 1);
  io.datasyncDelayMs = 20;
  const s = createMessageStore(
    { storePathRootDir: d, ...smallStore, mappedFileSizeCommitLog: 1 << 20, flushDiskType: 'SYNC_FLUSH' },
    { io },
  ) as FileMessageStore;
  await s.start();
  const before = s.commitLog.stats.datasyncs;
  const writesBefore = s.commitLog.stats.writeCalls;
  const results = await Promise.all(Array.from({ length: 64 }, (_, i) => s.putMessage(msg('G', i % 4, `g${i}`))));
  assert.ok(results.every((r) => r.status === PutStatus.PUT_OK));
  const syncs = s.commitLog.stats.datasyncs - before;
  const writes = s.commitLog.stats.writeCalls - writesBefore;
  console.log(`64 puts: ${syncs} commitlog fdatasyncs, ${writes} write calls`);
  assert.ok(syncs <= 4, `expected a few fdatasyncs, got ${syncs}`);
  assert.ok(writes <= 4, `expected one write per tick, got ${writes}`);
  await s.shutdown();
});

test('ASYNC_FLUSH: a group of puts larger than 1 MiB is written on the calling thread, not the thread pool', async () => {
  const d = await dir();
  const node = new NodeStorageIO();
  let poolWrites = 0;
  // The real files, with the commitlog's thread-pool writes counted (its blocking writeSync stays as it is).
  const io = Object.create(node) as NodeStorageIO;
  io.open = async (file: string) => {
    const f = await node.open(file);
    if (file.includes('commitlog')) {
      const write = f.write.bind(f);
      f.write = (buf: Buffer, position: number) => {
        poolWrites++;
        return write(buf, position);
      };
    }
    return f;
  };
  const s = createMessageStore(
    { storePathRootDir: d, ...smallStore, mappedFileSizeCommitLog: 16 << 20, maxIndexNum: 10_000 },
    { io },
  ) as FileMessageStore;
  await s.start();
  // The first put opens the segment file (until then it has no blocking write); count from the next group on.
  assert.equal((await s.putMessage(msg('Big', 0, 'first'))).status, PutStatus.PUT_OK);
  poolWrites = 0;
  // 24 batches of 64 × 1 KiB put in one turn: one group of ~1.7 MiB, as 16–24 batch sends in flight make.
  const body = Buffer.alloc(1024, 0x61);
  const puts = Array.from({ length: 24 }, (_, b) =>
    s.putMessages(Array.from({ length: 64 }, (_, i) => msg('Big', b % 4, body, { uniqKey: `k${b}-${i}` }))),
  );
  const results = await Promise.all(puts);
  assert.ok(results.every((r) => r.status === PutStatus.PUT_OK));
  assert.equal(poolWrites, 0, 'the group went through the thread pool');
  const got = await s.getMessage('Big', 1, 0n, 1000, 16 << 20);
  assert.equal(got.status, GetStatus.FOUND);
  assert.equal(got.recordCount ?? got.records.length, 6 * 64);
  await s.shutdown();
});

test('retention: expired segments go (never the active one), queues follow the new min offset', async () => {
  const d = await dir();
  const clock = new ManualClock(Date.now());
  const s = createMessageStore(
    { storePathRootDir: d, ...smallStore, mappedFileSizeCommitLog: 8 * 1024 },
    { clock },
  ) as FileMessageStore;
  await s.start();
  for (let i = 0; i < 200; i++) await s.putMessage(msg('R', 0, Buffer.alloc(200, i)));
  const segsBefore = s.commitLog.segmentStarts().length;
  assert.ok(segsBefore > 5);
  assert.equal(await s.retention.clean(true), 0); // not expired yet
  clock.advance(73 * 3600 * 1000);
  const deleted = await s.retention.clean(true);
  assert.ok(deleted > 0);
  const minPhy = s.getMinPhyOffset();
  assert.ok(minPhy > 0n);
  assert.ok(s.commitLog.segmentStarts().length >= 2); // active + pre-created stay
  const minQ = s.getMinOffsetInQueue('R', 0);
  assert.ok(minQ > 0n);
  assert.equal((await s.getMessage('R', 0, 0n, 10, 1 << 20)).status, GetStatus.OFFSET_TOO_SMALL);
  const r = await s.getMessage('R', 0, minQ, 10, 1 << 20);
  assert.equal(r.status, GetStatus.FOUND);
  assert.ok(decodeRecords(Buffer.concat(r.records)).every((m) => m.commitLogOffset >= minPhy));
  assert.ok((await fs.readdir(path.join(d, 'consumequeue', 'R', '0'))).length < 10);
  await s.shutdown();
});

test('rebuild: delete consumequeue/ and index/, restart, every query answers as before', async () => {
  const d = await dir();
  const s = createMessageStore({ storePathRootDir: d, ...smallStore }) as FileMessageStore;
  await s.start();
  for (let i = 0; i < 300; i++)
    await s.putMessage(msg(`RB${i % 3}`, i % 4, `rb${i}`, { keys: [`key${i}`], tag: `t${i % 2}` }));
  const snapshot = async (st: FileMessageStore) => {
    const out: unknown[] = [];
    for (let t = 0; t < 3; t++) {
      for (let q = 0; q < 4; q++) {
        const r = await st.getMessage(`RB${t}`, q, 0n, 1000, 1 << 24);
        out.push([
          st.getMinOffsetInQueue(`RB${t}`, q),
          st.getMaxOffsetInQueue(`RB${t}`, q),
          r.records.map((b) => b.toString('hex')),
        ]);
        const tagged = await st.getMessage(`RB${t}`, q, 0n, 1000, 1 << 24, { isMatchedByTagsCode: (c) => c === 3645n });
        out.push(tagged.queueOffsets);
      }
    }
    for (let i = 0; i < 300; i += 37)
      out.push(
        (await st.queryMessage(`RB${i % 3}`, `key${i}`, 10, 0n, BigInt(Date.now() + 1e6))).records.map((b) =>
          b.toString('hex'),
        ),
      );
    return out;
  };
  const before = await snapshot(s);
  await s.shutdown();
  await fs.rm(path.join(d, 'consumequeue'), { recursive: true });
  await fs.rm(path.join(d, 'index'), { recursive: true });
  const r = createMessageStore({ storePathRootDir: d, ...smallStore }) as FileMessageStore;
  await r.start();
  assert.equal(r.lastRecovery?.redispatched, 300);
  assert.deepEqual(await snapshot(r), before);
  await r.shutdown();
});

test('after a rebuild, prepared records still take no queue offset and stored offsets match positions', async () => {
  const d = await dir();
  const s = createMessageStore({ storePathRootDir: d, ...smallStore });
  await s.start();
  const prepared = { ...msg('TXR', 1, 'p'), sysFlag: SysFlag.transactionPreparedType };
  for (const m of [msg('TXR', 1, 'n0'), prepared, msg('TXR', 1, 'n1'), prepared, msg('TXR', 1, 'n2')])
    assert.equal((await s.putMessage(m)).status, PutStatus.PUT_OK);
  await s.shutdown();
  await fs.rm(path.join(d, 'consumequeue'), { recursive: true });
  const r = createMessageStore({ storePathRootDir: d, ...smallStore });
  await r.start();
  try {
    assert.equal(r.getMaxOffsetInQueue('TXR', 1), 3n);
    assert.equal((await r.putMessage(msg('TXR', 1, 'n3'))).queueOffset, 3n);
    const got = await r.getMessage('TXR', 1, 0n, 100, 1 << 20);
    const msgs = decodeRecords(Buffer.concat(got.records));
    assert.deepEqual(
      msgs.map((m) => [m.body.toString(), m.queueOffset]),
      [
        ['n0', 0n],
        ['n1', 1n],
        ['n2', 2n],
        ['n3', 3n],
      ],
    );
    assert.deepEqual(got.queueOffsets, [0n, 1n, 2n, 3n]);
  } finally {
    await r.shutdown();
  }
});

test("the index hash of topic#key from the topic part's hash equals the hash of the whole string", () => {
  fc.assert(
    fc.property(fc.string(), fc.string({ unit: 'binary' }), (topic, key) => {
      assert.equal(indexKeyHashAfter(javaStringHashCode(`${topic}#`), key), indexKeyHash(`${topic}#${key}`));
    }),
  );
});

test('BlockCache: reads across blocks equal the file, blocks are shared and bounded, failed reads are not kept', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const file = path.join(dir, 'seg');
  const segStart = 1 << 20; // the "segment" starts at log offset 1 MiB
  const data = Buffer.alloc(16 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
  await fs.writeFile(file, data);
  const f = await new NodeStorageIO().open(file);
  const cache = new BlockCache(1024, 4);
  const limit = segStart + data.length;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: data.length - 1 }),
        fc.integer({ min: 1, max: 3000 }),
        async (at, n) => {
          const len = Math.min(n, data.length - at);
          assert.ok(cache.covers(segStart + at, len, limit));
          const got = await cache.read(f, segStart, segStart + at, len, limit);
          assert.deepEqual(got?.bytes, data.subarray(at, at + len));
          got?.release();
          assert.ok(cache.size() <= 4);
        },
      ),
      { numRuns: 200 },
    );
    await new Promise((r) => setTimeout(r, 20));
    // Sequential readers of one region share blocks, and the next block was read ahead.
    const before = { ...cache.stats };
    for (let at = 0; at < 4096; at += 100) (await cache.read(f, segStart, segStart + 8192 + at, 100, limit))?.release();
    // 41 reads over 5 blocks: each block read once, plus one read ahead past the end.
    assert.ok(cache.stats.reads - before.reads <= 6, JSON.stringify(cache.stats));
    assert.ok(cache.stats.readAheads > before.readAheads);
    // Past the limit (not yet visible bytes): not covered, the caller reads directly.
    assert.equal(cache.covers(limit - 10, 20, limit), false);
    // Dropped blocks' buffers are read into again, but never while a slice of them is still held.
    const held = await cache.read(f, segStart, segStart + 100, 50, limit);
    assert.ok(held !== undefined);
    const reusedBefore = cache.stats.reused;
    for (let at = 1024; at < data.length; at += 1024)
      (await cache.read(f, segStart, segStart + at, 10, limit))?.release();
    await new Promise((r) => setTimeout(r, 20));
    for (let at = 1024; at < data.length; at += 1024)
      (await cache.read(f, segStart, segStart + at, 10, limit))?.release();
    assert.ok(cache.stats.reused > reusedBefore, `buffers reused: ${JSON.stringify(cache.stats)}`);
    assert.deepEqual(held.bytes, data.subarray(100, 150), 'a held slice keeps its bytes while blocks are reused');
    held.release();
    held.release(); // twice is harmless
    // As pieces: one slice per block touched, no copy, together the bytes asked for.
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: data.length - 1 }),
        fc.integer({ min: 1, max: 5000 }),
        async (at, n) => {
          const len = Math.min(n, data.length - at);
          const got = await cache.readPieces(f, segStart, segStart + at, len, limit);
          assert.ok(got !== undefined);
          const blocksTouched = Math.floor((segStart + at + len - 1) / 1024) - Math.floor((segStart + at) / 1024) + 1;
          assert.equal(got.pieces.length, blocksTouched);
          assert.equal(got.pieces[0]?.length, Math.min(len, 1024 - (at % 1024)));
          assert.deepEqual(Buffer.concat(got.pieces), data.subarray(at, at + len));
          got.release();
          assert.ok(cache.size() <= 4);
        },
      ),
      { numRuns: 200 },
    );
    // Held pieces keep every block they lie in from reuse.
    const pieces = await cache.readPieces(f, segStart, segStart + 1000, 2100, limit);
    assert.ok(pieces !== undefined && pieces.pieces.length === 4);
    for (let round = 0; round < 2; round++) {
      for (let at = 4096; at < data.length; at += 1024)
        (await cache.read(f, segStart, segStart + at, 10, limit))?.release();
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(Buffer.concat(pieces.pieces), data.subarray(1000, 3100));
    pieces.release();
  } finally {
    await f.close();
  }
  // A block whose read fails answers undefined (the caller reads directly) and is not kept.
  const failing = new BlockCache(1024, 4);
  const broken = { read: () => Promise.reject(new Error('EIO: test')) } as unknown as FileIO;
  assert.equal(await failing.read(broken, 0, 0, 10, 4096), undefined);
  assert.equal(await failing.readPieces(broken, 0, 1000, 100, 4096), undefined);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(failing.size(), 0);
});

test('ReadAhead: one cached read per queue and offset, taken once, bytes accounted, expired reads dropped', async () => {
  const ahead = new ReadAhead(1000, 50);
  const q1 = {} as ConsumeQueue;
  const q2 = {} as ConsumeQueue;
  const entries = Promise.resolve(Buffer.alloc(200));
  ahead.putEntries(q1, 10, 10, entries);
  ahead.putEntries(q1, 10, 10, Promise.resolve(Buffer.alloc(200, 1)));
  assert.equal(ahead.cachedBytes(), 200, 'a second read for the same place is not cached again');
  assert.equal(ahead.takeEntries(q2, 10, 10), undefined, 'another queue does not see it');
  assert.equal(ahead.takeEntries(q1, 10, 11), undefined, 'fewer entries than asked for is a miss');
  assert.equal(await ahead.takeEntries(q1, 10, 10), await entries);
  assert.equal(ahead.takeEntries(q1, 10, 10), undefined, 'taken once');
  assert.equal(ahead.cachedBytes(), 0);
  assert.equal(ahead.hasRoom(1000), true);
  assert.equal(ahead.hasRoom(1001), false);
  ahead.putEntries(q2, 0, 10, Promise.reject(new Error('EIO: test')));
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(ahead.hasRoom(1000), true, 'an untaken read expires (and its failure is not unhandled)');
  assert.equal(ahead.stats.dropped, 1);
});

test('PiecePool: written standard pieces are reused, oversize ones and a full free list are not', () => {
  const pool = new PiecePool();
  const a = pool.take(0, 0, 100);
  const big = pool.take(0, 0, pieceBytesMin + 1);
  assert.equal(a.buf.length, pieceBytesMin);
  assert.equal(big.buf.length, pieceBytesMin + 1);
  pool.release([a, big]);
  assert.equal(pool.take(4096, 8, 10).buf, a.buf, 'the released standard buffer comes back');
  assert.notEqual(pool.take(0, 0, 10).buf, big.buf, 'an oversize buffer is not kept');
  const many = Array.from({ length: 12 }, () => pool.take(0, 0, 1));
  pool.release(many);
  const again = new Set(Array.from({ length: 12 }, () => pool.take(0, 0, 1).buf));
  assert.equal(many.filter((p) => again.has(p.buf)).length, 8, 'at most 8 free buffers are kept');
});

test('CommitLog: records stay intact while piece buffers are reused turn after turn', async () => {
  const d = await dir();
  const s = createMessageStore({
    storePathRootDir: d,
    ...smallStore,
    mappedFileSizeCommitLog: 1 << 20,
  }) as FileMessageStore;
  await s.start();
  const bodies: Buffer[] = [];
  for (let turn = 0; turn < 30; turn++) {
    // 12 × 20 KiB fill most of a piece; every fifth turn adds a record larger than a piece.
    const batch = Array.from({ length: 12 }, (_, i) => Buffer.alloc(20 * 1024, (turn * 12 + i) % 251));
    if (turn % 5 === 0) batch.push(Buffer.alloc(pieceBytesMin + 1000, 250 - turn));
    const results = await Promise.all(batch.map((b) => s.putMessage(msg('P', 0, b))));
    assert.ok(results.every((r) => r.status === PutStatus.PUT_OK));
    bodies.push(...batch);
  }
  for (let i = 0; i < bodies.length; i++) {
    const got = await s.getMessage('P', 0, BigInt(i), 1, 1 << 30);
    assert.equal(got.status, GetStatus.FOUND);
    const [rec] = decodeRecords(got.records[0] as Buffer);
    assert.ok(rec?.body.equals(bodies[i] as Buffer), `record ${i} intact`);
  }
  await s.shutdown();
});

test('the index hash of an ASCII key from its bytes equals the hash from its string', () => {
  fc.assert(
    fc.property(
      fc.string(),
      fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)) }),
      (topic, key) => {
        const prefix = javaStringHashCode(`${topic}#`);
        const b = Buffer.from(`xx${key}yy`, 'latin1');
        assert.equal(indexKeyHashAfterBytes(prefix, b, 2, 2 + key.length), indexKeyHashAfter(prefix, key));
      },
    ),
  );
});

test('the index hash joined from the topic hash and the key hash equals the hash of the whole key (keys past 256 chars too)', () => {
  fc.assert(
    fc.property(fc.string(), fc.oneof(fc.string(), fc.string({ minLength: 250, maxLength: 600 })), (topic, key) => {
      const prefix = javaStringHashCode(`${topic}#`);
      assert.equal(indexKeyHashJoined(prefix, javaStringHashCode(key), key.length), indexKeyHashAfter(prefix, key));
    }),
  );
});
