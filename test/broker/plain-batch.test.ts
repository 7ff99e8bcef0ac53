/**
 * The plain-batch path (send.ts `plainBatchOf` + the file store's `putPlainBatch`) against the general path
 * (`forEachBatchItem` + `inputOf` + `putMessages`): the same batches put into two file stores with one clock store
 * the same bytes (CommitLog, ConsumeQueues, IndexFiles, the SQL92 bitmap's side queues), answer the same results,
 * and tell arrival listeners what wakes the same waiters (checkBatchArrivals: per batch, the highest record of each
 * tag code, where the general path tells every record). And which batches the plain path declines.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import type { BrokerContext } from '../../src/broker/context.js';
import { bitmapPredicateOf, compiledSql92, sqlMessageFilter } from '../../src/broker/filter/sql92-filter.js';
import { forEachBatchItem } from '../../src/broker/processors/batch-codec.js';
import { inputOf, plainBatchOf } from '../../src/broker/processors/send.js';
import { brokerPutHooks } from '../../src/broker/put/hooks.js';
import { PutPipeline } from '../../src/broker/put/pipeline.js';
import type { PutHook, PutMessage } from '../../src/broker/put/types.js';
import type { SendMessageRequestHeader } from '../../src/remoting/protocol/send.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore, type MessageStore, type PutResult } from '../../src/store/index.js';
import { tempDir } from '../store/helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const topic = 'PlainT';
const born = '10.1.2.3:4567';
const ctx = { config: { maxMessageSize: 4 * 1024 * 1024, maxPropertiesBytes: 32 * 1024 } } as unknown as BrokerContext;
const header = {
  topic,
  sysFlag: 0,
  bornTimestamp: 1_700_000_000_123n,
  reconsumeTimes: 3,
} as unknown as SendMessageRequestHeader;

interface Item {
  body: Buffer;
  flag: number;
  props: [string, string][];
  /** The last property's separator left out (as some clients send it). */
  open: boolean;
}

function propertiesOf(it: Item): Buffer {
  const text = it.props.map(([k, v]) => `${k}\u0001${v}\u0002`).join('');
  return Buffer.from(it.open && text.length > 0 ? text.slice(0, -1) : text, 'utf8');
}

/** A SEND_BATCH_MESSAGE body (RocketMQ's MessageDecoder.encodeMessages), written by hand so any properties fit. */
function batchBody(items: readonly Item[]): Buffer {
  const parts: Buffer[] = [];
  for (const it of items) {
    const p = propertiesOf(it);
    const head = Buffer.alloc(20);
    head.writeInt32BE(20 + it.body.length + 2 + p.length, 0);
    head.writeInt32BE(it.flag, 12);
    head.writeInt32BE(it.body.length, 16);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(p.length);
    parts.push(head, it.body, len, p);
  }
  return Buffer.concat(parts);
}

const asciiKey = fc.stringMatching(/^[0-9A-F]{8,32}$/);
const sdkIdTail = fc.stringMatching(/^[0-9A-F]{8}$/);
const word = fc.stringMatching(/^[a-z0-9]{1,6}$/);
const itemArb: fc.Arbitrary<Item> = fc.record({
  body: fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a)),
  flag: fc.integer({ min: -5, max: 1 << 20 }),
  props: fc
    .record({
      // Non-ASCII TAGS too: their hash is over the UTF-16 text, not the bytes.
      tags: fc.option(fc.oneof(word, fc.constant(''), fc.constant('étiquette-键')), { nil: undefined }),
      keys: fc.option(fc.array(word, { minLength: 1, maxLength: 3 }), { nil: undefined }),
      uniq: fc.option(asciiKey, { nil: undefined }),
      // The SDK's tail (WAIT, a 32-digit UNIQ_KEY last; send-props.ts sdkTail): ids that share their first 28
      // digits or not.
      sdk: fc.option(fc.tuple(fc.constantFrom('7F0000010E1C18B4AAC20000', '0A0B0C0D0E0F10111213141E'), sdkIdTail), {
        nil: undefined,
      }),
      bucket: fc.integer({ min: 0, max: 9 }),
      // Long values too: properties over 256 bytes are copied through a view, shorter ones word by word.
      other: fc.option(
        fc
          .oneof(fc.string({ maxLength: 12 }), fc.string({ minLength: 200, maxLength: 400 }))
          .filter((s) => !/[\u0001\u0002]/.test(s)),
        { nil: undefined },
      ),
    })
    .map(({ tags, keys, uniq, sdk, bucket, other }) => {
      const out: [string, string][] = [];
      if (uniq !== undefined) out.push(['UNIQ_KEY', uniq]);
      if (tags !== undefined) out.push(['TAGS', tags]);
      out.push(['bucket', String(bucket)]);
      if (keys !== undefined) out.push(['KEYS', keys.join(' ')]);
      if (other !== undefined) out.push(['note', other]);
      if (sdk !== undefined) out.push(['WAIT', 'true'], ['UNIQ_KEY', sdk[0] + sdk[1]]);
      return out;
    }),
  open: fc.boolean(),
});

