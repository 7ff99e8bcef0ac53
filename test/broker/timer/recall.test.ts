/**
 * Recalling timer messages: a recalled message is never delivered — recalled while the service runs, and after a
 * restart that forgot the recall (only the marker in the timer queue remembers it); a due one cannot be recalled.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ConfigFile } from '../../../src/broker/metadata/config-file.js';
import { timerHook } from '../../../src/broker/put/timer-hook.js';
import type { PutMessage } from '../../../src/broker/put/types.js';
import { decodeRecallHandle, encodeRecallHandle } from '../../../src/broker/timer/recall.js';
import { timerTagsCodeOf } from '../../../src/broker/timer/tags-code.js';
import { TimerService } from '../../../src/broker/timer/timer-service.js';
import { createLogger, setLogLevel } from '../../../src/common/log.js';
import { encodeProperties, Prop } from '../../../src/common/properties.js';
import { decodeRecord } from '../../../src/common/record.js';
import { createMessageStore, defaultTagsCodeOf, type MessageStore, PutStatus } from '../../../src/store/index.js';
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

/** Held at one instant while a test puts and recalls (a loaded machine can take longer than the time ahead). */
let heldMs: number | undefined;
const clock = (): number => heldMs ?? Date.now();
const hook = timerHook({ timer: { timerWheelEnable: true, timerMaxDelaySec: 3600 }, nowMs: clock });

async function putTimer(store: MessageStore, key: string, dueMs: number): Promise<void> {
  const m: PutMessage = {
    topic: 'RealT',
    queueId: 0,
    flag: 0,
    body: Buffer.from(key),
    properties: encodeProperties({ [Prop.uniqKey]: key, [Prop.timerDeliverMs]: String(dueMs) }),
    sysFlag: 0,
    bornTimestamp: BigInt(Date.now()),
    bornHost: '127.0.0.1:1',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: 0n,
    scheduled: true,
  };
  assert.equal(hook.beforePut(m, { reconsumeTimes: 0, maxReconsumeTimes: undefined }), undefined);
  assert.equal((await store.putMessage(m)).status, PutStatus.PUT_OK);
}

async function deliveredKeys(store: MessageStore): Promise<string[]> {
  const r = await store.getMessage('RealT', 0, 0n, 256, 8 * 1024 * 1024);
  return r.records.map((rec) => decodeRecord(rec).msg.properties.get(Prop.uniqKey) as string).sort();
}

function service(store: MessageStore, dir: string, nowMs?: () => number): TimerService {
  return new TimerService({
    nowMs,
    store,
    putRewrittenBatch: (m) => store.putMessages(m),
    checkpointFile: ConfigFile.under(dir, 'timerCheckpoint.json'),
    precisionMs: 100,
    log: createLogger('test.timer'),
  });
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-recall-'));
  dirs.push(d);
  return d;
}

test('recalled while running: the recalled messages are never delivered, the others are', async () => {
  const dir = await tempDir();
  const store = await openStore(dir);
  const svc = service(store, dir, clock);
  await svc.start();
  try {
    heldMs = Date.now();
    const due = heldMs + 800;
    for (const k of ['U0', 'U1', 'U2', 'U3']) await putTimer(store, k, due);
    assert.equal((await svc.recall('RealT', 'U1', due, '127.0.0.1:1')).status, 'recalled');
    assert.equal((await svc.recall('RealT', 'U3', due, '127.0.0.1:1')).status, 'recalled');
    heldMs = undefined;
    await waitUntil(() => svc.stats().timerDelivered === 2 && svc.stats().timerRecalled === 2, '2 + 2', 10_000);
    assert.deepEqual(await deliveredKeys(store), ['U0', 'U2']);
    assert.equal((await svc.recall('RealT', 'U0', due, '127.0.0.1:1')).status, 'due');
  } finally {
    heldMs = undefined;
    await svc.stop();
    await store.shutdown();
  }
});

test('a recall survives a restart: the marker in the timer queue keeps its message back', async () => {
  const dir = await tempDir();
  let store = await openStore(dir);
  let svc = service(store, dir);
  await svc.start();
  const due = Date.now() + 1500;
  for (const k of ['U0', 'U1', 'U2']) await putTimer(store, k, due);
  assert.equal((await svc.recall('RealT', 'U1', due, '127.0.0.1:1')).status, 'recalled');
  await svc.stop();
  await store.shutdown();
  store = await openStore(dir);
  svc = service(store, dir);
  await svc.start();
  try {
    await waitUntil(() => svc.stats().timerDelivered === 2 && svc.stats().timerRecalled === 1, '2 + 1', 10_000);
    assert.deepEqual(await deliveredKeys(store), ['U0', 'U2']);
  } finally {
    await svc.stop();
    await store.shutdown();
  }
});

// A step fires at most 4,096 messages; a bigger slot is taken from its end, so the marker (stored last) fires a
// step before the message it recalls (stored first).
for (const restart of [false, true]) {
  test(`a slot bigger than a step: the marker fires first and its message is still kept back (restart: ${restart})`, async () => {
    const dir = await tempDir();
    let store = await openStore(dir);
    const n = 4200;
    const due = Date.now() + 600_000;
    for (let i = 0; i < n; i++) await putTimer(store, `K${i}`, due);
    // The service's clock runs 1.5 s before the slot however long the puts took.
    const shiftMs = due - 1500 - Date.now();
    const now = () => Date.now() + shiftMs;
    let svc = service(store, dir, now);
    await svc.start();
    assert.equal((await svc.recall('RealT', 'K0', due, '127.0.0.1:1')).status, 'recalled');
    if (restart) {
      await svc.stop();
      await store.shutdown();
      store = await openStore(dir);
      svc = service(store, dir, now);
      await svc.start();
    }
    try {
      await waitUntil(() => svc.stats().timerDelivered + svc.stats().timerRecalled === n, `${n} settled`, 20_000);
      assert.deepEqual(svc.stats(), { ...svc.stats(), timerDelivered: n - 1, timerRecalled: 1, timerLost: 0 });
      const r = await store.getMessage('RealT', 0, 0n, n, 8 * 1024 * 1024);
      const keys = new Set(r.records.map((rec) => decodeRecord(rec).msg.properties.get(Prop.uniqKey)));
      assert.equal(keys.size, n - 1);
      assert.equal(keys.has('K0'), false);
    } finally {
      await svc.stop();
      await store.shutdown();
    }
  });
}

test('a recall handle round-trips; a foreign or damaged one is not decoded', () => {
  const t = { topic: 'T', brokerName: 'broker-a', deliverMs: 1_765_000_000_000, messageId: '01ABC' };
  assert.deepEqual(decodeRecallHandle(encodeRecallHandle(t)), t);
  assert.equal(decodeRecallHandle('not-a-handle'), undefined);
  assert.equal(decodeRecallHandle(Buffer.from('v2 T b 1 id').toString('base64url')), undefined);
  assert.equal(decodeRecallHandle(Buffer.from('v1 T b soon id').toString('base64url')), undefined);
});
