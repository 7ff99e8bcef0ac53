/**
 * PopService.ackBatch (BATCH_ACK_MESSAGE) and ackHandles (gRPC AckMessage): one revive-log record per check point; acked offsets never come back,
 * the others do; a batch naming an offset that is no longer ackable acks the rest and names it; after a restart the
 * read-back of the revive log honours the batch-ack record.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { brokerConfigOf } from '../../../src/broker/config.js';
import { TopicConfigManager, topicConfigOf } from '../../../src/broker/metadata/topic-config.js';
import { parseExtraInfo } from '../../../src/broker/pop/extra-info.js';
import type { BrokerPopService } from '../../../src/broker/pop/pop-service.js';
import type { AckBatch, PoppedMessage, PopRequest } from '../../../src/broker/pop/types.js';
import { encodeProperties } from '../../../src/common/properties.js';
import { createMessageStore, type MessageStore } from '../../../src/store/index.js';
import { popServiceOf, savesSettled } from './pop-service-of.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true, maxRetries: 5 });
});

interface Broker {
  store: MessageStore;
  pop: BrokerPopService;
  close(): Promise<void>;
}

async function open(dir: string): Promise<Broker> {
  const store = createMessageStore({ storePathRootDir: dir });
  await store.start();
  const config = brokerConfigOf({ storePathRootDir: dir, reviveQueueNum: 2 });
  const topics = new TopicConfigManager(config);
  topics.upsert(topicConfigOf('B1', 1));
  const pop = popServiceOf(config, store, topics, dir);
  await pop.start();
  return {
    store,
    pop,
    close: async () => {
      pop.stop();
      await store.shutdown();
      await savesSettled(pop, topics);
    },
  };
}

async function newDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-batch-ack-'));
  dirs.push(d);
  return d;
}

async function put(store: MessageStore, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await store.putMessage({
      topic: 'B1',
      queueId: 0,
      flag: 0,
      body: Buffer.from(`m${i}`),
      properties: encodeProperties({}),
      sysFlag: 0,
      bornTimestamp: BigInt(Date.now()),
      bornHost: '127.0.0.1:1',
      reconsumeTimes: 0,
      preparedTransactionOffset: 0n,
      tagsCode: 0n,
    });
    assert.equal(r.status, 'PUT_OK');
  }
}

const req: PopRequest = {
  group: 'bg',
  topic: 'B1',
  queueId: -1,
  maxMessages: 32,
  invisibleTimeMs: 1000,
  pollTimeMs: 0,
  initMode: 'min',
  filter: { type: 'TAG', expression: '*' },
  fifo: false,
};

async function popAll(pop: BrokerPopService): Promise<readonly PoppedMessage[]> {
  const r = await pop.pop(req);
  assert.equal(r.status, 'found');
  return r.status === 'found' ? r.messages : [];
}

/** The batch of the messages' (one) check point naming `which` of them. */
function batchOf(msgs: readonly PoppedMessage[], which: readonly number[]): AckBatch {
  const e = parseExtraInfo((msgs[0] as PoppedMessage).handle);
  assert.ok(typeof e !== 'string');
  return {
    group: 'bg',
    topic: 'B1',
    retry: e.retry,
    queueId: e.queueId,
    ckOffset: e.ckOffset,
    popTimeMs: e.popTimeMs,
    invisibleTimeMs: e.invisibleTimeMs,
    reviveQid: e.reviveQid,
    offsets: which.map((i) => (msgs[i] as PoppedMessage).msg.queueOffset),
  };
}

function reviveRecords(b: Broker): bigint {
  let n = 0n;
  for (let q = 0; q < 2; q++) n += b.store.getMaxOffsetInQueue(b.pop.reviveTopic, q);
  return n;
}

async function bodiesAfterRevive(b: Broker): Promise<string[]> {
  await b.pop.revive(Date.now() + 5000);
  const r = await b.pop.pop(req);
  return r.status === 'found' ? r.messages.map((m) => m.msg.body.toString()).sort() : [];
}

test('a batch ack is one revive-log record; acked offsets never come back, the others do', async () => {
  const b = await open(await newDir());
  try {
    await put(b.store, 5);
    const msgs = await popAll(b.pop);
    assert.equal(msgs.length, 5);
    const before = reviveRecords(b);
    assert.deepEqual(await b.pop.ackBatch(batchOf(msgs, [0, 2, 4])), { status: 'ok', expired: [] });
    assert.equal(reviveRecords(b) - before, 1n, 'one record for three acks');
    assert.deepEqual(await bodiesAfterRevive(b), ['m1', 'm3']);
  } finally {
    await b.close();
  }
});

test('a batch with an offset no longer ackable acks the rest and names that one', async () => {
  const b = await open(await newDir());
  try {
    await put(b.store, 4);
    const msgs = await popAll(b.pop);
    assert.deepEqual(await b.pop.ack('bg', 'B1', (msgs[1] as PoppedMessage).handle), { status: 'ok' });
    const r = await b.pop.ackBatch(batchOf(msgs, [0, 1, 2]));
    assert.deepEqual(r, { status: 'ok', expired: [(msgs[1] as PoppedMessage).msg.queueOffset] });
    // A check point that is gone (all acked, or revived) expires every offset named.
    assert.deepEqual(await b.pop.ackBatch(batchOf(msgs, [3])), { status: 'ok', expired: [] });
    const gone = await b.pop.ackBatch(batchOf(msgs, [0, 3]));
    assert.deepEqual(gone, {
      status: 'ok',
      expired: [0n, 3n].map((i) => (msgs[Number(i)] as PoppedMessage).msg.queueOffset),
    });
    assert.deepEqual(await bodiesAfterRevive(b), []);
  } finally {
    await b.close();
  }
});

test('acking handles of one check point together is one revive-log record, a result per handle', async () => {
  const b = await open(await newDir());
  try {
    await put(b.store, 5);
    const msgs = await popAll(b.pop);
    const h = (i: number) => (msgs[i] as PoppedMessage).handle;
    const before = reviveRecords(b);
    const r = await b.pop.ackHandles('bg', 'B1', [h(0), h(2), h(2), h(4), 'not-a-handle']);
    assert.deepEqual(
      r.map((x) => x.status),
      ['ok', 'ok', 'expired', 'ok', 'refused'],
    );
    assert.equal(reviveRecords(b) - before, 1n, 'one record for three acks');
    assert.deepEqual(await b.pop.ackHandles('bg', 'B1', [h(4)]), [{ status: 'expired' }], 'acked already');
    assert.deepEqual(await bodiesAfterRevive(b), ['m1', 'm3']);
  } finally {
    await b.close();
  }
});

test('after a restart the revive log read back honours a batch-ack record', async () => {
  const dir = await newDir();
  const first = await open(dir);
  let msgs: readonly PoppedMessage[];
  try {
    await put(first.store, 4);
    msgs = await popAll(first.pop);
    assert.deepEqual(await first.pop.ackBatch(batchOf(msgs, [1, 2])), { status: 'ok', expired: [] });
  } finally {
    await first.close();
  }
  const second = await open(dir);
  try {
    assert.equal(second.pop.checkPoints.inFlight(), 2, 'the two unacked ones are pending after the restart');
    assert.deepEqual(await bodiesAfterRevive(second), ['m0', 'm3']);
  } finally {
    await second.close();
  }
});