/** Short items, many to a batch: past the 64 items plainBatchOf makes room for at first (its item array grows). */
const smallItemArb: fc.Arbitrary<Item> = fc.record({
  body: fc.uint8Array({ minLength: 0, maxLength: 40 }).map((a) => Buffer.from(a)),
  flag: fc.integer({ min: 0, max: 3 }),
  props: fc
    .record({ tags: fc.option(word, { nil: undefined }), uniq: fc.option(asciiKey, { nil: undefined }) })
    .map(({ tags, uniq }) => {
      const out: [string, string][] = [];
      if (tags !== undefined) out.push(['TAGS', tags]);
      if (uniq !== undefined) out.push(['UNIQ_KEY', uniq]);
      return out;
    }),
  open: fc.boolean(),
});

async function openStore(dir: string, maxIndexNum = 120): Promise<FileMessageStore> {
  const store = createMessageStore(
    {
      storePathRootDir: dir,
      mappedFileSizeCommitLog: 64 * 1024,
      mappedFileSizeConsumeQueue: 20 * 50,
      maxHashSlotNum: 64,
      maxIndexNum,
      storeHost: '10.0.0.9:10911',
    },
    { clock: { now: () => 1_700_000_100_000 }, filterBitmap: bitmapPredicateOf },
  ) as FileMessageStore;
  await store.start();
  assert.ok(store.filterBitmap?.register(topic, 'G', 'bucket >= 5'));
  return store;
}

function generalPut(store: MessageStore, body: Buffer, queueId: number): Promise<PutResult> {
  const inputs: PutMessage[] = [];
  const bad = forEachBatchItem(body, (flag, itemBody, properties) => {
    inputs.push(inputOf(topic, queueId, flag, itemBody, properties, header, born));
    return undefined;
  });
  assert.equal(bad, undefined);
  return store.putMessages(inputs);
}

function plainPut(store: MessageStore, body: Buffer, queueId: number): Promise<PutResult> {
  const b = plainBatchOf(ctx, body, topic, queueId, header, born);
  assert.ok(b !== undefined, 'a plain batch');
  assert.ok(store.putPlainBatch !== undefined);
  return store.putPlainBatch(b);
}

interface Arrival {
  topic: string;
  queueId: number;
  offset: number;
  tags: bigint;
}

/**
 * The arrival contract for plain batches (ArrivalListener): the general path tells every record; the plain path
 * tells, per batch, the record with the highest offset of each distinct tag code (a held pull or POP waiter wakes
 * on a record its filter takes at or past its offset: the highest of a code answers for every record of it), in
 * offset order, and only records the general path told. A batch of one tag code is one call.
 */
