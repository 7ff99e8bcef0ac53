/**
 * TimerService over a real file store: delivers every timer message at or after its time, restarts from its
 * checkpoint without losing or repeating one, reloads what a crash left (no checkpoint), retries failed puts.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ConfigFile } from '../../../src/broker/metadata/config-file.js';
import { timerHook } from '../../../src/broker/put/timer-hook.js';
import type { PutMessage } from '../../../src/broker/put/types.js';
import { timerTagsCodeOf } from '../../../src/broker/timer/tags-code.js';
import { TimerService } from '../../../src/broker/timer/timer-service.js';
import { createLogger, setLogLevel } from '../../../src/common/log.js';
import { encodeProperties, Prop } from '../../../src/common/properties.js';
import { decodeRecord } from '../../../src/common/record.js';
import { SystemTopic } from '../../../src/common/topics.js';
import { createMessageStore, defaultTagsCodeOf, type MessageStore, PutStatus } from '../../../src/store/index.js';
import type { MessageInput, PutResult } from '../../../src/store/types.js';
import { waitUntil } from '../../integration/procs.js';

setLogLevel('error');
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function openStore(dir: string): Promise<MessageStore> {
  const store = createMessageStore(
    { storePathRootDir: dir, mappedFileSizeCommitLog: 8 * 1024 * 1024 },
    { tagsCodeOf: timerTagsCodeOf(defaultTagsCodeOf) },
  );
  await store.start();
  return store;
}

/**
 * Puts a timer message for topic RealT queue `i % 4` due at `dueMs` (through the hook, as the send path does),
 * the hook deciding as at `decidedAtMs`: a test filling the store from one instant gets timer messages however
 * long the fill takes on a loaded machine (the hook turns a time already past into a plain send).
 */
async function putTimer(store: MessageStore, i: number, dueMs: number, decidedAtMs = Date.now()): Promise<void> {
  const hook = timerHook({ timer: { timerWheelEnable: true, timerMaxDelaySec: 3600 }, nowMs: () => decidedAtMs });
  const m: PutMessage = {
    topic: 'RealT',
    queueId: i % 4,
    flag: 0,
    body: Buffer.from(`m${i}`),
    properties: encodeProperties({ UNIQ_KEY: `U${i}`, KEYS: `k${i}`, [Prop.timerDeliverMs]: String(dueMs) }),
    sysFlag: 0,
    bornTimestamp: BigInt(Date.now()),
    bornHost: '127.0.0.1:1',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: 0n,
    scheduled: true,
  };
  assert.equal(hook.beforePut(m, { reconsumeTimes: 0, maxReconsumeTimes: undefined }), undefined);
  assert.equal(m.topic, SystemTopic.wheelTimer, `message ${i} due at ${dueMs} is a timer message`);
  const r = await store.putMessage(m);
  assert.equal(r.status, PutStatus.PUT_OK);
}

/** Every message in RealT: uniq key → { due, stored }. */
async function delivered(store: MessageStore): Promise<Array<{ key: string; dueMs: number; storedMs: number }>> {
  const out: Array<{ key: string; dueMs: number; storedMs: number }> = [];
  for (let q = 0; q < 4; q++) {
    let off = 0n;
    for (;;) {
      const r = await store.getMessage('RealT', q, off, 256, 8 * 1024 * 1024);
      if (r.queueOffsets.length === 0) break;
      for (const rec of r.records) {
        const { msg } = decodeRecord(rec);
        assert.equal(msg.properties.has(Prop.timerOutMs), false);
        assert.equal(msg.properties.has(Prop.realTopic), false);
        assert.equal(msg.queueId, Number(msg.body.toString().slice(1)) % 4);
        const key = msg.properties.get(Prop.uniqKey) as string;
        assert.equal(msg.properties.get(Prop.keys), `k${key.slice(1)}`);
        out.push({ key, dueMs: Number(msg.body.toString().slice(1)), storedMs: Number(msg.storeTimestamp) });
      }
      off = r.nextBeginOffset;
    }
  }
  return out;
}

function service(
  store: MessageStore,
  dir: string,
  put?: (m: readonly MessageInput[]) => Promise<PutResult>,
): TimerService {
  return new TimerService({
    store,
    putRewrittenBatch: put ?? ((m) => store.putMessages(m)),
    checkpointFile: ConfigFile.under(dir, 'timerCheckpoint.json'),
    precisionMs: 100,
    log: createLogger('test.timer'),
  });
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-timer-'));
  dirs.push(d);
  return d;
}

