/** Fault injection on the file store: torn writes, corrupt records, fdatasync errors, ENOSPC, full disk. */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { decodeRecords, RecordPos } from '../../src/common/record.js';
import type { StoreConfig } from '../../src/store/config.js';
import { FaultyStorageIO } from '../../src/store/fault-io.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore, GetStatus, NodeStorageIO, PutStatus } from '../../src/store/index.js';
import { msg, smallStore, tempDir } from '../store/helpers.js';

const seed = Number(process.env['STORE_FAULT_SEED'] ?? Date.now() % 1_000_000);
console.log(`store fault seed=${seed} (STORE_FAULT_SEED to replay)`);
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

async function open(dir: string, io?: FaultyStorageIO, flushDiskType: 'SYNC_FLUSH' | 'ASYNC_FLUSH' = 'SYNC_FLUSH') {
  const s = createMessageStore(
    { storePathRootDir: dir, ...smallStore, flushDiskType },
    io === undefined ? {} : { io },
  ) as FileMessageStore;
  await s.start();
  return s;
}

async function bodies(s: FileMessageStore, topic: string, queueId = 0): Promise<string[]> {
  const out: string[] = [];
  let off = 0n;
  for (;;) {
    const r = await s.getMessage(topic, queueId, off, 32, 1 << 20);
    if (r.status !== GetStatus.FOUND) return out;
    for (const m of decodeRecords(Buffer.concat(r.records))) out.push(m.body.toString());
    off = r.nextBeginOffset;
  }
}