function checkBatchArrivals(
  general: readonly Arrival[],
  plain: readonly Arrival[],
  puts: readonly { queueId: number; first: number; count: number }[],
): void {
  const key = (x: Arrival) => `${x.topic}/${x.queueId}/${x.offset}/${x.tags}`;
  assert.equal(
    general.length,
    puts.reduce((n, p) => n + p.count, 0),
    'the general path tells every record',
  );
  let told = 0;
  for (const p of puts) {
    const inPut = (x: Arrival) => x.queueId === p.queueId && x.offset >= p.first && x.offset < p.first + p.count;
    const a = general.filter(inPut);
    const b = plain.filter(inPut);
    told += b.length;
    const all = new Set(a.map(key));
    for (const x of b) assert.ok(all.has(key(x)), `${key(x)} is a record of the batch`);
    for (let i = 1; i < b.length; i++) assert.ok((b[i] as Arrival).offset > (b[i - 1] as Arrival).offset, 'in order');
    const highest = new Map<bigint, Arrival>();
    for (const x of a) if ((highest.get(x.tags)?.offset ?? -1) < x.offset) highest.set(x.tags, x);
    const toldKeys = new Set(b.map(key));
    for (const x of highest.values()) assert.ok(toldKeys.has(key(x)), `${key(x)}: the highest of its tag code told`);
    if (highest.size === 1) assert.equal(b.length, 1, 'a batch of one tag code is one call');
  }
  assert.equal(plain.length, told, 'every call is a record of a batch');
}

/** Every file under `dir`'s store directories, by relative path. */
async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (!['lock', 'abort', 'checkpoint'].includes(e.name)) out.set(path.relative(dir, p), await fs.readFile(p));
    }
  };
  await walk(dir);
  return out;
}

/** The two stores' files are the same names with the same bytes; then both dirs are removed. */
async function assertSameFilesThenRemove(dirA: string, dirB: string): Promise<void> {
  const fa = await filesOf(dirA);
  const fb = await filesOf(dirB);
  assert.deepEqual([...fb.keys()].sort(), [...fa.keys()].sort());
  for (const [name, bytes] of fa) assert.ok(bytes.equals(fb.get(name) as Buffer), `${name} differs`);
  await fs.rm(dirA, { recursive: true, force: true });
  await fs.rm(dirB, { recursive: true, force: true });
}

test('plain batches store the same bytes, entries and answers as the general path', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.tuple(
          fc.oneof(
            { arbitrary: fc.array(itemArb, { minLength: 1, maxLength: 40 }), weight: 4 },
            { arbitrary: fc.array(smallItemArb, { minLength: 65, maxLength: 140 }), weight: 1 },
          ),
          fc.integer({ min: 0, max: 2 }),
        ),
        { minLength: 1, maxLength: 8 },
      ),
      async (puts) => {
        const [dirA, dirB] = [await tempDir('tsrocket-plain-a-'), await tempDir('tsrocket-plain-b-')];
        dirs.push(dirA, dirB);
        const a = await openStore(dirA);
        const b = await openStore(dirB);
        const arrivedA: Arrival[] = [];
        const arrivedB: Arrival[] = [];
        a.addArrivalListener((t, q, o, tags) => arrivedA.push({ topic: t, queueId: q, offset: o, tags }));
        b.addArrivalListener((t, q, o, tags) => arrivedB.push({ topic: t, queueId: q, offset: o, tags }));
        const stored: { queueId: number; first: number; count: number }[] = [];
        const keys = new Set<string>();
        try {
          for (const [items, queueId] of puts) {
            const body = batchBody(items);
            const ra = await generalPut(a, body, queueId);
            const rb = await plainPut(b, body, queueId);
            assert.deepEqual(rb, ra);
            stored.push({ queueId, first: Number(ra.queueOffset), count: items.length });
            for (const it of items) {
              // A later UNIQ_KEY wins (the SDK-shaped items may carry two): only it is indexed.
              let uniq: string | undefined;
              for (const [k, v] of it.props) {
                if (k === 'UNIQ_KEY') uniq = v;
                if (k === 'KEYS') for (const w of v.split(' ')) keys.add(w);
              }
              if (uniq !== undefined) keys.add(uniq);
            }
          }
          checkBatchArrivals(arrivedA, arrivedB, stored);
          for (let q = 0; q < 3; q++) {
            assert.deepEqual(
              await b.readQueueEntries(topic, q, 0n, 10_000),
              await a.readQueueEntries(topic, q, 0n, 10_000),
            );
            // The bitmap's side queue: a pull judged by its bits returns the same offsets from both stores.
            const c = compiledSql92('bucket >= 5');
            assert.ok(c.ok);
            const pull = async (s: FileMessageStore) => {
              const f = sqlMessageFilter(c.filter, s.filterBitmap?.probe(topic, 'G', 'bucket >= 5'));
              const r = await s.getMessage(topic, q, 0n, 10_000, 64 * 1024 * 1024, f);
              return r.queueOffsets;
            };
            assert.deepEqual(await pull(b), await pull(a));
          }
          for (const k of keys) {
            const qa = await a.queryMessage(topic, k, 1000, 0n, 2n ** 62n);
            const qb = await b.queryMessage(topic, k, 1000, 0n, 2n ** 62n);
            assert.deepEqual(qb.records, qa.records, `query ${k}`);
            assert.ok(qa.records.length > 0, `key ${k} found`);
          }
        } finally {
          await a.shutdown();
          await b.shutdown();
        }
        await assertSameFilesThenRemove(dirA, dirB);
      },
    ),
    { numRuns: 12 },
  );
});

