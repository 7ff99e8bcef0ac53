/**
 * Store benchmark: append msgs/s and MB/s (128 B / 1 KiB, ASYNC/SYNC, 1 and 64 writers), read msgs/s by queue
 * offset and recovery time, each next to the machine's own raw sequential write MB/s and fdatasync/s.
 * Env: STORE_BENCH_SECONDS (per append case, default 3), STORE_BENCH_RECOVERY_MB (default 1024).
 * Writes bench/results/store.json.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setLogLevel } from '../src/common/log.js';
import { encodeProperties } from '../src/common/properties.js';
import type { FileMessageStore } from '../src/store/file-store.js';
import { createMessageStore, GetStatus, type MessageInput, type PutResult, PutStatus } from '../src/store/index.js';

setLogLevel('warn');
const seconds = Number(process.env['STORE_BENCH_SECONDS'] ?? 3);
const recoveryMb = Number(process.env['STORE_BENCH_RECOVERY_MB'] ?? 1024);
const mb = 1024 * 1024;

function message(body: Buffer, queueId: number): MessageInput {
  return {
    topic: 'BenchTopic',
    queueId,
    flag: 0,
    body,
    properties: encodeProperties({ TAGS: 'bench', UNIQ_KEY: 'AC11000100002A9F0000000000000000' }),
    sysFlag: 0,
    bornTimestamp: BigInt(Date.now()),
    bornHost: '127.0.0.1:1',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: 93_508_654n,
    uniqKey: 'AC11000100002A9F0000000000000000',
  };
}

async function rawWrite(dir: string): Promise<number> {
  const file = path.join(dir, 'raw');
  const fh = await fs.open(file, 'w');
  const chunk = Buffer.alloc(mb, 7);
  const total = 512;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) await fh.write(chunk, 0, mb, i * mb);
  await fh.datasync();
  const s = (performance.now() - t0) / 1000;
  await fh.close();
  await fs.rm(file);
  return total / s;
}

async function rawFsync(dir: string): Promise<number> {
  const fh = await fs.open(path.join(dir, 'fsync'), 'w');
  const b = Buffer.alloc(4096, 1);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1500) {
    await fh.write(b, 0, b.length, (n % 256) * 4096);
    await fh.datasync();
    n++;
  }
  const s = (performance.now() - t0) / 1000;
  await fh.close();
  return n / s;
}

interface AppendResult {
  case: string;
  msgsPerSec: number;
  mbPerSec: number;
  ratio: string;
}

async function append(root: string, bodyBytes: number, mode: 'ASYNC_FLUSH' | 'SYNC_FLUSH', writers: number) {
  const body = Buffer.alloc(bodyBytes, 120);
  return timedPuts(root, `append-${bodyBytes}-${mode}-${writers}`, mode, writers, (store, w) =>
    store.putMessage(message(body, w % 8)),
  );
}

/** The broker's path for batches (auto-batched or explicit sends): 8 writers, one per queue, 64 messages a put. */
async function appendBatched(root: string, bodyBytes: number, batchSize: number) {
  const body = Buffer.alloc(bodyBytes, 120);
  return timedPuts(root, `append-batch-${bodyBytes}-${batchSize}`, 'ASYNC_FLUSH', 8, (store, q) =>
    store.putMessages(Array.from({ length: batchSize }, () => message(body, q))),
  );
}

/** `writers` loops calling `put` on a fresh store for `seconds`; every put must succeed. */
async function timedPuts(
  root: string,
  name: string,
  mode: 'ASYNC_FLUSH' | 'SYNC_FLUSH',
  writers: number,
  put: (store: FileMessageStore, writer: number) => Promise<PutResult>,
) {
  const dir = path.join(root, name);
  const store = createMessageStore({
    storePathRootDir: dir,
    flushDiskType: mode,
    mappedFileSizeCommitLog: 256 * mb,
  }) as FileMessageStore;
  await store.start();
  let count = 0;
  let bytes = 0;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      while (performance.now() < deadline) {
        const r = await put(store, w);
        if (r.status !== PutStatus.PUT_OK) throw new Error(`${r.status} ${r.remark}`);
        count += r.msgNum;
        bytes += r.wroteBytes;
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  return { store, dir, msgsPerSec: count / s, mbPerSec: bytes / mb / s };
}

async function readBack(store: FileMessageStore): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  for (let q = 0; q < 8; q++) {
    let off = 0n;
    for (;;) {
      const r = await store.getMessage('BenchTopic', q, off, 32, 4 * mb);
      if (r.status !== GetStatus.FOUND) break;
      n += r.records.length;
      off = r.nextBeginOffset;
    }
  }
  return n / ((performance.now() - t0) / 1000);
}