test('due messages go to their real topic and queue, never early; stop + restart repeats none', async () => {
  const dir = await tempDir();
  let store = await openStore(dir);
  const t0 = Date.now();
  const due = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const at = t0 + 300 + ((i * 7919) % 1500);
    due.set(`U${i}`, at);
    await putTimer(store, i, at, t0);
  }
  let svc = service(store, dir);
  await svc.start();
  await waitUntil(() => svc.stats().timerDelivered >= 100, '100 delivered', 60_000);
  await svc.stop();
  await store.shutdown();

  store = await openStore(dir);
  svc = service(store, dir);
  await svc.start();
  await waitUntil(() => svc.stats().timerPending === 0, 'nothing pending', 60_000);
  await svc.stop();
  const got = await delivered(store);
  const keys = got.map((g) => g.key);
  assert.equal(new Set(keys).size, 300, 'every message delivered');
  assert.equal(keys.length, 300, 'none twice after a clean stop');
  for (const g of got) {
    const dueMs = due.get(g.key) as number;
    assert.ok(g.storedMs >= dueMs, `${g.key} stored ${dueMs - g.storedMs} ms before its time`);
  }
  await store.shutdown();
});

test('no checkpoint written (a crash before the first one): every pending message is reloaded from the queue', async () => {
  const dir = await tempDir();
  let store = await openStore(dir);
  const t0 = Date.now();
  for (let i = 0; i < 50; i++) await putTimer(store, i, t0 + 400 + i * 10, t0);
  for (let i = 50; i < 60; i++) await putTimer(store, i, t0 + 100_000, t0);
  await store.shutdown();
  store = await openStore(dir);
  const svc = service(store, dir);
  await svc.start();
  assert.equal(svc.stats().timerPending, 60);
  await waitUntil(() => svc.stats().timerDelivered === 50, '50 delivered', 60_000);
  assert.equal(svc.stats().timerPending, 10);
  const cp = svc.checkpoint();
  assert.equal(cp.deliveredOffset, 50, 'the first pending queue offset');
  assert.ok(cp.firedUpToMs < t0 + 100_000);
  await svc.stop();
  assert.equal((await delivered(store)).length, 50);
  await store.shutdown();
});

test('a failed put is retried later, never skipped', async () => {
  const dir = await tempDir();
  const store = await openStore(dir);
  const t0 = Date.now();
  // Due at once, so they are put as one batch per real queue (4); the first 3 batch puts fail.
  for (let i = 0; i < 20; i++) await putTimer(store, i, t0 + 200, t0);
  let failures = 0;
  const flaky = (m: readonly MessageInput[]): Promise<PutResult> => {
    if (failures < 3) {
      failures++;
      return Promise.resolve({
        status: PutStatus.SERVICE_NOT_AVAILABLE,
        remark: 'disk full',
        wroteOffset: 0n,
        wroteBytes: 0,
        queueOffset: 0n,
        msgNum: 0,
        storeTimestamp: 0n,
        offsetMsgIdsText: '',
      });
    }
    return store.putMessages(m);
  };
  const svc = service(store, dir, flaky);
  await svc.start();
  await waitUntil(() => svc.stats().timerDelivered === 20, 'all 20 delivered after the failures', 60_000);
  assert.equal(svc.stats().timerPutRetries, 15, 'three batches of five retried');
  await svc.stop();
  const got = await delivered(store);
  assert.deepEqual(got.map((g) => g.key).sort(), [...Array(20).keys()].map((i) => `U${i}`).sort());
  await store.shutdown();
});

test('the skip rule: an entry seen and due before firedUpToMs is not reloaded, one past seenOffset always is', async () => {
  const dir = await tempDir();
  const store = await openStore(dir);
  const t0 = Date.now();
  for (let i = 0; i < 4; i++) await putTimer(store, i, t0 + 60_000 + i);
  const file = ConfigFile.under(dir, 'timerCheckpoint.json');
  // Offsets 0 and 1 delivered (below deliveredOffset), 2 seen and due before firedUpToMs, 3 not seen yet.
  await file.save({ deliveredOffset: 1, firedUpToMs: t0 + 60_002, seenOffset: 3 });
  const svc = service(store, dir);
  await svc.start();
  assert.equal(svc.stats().timerPending, 1, 'only offset 3 is pending');
  assert.equal(svc.checkpoint().deliveredOffset, 3);
  await svc.stop();
  await store.shutdown();
});