test('plain batches put while earlier ones are in flight store and answer the same as the general path', async () => {
  // 160 batches of 64 started at once: their item rows, offsets and sizes (pooled-arrays.ts) span more than one
  // slab, and each answer's offsetMsgIds are written once its batch is visible, after later batches were put. Index
  // files of 30,000 entries: the grouped batches' UNIQ_KEYs go in at once (IndexFile.putHashes), into 64 slots.
  const [dirA, dirB] = [await tempDir('tsrocket-plain-a-'), await tempDir('tsrocket-plain-b-')];
  dirs.push(dirA, dirB);
  const a = await openStore(dirA, 30_000);
  const b = await openStore(dirB, 30_000);
  try {
    const bodies = Array.from({ length: 160 }, (_, n) =>
      batchBody(
        Array.from({ length: 64 }, (_, i) => ({
          body: Buffer.from(`m${n}-${i}`),
          flag: i,
          // Half the batches as the SDK writes them: TAGS, then WAIT and a 32-digit UNIQ_KEY last.
          props: (n % 2 === 0
            ? [
                ['UNIQ_KEY', `AB${(n * 64 + i).toString(16).toUpperCase().padStart(8, '0')}`],
                ['TAGS', `t${i % 3}`],
              ]
            : [
                ['TAGS', `t${i % 3}`],
                ['WAIT', 'true'],
                ['UNIQ_KEY', `7F0000010E1C18B4AAC2${(n * 64 + i).toString(16).toUpperCase().padStart(12, '0')}`],
              ]) as [string, string][],
          open: i % 2 === 0,
        })),
      ),
    );
    const ra = await Promise.all(bodies.map((body, n) => generalPut(a, body, n % 3)));
    const rb = await Promise.all(bodies.map((body, n) => plainPut(b, body, n % 3)));
    assert.deepEqual(rb, ra);
    // Then in groups of 8 (a group's batches are in flight together): with an index file open and not rolling, a
    // batch's keys go into it at once.
    for (let g = 0; g < bodies.length; g += 8) {
      const group = bodies.slice(g, g + 8);
      const ga = await Promise.all(group.map((body, n) => generalPut(a, body, n % 3)));
      assert.deepEqual(await Promise.all(group.map((body, n) => plainPut(b, body, n % 3))), ga);
    }
    assert.equal(new Set(rb.map((r) => r.offsetMsgIdsText)).size, bodies.length);
    for (let q = 0; q < 3; q++) {
      assert.deepEqual(await b.readQueueEntries(topic, q, 0n, 10_000), await a.readQueueEntries(topic, q, 0n, 10_000));
    }
  } finally {
    await a.shutdown();
    await b.shutdown();
  }
  await assertSameFilesThenRemove(dirA, dirB);
});

