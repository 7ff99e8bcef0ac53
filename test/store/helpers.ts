import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { javaStringHashCode } from '../../src/common/hash.js';
import { encodeProperties } from '../../src/common/properties.js';
import { decodeRecord } from '../../src/common/record.js';
import type { StoreConfig } from '../../src/store/config.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore } from '../../src/store/index.js';
import type { MessageInput, MessageStore } from '../../src/store/types.js';

export async function tempDir(prefix = 'tsrocket-store-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export function msg(
  topic: string,
  queueId: number,
  body: string | Buffer,
  opts: { tag?: string; keys?: string[]; uniqKey?: string } = {},
): MessageInput {
  const props: Record<string, string> = {};
  if (opts.tag !== undefined) props['TAGS'] = opts.tag;
  if (opts.keys !== undefined) props['KEYS'] = opts.keys.join(' ');
  if (opts.uniqKey !== undefined) props['UNIQ_KEY'] = opts.uniqKey;
  return {
    topic,
    queueId,
    flag: 0,
    body: typeof body === 'string' ? Buffer.from(body) : body,
    properties: encodeProperties(props),
    sysFlag: 0,
    bornTimestamp: BigInt(Date.now()),
    bornHost: '127.0.0.1:5555',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: opts.tag === undefined ? 0n : BigInt(javaStringHashCode(opts.tag)),
    keys: opts.keys,
    uniqKey: opts.uniqKey,
  };
}

/** Small segments and files so tests roll over often. */
export const smallStore = {
  mappedFileSizeCommitLog: 64 * 1024,
  mappedFileSizeConsumeQueue: 20 * 100,
  maxHashSlotNum: 64,
  maxIndexNum: 200,
  flushIntervalCommitLog: 50,
  flushIntervalConsumeQueue: 50,
} as const;

/** Polls `cond` up to `tries` times, 5 ms apart (a bounded count, not a time). */
export async function until(cond: () => boolean | Promise<boolean>, tries = 2000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await sleep(5);
  }
  assert.fail('condition not reached');
}

/** Body `i` of the segment tests: 500–799 bytes, no zero byte, different per message. */
export function segmentBody(i: number): Buffer {
  const b = Buffer.alloc(500 + (i % 300));
  for (let k = 0; k < b.length; k++) b[k] = (i * 31 + k * 7) & 0xff || 1;
  return b;
}

/** Reads topic T queue 0 from its start and checks there are `n` messages with the bodies `segmentBody(i)`. */
export async function checkAll(store: MessageStore, n: number): Promise<void> {
  const got = await store.getMessage('T', 0, 0n, n + 1, 64 * 1024 * 1024);
  assert.equal(got.records.length, n);
  for (let i = 0; i < n; i++) {
    const { msg: m } = decodeRecord(got.records[i] as Buffer, 0);
    assert.ok(m.body.equals(segmentBody(i)), `message ${i} intact`);
  }
}

/**
 * Opens each store dir (`clean`: stopped cleanly; `crash`: a copy of its CommitLog taken while it ran) and checks that
 * recovery ends at `end`, the last record, finds no damage and reads back the `n` messages of `checkAll`; then removes
 * the dirs.
 */
export async function recoversToEnd(
  dirs: { clean: string; crash: string },
  config: Partial<StoreConfig>,
  end: bigint,
  n: number,
): Promise<void> {
  for (const [kind, d] of Object.entries(dirs)) {
    const again = createMessageStore({ storePathRootDir: d, ...config });
    await again.start();
    try {
      assert.equal(again.getMaxPhyOffset(), end, `${kind} recovery ends at the last record`);
      assert.equal(again.stats()['storeDamageFound'], 0);
      await checkAll(again, n);
    } finally {
      await again.shutdown();
    }
    await fs.rm(d, { recursive: true, force: true });
  }
}

/**
 * A store at `dir` with the read worker and a SQL92 filter bitmap (`compile`: the broker's `bitmapPredicateOf`),
 * where group G's `expression` on topic T was registered before `count` messages (properties `bucket` = i % 100,
 * body `m<i>-` and 300 × `pad`) were put; stopped and opened again, so that its records were written by an earlier
 * start (the read worker reads them, BODYCRC checked).
 */
export async function reopenedBitmapStore(
  dir: string,
  expression: string,
  compile: (expression: string) => ((properties: string | Buffer) => boolean) | undefined,
  pad: string,
  count = 2000,
): Promise<FileMessageStore> {
  const open = async () => {
    const s = createMessageStore(
      { storePathRootDir: dir, mappedFileSizeConsumeQueue: 20 * 1000, sparseReadWorkerEnable: true },
      { filterBitmap: compile },
    ) as FileMessageStore;
    await s.start();
    return s;
  };
  const store = await open();
  assert.ok(store.filterBitmap?.register('T', 'G', expression));
  for (let i = 0; i < count; i++) {
    const m = msg('T', 0, `m${i}-${pad.repeat(300)}`);
    m.properties = `bucket\u0001${i % 100}\u0002`;
    await store.putMessage(m);
  }
  await store.shutdown();
  return open();
}