test('an unreadable checkpoint (no .bak): the service starts and reloads every pending message', async () => {
  const dir = await tempDir();
  const store = await openStore(dir);
  const t0 = Date.now();
  for (let i = 0; i < 5; i++) await putTimer(store, i, t0 + 60_000);
  await mkdir(path.join(dir, 'config'), { recursive: true });
  await writeFile(path.join(dir, 'config', 'timerCheckpoint.json'), '{"deliveredOffset": 3, trunc');
  const svc = service(store, dir);
  await svc.start();
  assert.equal(svc.stats().timerPending, 5);
  await svc.stop();
  await store.shutdown();
});

test('the checkpoint is written while messages are pending, not every second of an idle broker', async () => {
  const dir = await tempDir();
  const store = await openStore(dir);
  const file = ConfigFile.under(dir, 'timerCheckpoint.json');
  let saves = 0;
  const counting = Object.assign(Object.create(file) as ConfigFile, {
    save(value: unknown) {
      saves++;
      return file.save(value);
    },
  });
  const svc = new TimerService({
    store,
    putRewrittenBatch: (m) => store.putMessages(m),
    checkpointFile: counting,
    precisionMs: 100,
    log: createLogger('test.timer'),
  });
  await svc.start();
  await putTimer(store, 0, Date.now() + 1500);
  await waitUntil(() => saves >= 1, 'a checkpoint while one is pending', 5000);
  await waitUntil(() => svc.stats().timerDelivered === 1, 'delivered', 60_000);
  await new Promise((r) => setTimeout(r, 1200));
  const afterDelivery = saves;
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(saves, afterDelivery, 'no write while idle');
  await svc.stop();
  const saved = (await file.load()) as { deliveredOffset: number; seenOffset: number };
  assert.equal(saved.deliveredOffset, 1);
  assert.equal(saved.seenOffset, 1);
  await store.shutdown();
});

test('a message is fired at its time, not at the end of its timerPrecisionMs slot', async () => {
  const dir = await tempDir();
  const store = await openStore(dir);
  const svc = service(store, dir);
  await svc.start();
  // Each due 1 ms past a 100 ms boundary: slots of the precision's width fired them 99 ms late, every one.
  const t0 = Date.now();
  const base = Math.ceil((t0 + 1500) / 100) * 100 + 1;
  const count = 20;
  for (let i = 0; i < count; i++) await putTimer(store, i, base + i * 100, t0);
  await waitUntil(() => svc.stats().timerDelivered === count, 'all delivered', 15_000);
  await svc.stop();
  const late: number[] = [];
  for (let q = 0; q < 4; q++) {
    const r = await store.getMessage('RealT', q, 0n, 64, 8 * 1024 * 1024);
    for (const rec of r.records) {
      const { msg } = decodeRecord(rec);
      const i = Number(msg.body.toString().slice(1));
      late.push(Number(msg.properties.get(Prop.timerDequeueMs)) - (base + i * 100));
    }
  }
  assert.equal(late.length, count);
  assert.ok(Math.min(...late) >= 0, `fired early: ${late}`);
  // A loaded machine delays timers; one of 20 fired within half a slot is enough to tell the two apart.
  assert.ok(Math.min(...late) < 50, `fired ${late} ms after its time`);
  await store.shutdown();
});

test('past the bytes of reads a step may hold, fired bodies are copied and every message is delivered as it was', async () => {
  const dir = await tempDir();
  const store = await openStore(dir);
  const t0 = Date.now();
  const dueMs = t0 + 3000;
  for (let i = 0; i < 200; i++) await putTimer(store, i, dueMs, t0);
  assert.equal(store.getMaxOffsetInQueue(SystemTopic.wheelTimer, 0), 200n);
  const bodies: string[] = [];
  const svc = new TimerService({
    store,
    putRewrittenBatch: (m) => {
      for (const x of m) bodies.push(String(x.body));
      return store.putMessages(m);
    },
    checkpointFile: ConfigFile.under(dir, 'timerCheckpoint.json'),
    precisionMs: 100,
    log: createLogger('test.timer'),
    heldReadBytesMax: -1,
  });
  await svc.start();
  await waitUntil(() => svc.stats().timerDelivered === 200, 'all delivered', 15_000);
  await svc.stop();
  const got = await delivered(store);
  assert.equal(new Set(got.map((g) => g.key)).size, 200);
  assert.deepEqual(bodies.sort(), [...Array(200).keys()].map((i) => `m${i}`).sort());
  await store.shutdown();
});