/** Waits until the store accepts puts again (the CommitLog repair ran), failing after `ms`. */
async function resumed(s: FileMessageStore, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (s.readonlyReason() !== undefined) {
    if (Date.now() > deadline) assert.fail(`still refusing: ${s.readonlyReason()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('torn write: the put fails, puts are refused with the reason, then resume; the failed put never appears', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const io = new FaultyStorageIO(new NodeStorageIO(), seed);
  const s = await open(dir, io);
  for (let i = 0; i < 20; i++) assert.equal((await s.putMessage(msg('T', 0, `m${i}`))).status, PutStatus.PUT_OK);
  io.tearNextWrite = /commitlog/;
  const torn = await s.putMessage(msg('T', 0, 'torn-message-with-a-longer-body'));
  assert.equal(torn.status, PutStatus.UNKNOWN_ERROR);
  assert.match(torn.remark ?? '', /torn write.*this put was not stored/);
  assert.match(s.readonlyReason() ?? '', /torn write.*puts refused since \d{4}-.*resumed by itself/);
  await resumed(s);
  const next = await s.putMessage(msg('T', 0, 'next'));
  assert.equal(next.status, PutStatus.PUT_OK);
  assert.equal(next.queueOffset, 20n);
  const acked = [...Array.from({ length: 20 }, (_, i) => `m${i}`), 'next'];
  assert.deepEqual(await bodies(s, 'T'), acked);
  await s.shutdown();
  // The torn record was cut before the next put: a restart finds exactly what was acknowledged.
  const r = await open(dir);
  assert.deepEqual(await bodies(r, 'T'), acked);
  await r.shutdown();
});

test('a torn tail inside the topic or the properties is detected and cut, though the body CRC holds', async () => {
  for (const lose of ['properties', 'topic'] as const) {
    const dir = await tempDir();
    dirs.push(dir);
    const s = await open(dir);
    for (let i = 0; i < 5; i++) await s.putMessage(msg('TT', 0, `k${i}`, { tag: 'tag', keys: [`key${i}`] }));
    // With no properties, a cut inside the topic leaves every length field as it was.
    const last = await s.putMessage(msg('TT', 0, 'last', lose === 'properties' ? { tag: 'tag' } : {}));
    await s.shutdown();
    // Zero the record's last 3 bytes as a torn write leaves them: the end of the properties, or the last topic
    // byte and the (zero) properties length.
    const seg = path.join(dir, 'commitlog', '0'.repeat(20));
    const fh = await fs.open(seg, 'r+');
    const end = Number(last.wroteOffset) + last.wroteBytes;
    const cut = 3;
    await fh.write(Buffer.alloc(cut), 0, cut, end - cut);
    await fh.close();
    await fs.writeFile(path.join(dir, 'abort'), '');
    const r = await open(dir);
    assert.equal(r.lastRecovery?.truncated?.offset, Number(last.wroteOffset), lose);
    assert.match(r.lastRecovery?.truncated?.reason ?? '', /torn tail/, lose);
    assert.deepEqual(await bodies(r, 'TT'), ['k0', 'k1', 'k2', 'k3', 'k4'], lose);
    await r.shutdown();
  }
});

test('corrupt middle record below the checkpoint (after a crash): skipped and reported, the records after it kept', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const s = await open(dir);
  const offsets: bigint[] = [];
  for (let i = 0; i < 30; i++) offsets.push((await s.putMessage(msg('C', 0, `c${i}`))).wroteOffset);
  await s.shutdown();
  const seg = path.join(dir, 'commitlog', '0'.repeat(20));
  const fh = await fs.open(seg, 'r+');
  await fh.write(Buffer.from('X'), 0, 1, Number(offsets[10]) + RecordPos.body);
  await fh.close();
  await fs.writeFile(path.join(dir, 'abort'), ''); // as after a crash
  const r = await open(dir);
  // The checkpoint vouched for all 30 records: this is damage, not a torn tail, so the log is not cut there.
  assert.equal(r.lastRecovery?.truncated, undefined);
  assert.deepEqual(r.lastRecovery?.skipped, [
    {
      offset: Number(offsets[10]),
      bytes: Number((offsets[11] as bigint) - (offsets[10] as bigint)),
      reason: 'body CRC mismatch',
    },
  ]);
  assert.equal(r.getMaxOffsetInQueue('C', 0), 30n);
  assert.deepEqual(
    await bodies(r, 'C'),
    Array.from({ length: 30 }, (_, i) => `c${i}`).filter((b) => b !== 'c10'),
  );
  await r.shutdown();
});

test('fdatasync error: waiting puts fail, puts resume by themselves, the failed ones never appear', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const io = new FaultyStorageIO(new NodeStorageIO(), seed);
  const s = await open(dir, io);
  for (let i = 0; i < 5; i++) assert.equal((await s.putMessage(msg('S', 0, `ok${i}`))).status, PutStatus.PUT_OK);
  io.failDatasyncs = 1;
  const failed = await Promise.all(Array.from({ length: 8 }, (_, i) => s.putMessage(msg('S', 0, `lost${i}`))));
  for (const f of failed) {
    assert.equal(f.status, PutStatus.UNKNOWN_ERROR);
    assert.match(f.remark ?? '', /fdatasync failed/);
  }
  // Failed puts never became visible.
  const ok = Array.from({ length: 5 }, (_, i) => `ok${i}`);
  assert.deepEqual(await bodies(s, 'S'), ok);
  await resumed(s);
  assert.equal((await s.putMessage(msg('S', 0, 'x'))).status, PutStatus.PUT_OK);
  assert.equal(s.stats()['commitLogRollBacks'], 1);
  await s.shutdown();
  const r = await open(dir);
  assert.deepEqual(await bodies(r, 'S'), [...ok, 'x']);
  await r.shutdown();
});

test('ENOSPC: the put fails with the cause, puts are refused until space is back, then resume without restart', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const io = new FaultyStorageIO(new NodeStorageIO(), seed);
  const s = await open(dir, io, 'ASYNC_FLUSH');
  for (let i = 0; i < 5; i++) await s.putMessage(msg('E', 0, `e${i}`));
  io.enospc = /commitlog/;
  const r1 = await s.putMessage(msg('E', 0, 'nospace'));
  assert.equal(r1.status, PutStatus.UNKNOWN_ERROR);
  assert.match(r1.remark ?? '', /ENOSPC/);
  // The repair's probe write keeps failing while the disk is full.
  await new Promise((r) => setTimeout(r, 300));
  assert.match(s.readonlyReason() ?? '', /ENOSPC.*refused since/);
  assert.equal((await s.putMessage(msg('E', 0, 'refused'))).status, PutStatus.SERVICE_NOT_AVAILABLE);
  io.enospc = undefined;
  await resumed(s);
  assert.equal((await s.putMessage(msg('E', 0, 'again'))).status, PutStatus.PUT_OK);
  const acked = [...Array.from({ length: 5 }, (_, i) => `e${i}`), 'again'];
  assert.deepEqual(await bodies(s, 'E'), acked);
  await s.shutdown();
  const r = await open(dir, io, 'ASYNC_FLUSH');
  assert.deepEqual(await bodies(r, 'E'), acked);
  await r.shutdown();
});

test('disk over 90 %: puts refused with a remark naming the ratio, reads served, clears by itself', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const io = new FaultyStorageIO(new NodeStorageIO(), seed);
  const s = createMessageStore(
    { storePathRootDir: dir, ...smallStore, diskCheckInterval: 20 },
    { io },
  ) as FileMessageStore;
  await s.start();
  await s.putMessage(msg('D', 0, 'before'));
  io.diskRatio = 0.93;
  await s.checkDiskNow();
  const refused = await s.putMessage(msg('D', 0, 'refused'));
  assert.equal(refused.status, PutStatus.SERVICE_NOT_AVAILABLE);
  assert.match(refused.remark ?? '', /disk full: 93\.0%/);
  assert.equal((await s.getMessage('D', 0, 0n, 10, 1 << 20)).status, GetStatus.FOUND);
  io.diskRatio = 0.5;
  const deadline = Date.now() + 5000;
  while (s.readonlyReason() !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(s.readonlyReason(), undefined);
  assert.equal((await s.putMessage(msg('D', 0, 'after'))).status, PutStatus.PUT_OK);
  await s.shutdown();
});

/** A SYNC_FLUSH store whose every fdatasync takes `datasyncDelayMs`, with `config` on top of the small test store. */
async function openSlowSync(config: Partial<StoreConfig>, datasyncDelayMs: number) {
  const dir = await tempDir();
  dirs.push(dir);
  const io = new FaultyStorageIO(new NodeStorageIO(), seed);
  const s = createMessageStore(
    { storePathRootDir: dir, ...smallStore, flushDiskType: 'SYNC_FLUSH', ...config },
    { io },
  ) as FileMessageStore;
  await s.start();
  io.datasyncDelayMs = datasyncDelayMs;
  return { dir, io, s };
}

test('flow control: while the disk stalls, new puts answer OS_PAGE_CACHE_BUSY; every accepted put lands', async () => {
  const { dir, io, s } = await openSlowSync({ osPageCacheBusyTimeOutMills: 100 }, 400);
  const a = s.putMessage(msg('T', 0, 'a'));
  // a is written and waits for its fdatasync; b waits behind it, unwritten, with no write progress.
  await new Promise((r) => setTimeout(r, 20));
  const b = s.putMessage(msg('T', 0, 'b'));
  await new Promise((r) => setTimeout(r, 250));
  const c = await s.putMessage(msg('T', 0, 'c'));
  assert.equal(c.status, PutStatus.OS_PAGE_CACHE_BUSY);
  assert.match(c.remark ?? '', /no CommitLog write progress for \d+ ms/);
  assert.equal((await a).status, PutStatus.PUT_OK);
  assert.equal((await b).status, PutStatus.PUT_OK);
  io.datasyncDelayMs = 0;
  assert.equal((await s.putMessage(msg('T', 0, 'd'))).status, PutStatus.PUT_OK);
  assert.deepEqual(await bodies(s, 'T'), ['a', 'b', 'd']);
  await s.shutdown();
  const r = await open(dir);
  assert.deepEqual(await bodies(r, 'T'), ['a', 'b', 'd']);
  await r.shutdown();
});

test('flow control: puts past maxUnwrittenPutBytes waiting for the disk are refused, not queued', async () => {
  const { s } = await openSlowSync({ maxUnwrittenPutBytes: 4096 }, 200);
  const first = s.putMessage(msg('T', 0, 'first'));
  const body = Buffer.alloc(1000, 0x61);
  const puts = Array.from({ length: 10 }, () => s.putMessage(msg('T', 0, body)));
  const results = await Promise.all([first, ...puts]);
  const ok = results.filter((x) => x.status === PutStatus.PUT_OK).length;
  const busy = results.filter((x) => x.status === PutStatus.OS_PAGE_CACHE_BUSY);
  assert.equal(ok + busy.length, 11);
  assert.ok(busy.length >= 5, `only ${busy.length} of 10 refused`);
  assert.ok(ok >= 4, `only ${ok} accepted`);
  assert.match(busy[0]?.remark ?? '', /bytes of puts are waiting for the disk \(limit 4096\)/);
  assert.equal((await bodies(s, 'T')).length, ok);
  await s.shutdown();
});

test('a put answered FLUSH_DISK_TIMEOUT whose fdatasync then fails is cut by the roll-back, and counted', async () => {
  const { dir, io, s } = await openSlowSync({ syncFlushTimeout: 50 }, 0);
  assert.equal((await s.putMessage(msg('T', 0, 'kept'))).status, PutStatus.PUT_OK);
  io.datasyncDelayMs = 200;
  io.failDatasyncs = 1;
  const slow = await s.putMessage(msg('T', 0, 'slow'));
  assert.equal(slow.status, PutStatus.FLUSH_DISK_TIMEOUT);
  io.datasyncDelayMs = 0;
  // The late fdatasync fails: the log is rolled back past the timed-out put.
  const deadline = Date.now() + 5000;
  while (s.stats()['commitLogRollBacks'] !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await resumed(s);
  assert.equal(s.stats()['timedOutPutsCut'], 1);
  assert.deepEqual(await bodies(s, 'T'), ['kept']);
  await s.shutdown();
  const r = await open(dir);
  assert.deepEqual(await bodies(r, 'T'), ['kept']);
  await r.shutdown();
});
