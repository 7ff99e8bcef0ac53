/**
 * The fault matrix (issue 11): EMFILE, ENOSPC, EIO on write and EIO on fsync, each on the CommitLog, ConsumeQueue,
 * index, checkpoint and metadata files, injected through the store's I/O layer (FaultyStorageIO). Every cell
 * asserts the answer under the fault (a refusal code and remark, or none where the store retries), that nothing
 * acknowledged is lost (before and after a restart), and that the broker resumes by itself once the fault clears.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, test } from 'node:test';
import { ConsumerOffsetManager } from '../../src/broker/metadata/consumer-offsets.js';
import { answerOfPutStatus } from '../../src/broker/put/put-status.js';
import { decodeRecords } from '../../src/common/record.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { type FaultOp, FaultyStorageIO } from '../../src/store/fault-io.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore, GetStatus, NodeStorageIO, PutStatus } from '../../src/store/index.js';
import { msg, smallStore, tempDir } from '../store/helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const faults: ReadonlyArray<{ name: string; op: FaultOp; code: string }> = [
  { name: 'EMFILE', op: 'open', code: 'EMFILE' },
  { name: 'ENOSPC', op: 'write', code: 'ENOSPC' },
  { name: 'EIO on write', op: 'write', code: 'EIO' },
  { name: 'EIO on fsync', op: 'datasync', code: 'EIO' },
];

/** `refuses`: puts are refused while the fault lasts; the other files are retried behind the store's back. */
const files: ReadonlyArray<{ name: string; path: RegExp; refuses: boolean }> = [
  { name: 'CommitLog', path: /[/\\]commitlog[/\\]/, refuses: true },
  { name: 'ConsumeQueue', path: /[/\\]consumequeue[/\\]/, refuses: false },
  { name: 'index', path: /[/\\]index[/\\]/, refuses: false },
  { name: 'checkpoint', path: /[/\\]checkpoint$/, refuses: false },
  { name: 'metadata', path: /consumerOffset\.json/, refuses: false },
];

/** Enough puts to roll CommitLog segments (64 KiB) twice, ConsumeQueue files (100 entries) and index files. */
const putsUnderFaultMax = 600;
const roundSize = 20;
const resumeWithinMs = 10_000;

function openStore(dir: string, io: NodeStorageIO | FaultyStorageIO): Promise<FileMessageStore> {
  const s = createMessageStore(
    { storePathRootDir: dir, ...smallStore, flushDiskType: 'SYNC_FLUSH' },
    { io },
  ) as FileMessageStore;
  return s.start().then(() => s);
}

async function bodies(s: FileMessageStore, topic: string): Promise<string[]> {
  const out: string[] = [];
  let off = 0n;
  for (;;) {
    const r = await s.getMessage(topic, 0, off, 64, 1 << 20);
    if (r.status !== GetStatus.FOUND) return out;
    for (const m of decodeRecords(Buffer.concat(r.records))) out.push(m.body.toString().trimEnd());
    off = r.nextBeginOffset;
  }
}