test('a batch is declined by the plain path when an item is not plain or the body is bad', () => {
  const plain: Item = { body: Buffer.from('x'), flag: 0, props: [['UNIQ_KEY', 'AB12']], open: false };
  assert.ok(plainBatchOf(ctx, batchBody([plain, plain]), topic, 0, header, born) !== undefined);
  for (const [name, value] of [
    ['TRAN_MSG', 'true'],
    ['TRAN_MSG', 'false'],
    ['REPLY_TO_CLIENT', 'c1'],
    ['DELAY', '3'],
    ['TIMER_DELIVER_MS', '1700000000000'],
    ['__STARTDELIVERTIME', '1700000000000'],
    ['UNIQ_KEY', 'ключ'],
  ] as const) {
    const odd: Item = { body: Buffer.from('y'), flag: 0, props: [[name, value]], open: false };
    assert.equal(plainBatchOf(ctx, batchBody([plain, odd]), topic, 0, header, born), undefined, name);
  }
  const body = batchBody([plain, plain]);
  assert.equal(plainBatchOf(ctx, body.subarray(0, body.length - 1), topic, 0, header, born), undefined, 'truncated');
  assert.equal(plainBatchOf(ctx, Buffer.alloc(0), topic, 0, header, born), undefined, 'empty');
  const small = { config: { maxMessageSize: 4, maxPropertiesBytes: 32 * 1024 } } as unknown as BrokerContext;
  const big: Item = { body: Buffer.alloc(5), flag: 0, props: [], open: false };
  assert.equal(plainBatchOf(small, batchBody([big]), topic, 0, header, born), undefined, 'body over the limit');
});

test('the plain path declines exactly the bodies the batch decoder finds bad (its walk repeats the checks)', () => {
  fc.assert(
    fc.property(
      fc.array(smallItemArb, { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.nat(),
      fc.boolean(),
      (items, flips, cut, truncate) => {
        const body = Buffer.from(batchBody(items));
        // Bytes changed anywhere (sizes, lengths, bodies, properties) and maybe the body cut short.
        for (const [at, value] of flips) body[at % body.length] = value;
        const bytes = truncate ? body.subarray(0, cut % (body.length + 1)) : body;
        let decoded = 0;
        const bad = forEachBatchItem(bytes, () => {
          decoded++;
          return undefined;
        });
        const b = plainBatchOf(ctx, bytes, topic, 0, header, born);
        if (bad !== undefined || decoded === 0) {
          // A flip can also make an item not plain (a property name): declined then too, never accepted when bad.
          assert.equal(b, undefined, `bad body accepted: ${bad}`);
        } else if (b !== undefined) assert.equal(b.count, decoded);
        else assert.ok(flips.length > 0 || truncate, 'an untouched body of plain items is taken');
      },
    ),
    { numRuns: 2000 },
  );
});

test('the put pipeline takes plain batches only while every hook leaves plain messages alone and the store can', async () => {
  const dir = await tempDir('tsrocket-plain-p-');
  dirs.push(dir);
  const store = createMessageStore({ storePathRootDir: dir });
  const memory = createMessageStore({}, { kind: 'memory' });
  const deps = {
    config: { brokerName: 'b', brokerClusterName: 'c', rejectTransactionMessage: false },
    topics: {},
    groups: {},
    levels: {},
  } as unknown as Parameters<typeof brokerPutHooks>[0];
  const hooks = brokerPutHooks(deps);
  assert.ok(hooks.length > 0);
  for (const h of hooks) assert.equal(h.leavesPlainAlone, true, h.name);
  assert.equal(new PutPipeline(store, hooks).plainBatches, true);
  // A hook that does not say it leaves plain messages alone turns the path off for every batch.
  const other: PutHook = { name: 'other', beforePut: () => undefined };
  const without = new PutPipeline(store, [...hooks, other]);
  assert.equal(without.plainBatches, false);
  const b = plainBatchOf(
    ctx,
    batchBody([{ body: Buffer.from('x'), flag: 0, props: [], open: false }]),
    topic,
    0,
    header,
    born,
  );
  assert.ok(b !== undefined);
  assert.throws(() => without.putPlainBatch(b));
  // The memory store has no putPlainBatch: its batches take the general path.
  assert.equal(new PutPipeline(memory, hooks).plainBatches, false);
});
