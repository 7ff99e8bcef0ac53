/**
 * The delay service over a store: due entries come back as the real message in order and not before their
 * time, progress is persisted, a failed re-put is retried (never skipped), and after a restart from older
 * progress the entries already delivered are skipped and counted.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { delayHook } from '../../../src/broker/put/delay-hook.js';
import { PutPipeline } from '../../../src/broker/put/pipeline.js';
import type { PutMessage } from '../../../src/broker/put/types.js';
import { DelayOffsetFile } from '../../../src/broker/schedule/delay-offsets.js';
import { DelayService } from '../../../src/broker/schedule/delay-service.js';
import { createLogger } from '../../../src/common/log.js';
import { encodeProperties } from '../../../src/common/properties.js';
import { decodeRecords } from '../../../src/common/record.js';
import { DelayLevels } from '../../../src/store/delay-levels.js';
import { createMessageStore } from '../../../src/store/index.js';
import type { MessageInput, MessageStore, PutResult } from '../../../src/store/types.js';
import { eventually } from '../helpers.js';

const log = createLogger('test.delay');
const levels = new DelayLevels([300, 600]);
let dir: string;
let store: MessageStore;
let pipeline: PutPipeline;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-delay-'));
  store = createMessageStore({ storePathRootDir: dir }, { kind: 'memory' });
  await store.start();
  pipeline = new PutPipeline(store, [delayHook({ levels })]);
});
after(async () => {
  await store.shutdown();
  await rm(dir, { recursive: true, force: true });
});

function delayed(topic: string, level: number, body: string, uniqKey: string): PutMessage {
  return {
    topic,
    queueId: 1,
    flag: 7,
    body: Buffer.from(body),
    properties: encodeProperties({ DELAY: String(level), TAGS: 'tg', KEYS: 'k1', UNIQ_KEY: uniqKey }),
    sysFlag: 0,
    bornTimestamp: 123n,
    bornHost: '10.0.0.1:5555',
    reconsumeTimes: 2,
    preparedTransactionOffset: 0n,
    tagsCode: 0n,
    keys: ['k1'],
    uniqKey,
    scheduled: true,
  };
}

async function put(m: PutMessage): Promise<void> {
  const r = await pipeline.put(m, { reconsumeTimes: 0, maxReconsumeTimes: undefined });
  assert.ok(!('code' in r));
  assert.equal(r.status, 'PUT_OK');
}

async function read(topic: string, queueId = 1) {
  const r = await store.getMessage(topic, queueId, 0n, 100, 1 << 20);
  return r.records.length === 0 ? [] : decodeRecords(Buffer.concat(r.records));
}

function service(putRewrittenBatch: (m: readonly MessageInput[]) => Promise<PutResult>, flushIntervalMs = 60_000) {
  return new DelayService({
    store,
    putRewrittenBatch,
    levels,
    offsets: new DelayOffsetFile(dir),
    flushIntervalMs,
    log,
  });
}

test('due entries come back as the real message, in order, no earlier than their level; progress is saved at stop', async () => {
  const svc = service((m) => pipeline.putRewrittenBatch(m));
  await svc.start();
  const sentAt = Date.now();
  await put(delayed('A', 1, 'a1', 'UA1'));
  await put(delayed('A', 2, 'a2', 'UA2'));
  await put(delayed('A', 1, 'a3', 'UA3'));
  assert.equal((await read('A')).length, 0, 'nothing delivered at once');
  assert.ok(await eventually(async () => (await read('A')).length === 3, 5000));
  const got = await read('A');
  assert.deepEqual(
    got.map((m) => m.body.toString()),
    ['a1', 'a3', 'a2'],
  );
  for (const m of got) {
    const level = m.body.toString() === 'a2' ? 2 : 1;
    assert.ok(Number(m.storeTimestamp) - sentAt >= levels.delayMs(level) - 5, `${m.body} not early`);
    assert.equal(m.properties.has('DELAY'), false);
    assert.equal(m.properties.get('REAL_TOPIC'), 'A');
    assert.equal(m.properties.get('TAGS'), 'tg');
    assert.equal(m.properties.get('KEYS'), 'k1');
    assert.equal(m.queueId, 1);
    assert.equal(m.flag, 7);
    assert.equal(m.reconsumeTimes, 2);
    assert.equal(m.bornTimestamp, 123n);
    assert.equal(m.bornHost, '10.0.0.1:5555');
  }
  assert.equal(got[0]?.properties.get('UNIQ_KEY'), 'UA1');
  assert.equal(svc.stats.delivered, 3);
  assert.equal(svc.runtimeInfo()['scheduleMessageOffset_1'], '2,2');
  await svc.stop();
  const saved = JSON.parse(await readFile(path.join(dir, 'config', 'delayOffset.json'), 'utf8'));
  assert.deepEqual(saved, { offsetTable: { '1': 2, '2': 1 } });
});

test('a failed re-put (full disk) is retried later and never skipped; a copy stored past a failure is counted', async () => {
  // The store refuses the batch holding b1 twice; BX's batch (bx, between b1 and b2 in the queue) is stored
  // whenever it is tried.
  let b1Failures = 2;
  const svc = service((msgs) => {
    if (msgs.some((m) => m.body.toString() === 'b1') && b1Failures > 0) {
      b1Failures--;
      return Promise.resolve({ ...emptyPut, status: 'SERVICE_NOT_AVAILABLE', remark: 'disk full' });
    }
    return pipeline.putRewrittenBatch(msgs);
  });
  await svc.start();
  await put(delayed('B', 1, 'b1', 'UB1'));
  await put(delayed('BX', 1, 'bx', 'UBX'));
  await put(delayed('B', 1, 'b2', 'UB2'));
  assert.ok(await eventually(async () => (await read('B')).some((m) => m.body.toString() === 'b1'), 8000));
  assert.ok(await eventually(() => svc.runtimeInfo()['scheduleMessageOffset_1'] === '5,5', 5000), 'past all three');
  await svc.stop();
  const bodies = (await read('B')).map((m) => m.body.toString());
  assert.ok(svc.stats.putFailures >= 2);
  // b1 and b2 once each, in queue order; bx stored while b1 failed is put again after b1: each extra copy counted.
  assert.deepEqual(bodies, ['b1', 'b2']);
  const bx = (await read('BX')).map((m) => m.body.toString());
  assert.ok(bx.length >= 2 && bx.every((b) => b === 'bx'));
  assert.equal(bx.length - 1, svc.stats.duplicatesPut);
  assert.equal(svc.stats.delivered, 3);
});

test('restarted from older progress: entries already delivered are skipped and counted, the rest delivered', async () => {
  const storedB = (await read('B')).length;
  const svc = service((m) => pipeline.putRewrittenBatch(m));
  await svc.start();
  await put(delayed('C', 1, 'c1', 'UC1'));
  assert.ok(await eventually(async () => (await read('C')).length === 1, 5000));
  await svc.stop();
  // As after a crash before the progress write: level 1 restarts before c1 (and the entries of the tests above).
  await new DelayOffsetFile(dir).save(
    new Map([
      [1, 0n],
      [2, 0n],
    ]),
  );
  await put(delayed('C', 1, 'c2', 'UC2'));
  await new Promise((r) => setTimeout(r, levels.delayMs(1) + 50));
  const again = service((m) => pipeline.putRewrittenBatch(m));
  await again.start();
  assert.ok(await eventually(async () => (await read('C')).length === 2, 5000));
  await again.stop();
  assert.deepEqual(
    (await read('C')).map((m) => m.body.toString()),
    ['c1', 'c2'],
    'c1 not delivered twice, c2 once',
  );
  assert.ok(again.stats.duplicatesSkipped >= 2, `skipped ${again.stats.duplicatesSkipped}`);
  assert.equal((await read('A')).length, 3);
  assert.equal((await read('B')).length, storedB, 'no copy added to what the earlier runs stored');
});

const emptyPut: PutResult = {
  status: 'PUT_OK',
  wroteOffset: 0n,
  wroteBytes: 0,
  queueOffset: 0n,
  msgNum: 0,
  storeTimestamp: 0n,
  offsetMsgIdsText: '',
};

test('entries of a level no longer configured (the list was shortened) are still delivered, after the last delay', async () => {
  const longer = new PutPipeline(store, [delayHook({ levels: new DelayLevels([300, 600, 900]) })]);
  const r = await longer.put(delayed('D', 3, 'd1', 'UD1'), { reconsumeTimes: 0, maxReconsumeTimes: undefined });
  assert.ok(!('code' in r) && r.status === 'PUT_OK');
  const svc = service((m) => pipeline.putRewrittenBatch(m));
  await svc.start();
  assert.ok(await eventually(async () => (await read('D')).length === 1, 5000));
  const [d] = await read('D');
  assert.ok(Number(d?.storeTimestamp) - Number(r.storeTimestamp) >= levels.delayMs(2), 'waited the last level');
  await svc.stop();
  const saved = JSON.parse(await readFile(path.join(dir, 'config', 'delayOffset.json'), 'utf8'));
  assert.equal(saved.offsetTable['3'], 1);
});

test('an entry stored under a longer delay of its level waits the delay configured now, not the one it was stored with', async () => {
  // Stored while level 2 was 3 s (the ConsumeQueue's due time says so); the broker now runs with 600 ms.
  const before = new PutPipeline(store, [delayHook({ levels: new DelayLevels([300, 3000]) })]);
  const r = await before.put(delayed('H', 2, 'h1', 'UH1'), { reconsumeTimes: 0, maxReconsumeTimes: undefined });
  assert.ok(!('code' in r) && r.status === 'PUT_OK');
  const svc = service((m) => pipeline.putRewrittenBatch(m));
  await svc.start();
  assert.ok(await eventually(async () => (await read('H')).length === 1, 2500), 'delivered before the old 3 s');
  await svc.stop();
  const waited = Number((await read('H'))[0]?.storeTimestamp) - Number(r.storeTimestamp);
  assert.ok(waited >= levels.delayMs(2) && waited < 3000, `waited ${waited} ms`);
});

test('an entry that cannot be delivered (no REAL_TOPIC) is passed and counted; the next one is delivered', async () => {
  const broken: MessageInput = {
    ...delayed('E', 1, 'e0', 'UE0'),
    topic: 'SCHEDULE_TOPIC_XXXX',
    queueId: 0,
    properties: encodeProperties({ DELAY: '1', UNIQ_KEY: 'UE0' }),
  };
  assert.equal((await store.putMessage(broken)).status, 'PUT_OK');
  await put(delayed('E', 1, 'e1', 'UE1'));
  const svc = service((m) => pipeline.putRewrittenBatch(m));
  await svc.start();
  assert.ok(await eventually(async () => (await read('E')).length === 1, 5000));
  await svc.stop();
  assert.equal((await read('E'))[0]?.body.toString(), 'e1');
  assert.equal(svc.stats.undeliverable, 1);
});

test('a saved offset past the queue end (its tail lost in a crash) goes back to the end, not to 0', async () => {
  const end = store.getMaxOffsetInQueue('SCHEDULE_TOPIC_XXXX', 0);
  const ends = [1, 2].map((q) => store.getMaxOffsetInQueue('SCHEDULE_TOPIC_XXXX', q));
  await new DelayOffsetFile(dir).save(
    new Map([
      [1, end + 50n],
      [2, ends[0] as bigint],
      [3, ends[1] as bigint],
    ]),
  );
  const svc = service((m) => pipeline.putRewrittenBatch(m));
  await svc.start();
  await put(delayed('F', 1, 'f1', 'UF1'));
  assert.ok(await eventually(async () => (await read('F')).length === 1, 5000));
  await svc.stop();
  assert.equal(svc.stats.duplicatesSkipped, 0, 'the delivered entries before it were not read again');
  assert.equal(svc.runtimeInfo()['scheduleMessageOffset_1'], `${end + 1n},${end + 1n}`);
});

test('delayOffset.json entries that are not level → offset numbers are ignored (that level starts at 0)', async () => {
  const file = path.join(dir, 'config', 'delayOffset.json');
  await writeFile(file, JSON.stringify({ offsetTable: { '1': -4, x: 3, '2': 'many' } }));
  await rm(`${file}.bak`, { force: true });
  const loaded = await new DelayOffsetFile(dir).load();
  assert.deepEqual([...loaded], []);
  await writeFile(file, JSON.stringify({ offsetTable: { '1': 4, '2': 1 } }));
  assert.deepEqual(
    [...(await new DelayOffsetFile(dir).load())],
    [
      [1, 4n],
      [2, 1n],
    ],
  );
});

test('an entry the queue lists but cannot read right now is read again later, never skipped', async () => {
  await put(delayed('G', 1, 'g1', 'UG1'));
  let nulls = 1;
  // The store answers OFFSET_FOUND_NULL once for the schedule queue (a read racing a file change).
  const flaky: MessageStore = Object.create(store, {
    getMessage: {
      value: (topic: string, queueId: number, offset: bigint, n: number, bytes: number) => {
        if (topic === 'SCHEDULE_TOPIC_XXXX' && nulls > 0) {
          nulls--;
          return Promise.resolve({
            status: 'OFFSET_FOUND_NULL',
            nextBeginOffset: offset + 1n,
            minOffset: 0n,
            maxOffset: offset + 1n,
            records: [],
            queueOffsets: [],
            bufferTotalBytes: 0,
            suggestPullingFromSlave: false,
          });
        }
        return store.getMessage(topic, queueId, offset, n, bytes);
      },
    },
  });
  await new DelayOffsetFile(dir).save(
    new Map(
      [1, 2, 3].map((level) => [
        level,
        store.getMaxOffsetInQueue('SCHEDULE_TOPIC_XXXX', level - 1) - (level === 1 ? 1n : 0n),
      ]),
    ),
  );
  const svc = new DelayService({
    store: flaky,
    putRewrittenBatch: (m) => pipeline.putRewrittenBatch(m),
    levels,
    offsets: new DelayOffsetFile(dir),
    flushIntervalMs: 60_000,
    log,
  });
  await svc.start();
  assert.ok(await eventually(async () => (await read('G')).length === 1, 5000), 'g1 delivered after the retry');
  await svc.stop();
  assert.equal(nulls, 0);
});