async function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + resumeWithinMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`did not resume within ${resumeWithinMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A put of `name` (a 256-byte body, a key and a unique key) to `topic`. */
const put = (s: FileMessageStore, topic: string, name: string) =>
  s.putMessage(
    msg(topic, 0, `${topic}-${name}`.padEnd(256, ' '), { keys: [`k-${topic}-${name}`], uniqKey: `u-${topic}-${name}` }),
  );

for (const file of files) {
  for (const fault of faults) {
    test(`${fault.name} on ${file.name}: ${file.refuses ? 'puts refused with the cause' : 'retried, no refusal'}, no acked loss, resumes by itself`, async () => {
      const dir = await tempDir();
      dirs.push(dir);
      const io = new FaultyStorageIO(new NodeStorageIO(), 1);
      const s = await openStore(dir, io);
      const offsets = new ConsumerOffsetManager(dir, io);
      const acked = new Map<string, string[]>([
        ['A', []],
        ['N', []],
      ]);
      const record = async (topic: string, names: string[]) => {
        const results = await Promise.all(names.map((n) => put(s, topic, n)));
        const failed = results.filter((r) => r.status !== PutStatus.PUT_OK);
        results.forEach((r, i) => {
          if (r.status === PutStatus.PUT_OK) acked.get(topic)?.push(`${topic}-${names[i]}`);
        });
        return failed;
      };
      assert.deepEqual(await record('A', ['0', '1', '2', '3', '4']), []);
      offsets.commit('G', 'A', 0, 5n);
      await offsets.persist();

      // Under the fault.
      const rule = io.fail(fault.op, file.path, fault.code);
      let refusedAt: number | undefined;
      for (let i = 5; i < putsUnderFaultMax && refusedAt === undefined; i += roundSize) {
        const names = Array.from({ length: roundSize }, (_, k) => String(i + k));
        const failed = await record('A', names);
        // A topic first written under the fault: its ConsumeQueue file opens now.
        if (i === 105) failed.push(...(await record('N', ['n0', 'n1'])));
        if (failed.length === 0) continue;
        assert.ok(file.refuses, `${failed[0]?.status}: ${failed[0]?.remark}`);
        refusedAt = i;
        const first = failed[0];
        assert.equal(first?.status, PutStatus.UNKNOWN_ERROR);
        assert.match(first?.remark ?? '', new RegExp(`${fault.code}.*this put was not stored`));
        assert.equal(answerOfPutStatus(first.status, first.remark).code, ResponseCode.SYSTEM_ERROR);
      }
      offsets.commit('G', 'A', 0, 300n);
      await offsets.persist(); // a failed periodic write is retried by the file, not thrown at the caller
      if (file.refuses) {
        assert.ok(refusedAt !== undefined, 'the fault never refused a put');
        const later = await put(s, 'A', 'refused');
        assert.equal(later.status, PutStatus.SERVICE_NOT_AVAILABLE);
        assert.match(later.remark ?? '', new RegExp(`${fault.code}.*puts refused since \\d{4}-`));
        assert.equal(answerOfPutStatus(later.status, later.remark).code, ResponseCode.SERVICE_NOT_AVAILABLE);
      } else {
        // The file's periodic writes meet the fault (a fixed 150 ms was too short for its turns at load ~3).
        await eventually('a checkpoint turn under the fault', () => rule.hits > 0);
        assert.equal(s.readonlyReason(), undefined);
      }
      assert.ok(rule.hits > 0, 'the fault never struck');
      // Reads are served under the fault, and show exactly what was acknowledged.
      assert.deepEqual(await bodies(s, 'A'), acked.get('A'));

      // The fault clears: everything resumes without a restart.
      io.clearFaults();
      await eventually('puts', () => s.readonlyReason() === undefined);
      assert.deepEqual(await record('A', ['after']), []);
      await eventually('checkpoint', () =>
        s.checkpoint().then(
          () => true,
          () => false,
        ),
      );
      await eventually('consumer offsets file', async () => {
        // The durable replace moves the old file to .bak before renaming the new one in: a moment without it.
        const text = await fs.readFile(`${dir}/config/consumerOffset.json`, 'utf8').catch(() => '{"offsetTable":{}}');
        return (
          (JSON.parse(text) as { offsetTable: Record<string, Record<string, number>> }).offsetTable['A@G']?.['0'] ===
          300
        );
      });
      assert.deepEqual(await bodies(s, 'A'), acked.get('A'));
      assert.deepEqual(await bodies(s, 'N'), acked.get('N'));
      await s.shutdown();

      // After a restart: every acknowledged message, in order, found by key too; nothing that was refused.
      const r = await openStore(dir, new NodeStorageIO());
      for (const [topic, list] of acked) assert.deepEqual(await bodies(r, topic), list, topic);
      const aList = acked.get('A') as string[];
      for (const body of aList.filter((_, i) => i % 25 === 0 || i === aList.length - 1)) {
        const q = await r.queryMessage('A', `k-${body}`, 4, 0n, BigInt(Date.now() + 60_000));
        assert.equal(q.records.length, 1, `key k-${body}`);
      }
      await r.shutdown();
      const reloaded = new ConsumerOffsetManager(dir);
      await reloaded.load();
      assert.equal(reloaded.query('G', 'A', 0), 300n);
    });
  }
}