async function recovery(root: string): Promise<{ fillMb: number; cleanS: number; crashRebuildS: number }> {
  const dir = path.join(root, 'recovery');
  const store = createMessageStore({ storePathRootDir: dir }) as FileMessageStore;
  await store.start();
  const body = Buffer.alloc(1024, 121);
  const target = recoveryMb * mb;
  const batch = Array.from({ length: 32 }, () => message(body, 0));
  while (Number(store.getMaxPhyOffset()) < target) {
    await Promise.all(Array.from({ length: 8 }, (_, q) => store.putMessages(batch.map((m) => ({ ...m, queueId: q })))));
  }
  const fillMb = Number(store.getMaxPhyOffset()) / mb;
  await store.shutdown();
  let t0 = performance.now();
  const clean = createMessageStore({ storePathRootDir: dir }) as FileMessageStore;
  await clean.start();
  const cleanS = (performance.now() - t0) / 1000;
  await clean.shutdown();
  // Worst case: crash with no checkpoint and no ConsumeQueue/Index: full validate + CRC + rebuild.
  await fs.rm(path.join(dir, 'consumequeue'), { recursive: true });
  await fs.rm(path.join(dir, 'index'), { recursive: true });
  await fs.rm(path.join(dir, 'checkpoint'));
  await fs.writeFile(path.join(dir, 'abort'), '');
  t0 = performance.now();
  const crash = createMessageStore({ storePathRootDir: dir }) as FileMessageStore;
  await crash.start();
  const crashRebuildS = (performance.now() - t0) / 1000;
  await crash.shutdown();
  await fs.rm(dir, { recursive: true, force: true });
  return { fillMb, cleanS, crashRebuildS };
}

const root = await fs.mkdtemp(path.join(process.env['STORE_BENCH_DIR'] ?? os.tmpdir(), 'tsrocket-bench-store-'));
try {
  const rawMbPerSec = await rawWrite(root);
  const fsyncPerSec = await rawFsync(root);
  console.log(`raw sequential write ${rawMbPerSec.toFixed(0)} MB/s, fdatasync ${fsyncPerSec.toFixed(0)}/s`);
  const rows: AppendResult[] = [];
  const out: Record<string, unknown> = { rawMbPerSec, fsyncPerSec, seconds };
  let readMsgsPerSec = 0;
  let sync1 = 0;
  let sync64 = 0;
  for (const bodyBytes of [128, 1024]) {
    for (const mode of ['ASYNC_FLUSH', 'SYNC_FLUSH'] as const) {
      for (const writers of [1, 64]) {
        const r = await append(root, bodyBytes, mode, writers);
        const name = `append ${bodyBytes}B ${mode} ${writers}w`;
        const ratio =
          mode === 'ASYNC_FLUSH'
            ? `${((r.mbPerSec / rawMbPerSec) * 100).toFixed(1)}% of raw write`
            : `${(r.msgsPerSec / fsyncPerSec).toFixed(1)} msgs per raw fdatasync`;
        rows.push({ case: name, msgsPerSec: r.msgsPerSec, mbPerSec: r.mbPerSec, ratio });
        if (bodyBytes === 1024 && mode === 'ASYNC_FLUSH' && writers === 64) readMsgsPerSec = await readBack(r.store);
        if (bodyBytes === 1024 && mode === 'SYNC_FLUSH') {
          if (writers === 1) sync1 = r.msgsPerSec;
          else sync64 = r.msgsPerSec;
        }
        await r.store.shutdown();
        await fs.rm(r.dir, { recursive: true, force: true });
      }
    }
  }
  const batched = await appendBatched(root, 1024, 64);
  rows.push({
    case: 'append 1024B ASYNC_FLUSH 8w x 64-msg batches',
    msgsPerSec: batched.msgsPerSec,
    mbPerSec: batched.mbPerSec,
    ratio: `${((batched.mbPerSec / rawMbPerSec) * 100).toFixed(1)}% of raw write`,
  });
  await batched.store.shutdown();
  await fs.rm(batched.dir, { recursive: true, force: true });
  const asyncBest1k = Math.max(...rows.filter((r) => r.case.startsWith('append 1024B ASYNC')).map((r) => r.mbPerSec));
  const rec = await recovery(root);
  console.table(
    rows.map((r) => ({
      case: r.case,
      'msgs/s': Math.round(r.msgsPerSec),
      'MB/s': r.mbPerSec.toFixed(1),
      'vs hardware': r.ratio,
    })),
  );
  console.log(`read by queue offset (1 KiB, 32/pull): ${Math.round(readMsgsPerSec)} msgs/s`);
  console.log(`SYNC 64 writers / 1 writer (1 KiB): ${(sync64 / sync1).toFixed(1)}x (target >= 20x)`);
  console.log(
    `ASYNC append 1 KiB, best case: ${((asyncBest1k / rawMbPerSec) * 100).toFixed(1)}% of raw sequential write (target >= 50%)`,
  );
  console.log(
    `recovery of a ${rec.fillMb.toFixed(0)} MiB log: clean ${rec.cleanS.toFixed(2)} s, crash with full validate+rebuild ${rec.crashRebuildS.toFixed(2)} s ` +
      `(${((rec.fillMb / rec.crashRebuildS / rawMbPerSec) * 100).toFixed(0)}% of raw write speed)`,
  );
  Object.assign(out, {
    append: rows,
    readMsgsPerSec,
    syncScaling64vs1: sync64 / sync1,
    asyncAppend1kVsRawWrite: asyncBest1k / rawMbPerSec,
    recovery: rec,
    at: new Date().toISOString(),
  });
  const resultsDir = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'bench', 'results');
  await fs.mkdir(resultsDir, { recursive: true });
  await fs.writeFile(path.join(resultsDir, 'store.json'), `${JSON.stringify(out, null, 2)}\n`);
} finally {
  await fs.rm(root, { recursive: true, force: true });
}
