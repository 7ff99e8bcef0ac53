/** The put pipeline: hooks run in order on every put, rewrite in place, and a refusal stores nothing. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { brokerConfigOf } from '../../../src/broker/config.js';
import { SubscriptionGroupManager, subscriptionGroupOf } from '../../../src/broker/metadata/subscription-groups.js';
import { TopicConfigManager } from '../../../src/broker/metadata/topic-config.js';
import { brokerPutHooks } from '../../../src/broker/put/hooks.js';
import { PutPipeline } from '../../../src/broker/put/pipeline.js';
import { type PutHook, type PutMessage, PutRefusal, type PutRequest } from '../../../src/broker/put/types.js';
import { encodeProperties } from '../../../src/common/properties.js';
import { ResponseCode } from '../../../src/remoting/codes.js';
import { DelayLevels } from '../../../src/store/delay-levels.js';
import { createMessageStore, type MessageStore } from '../../../src/store/index.js';
import type { PutResult } from '../../../src/store/types.js';
import { call, type Harness, pull, startHarness } from '../helpers.js';

let dir: string;
let store: MessageStore;
let topics: TopicConfigManager;
let groups: SubscriptionGroupManager;
let pipeline: PutPipeline;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-put-'));
  const config = brokerConfigOf({ storePathRootDir: dir, brokerName: 'b1' });
  store = createMessageStore({ storePathRootDir: dir }, { kind: 'memory' });
  await store.start();
  topics = new TopicConfigManager(config);
  groups = new SubscriptionGroupManager(dir, true);
  groups.upsert(subscriptionGroupOf('G2', { retryMaxTimes: 2 }));
  pipeline = new PutPipeline(
    store,
    brokerPutHooks({ config, topics, groups, levels: new DelayLevels([1000, 5000, 10_000]) }),
  );
});
after(async () => {
  await store.shutdown();
  await rm(dir, { recursive: true, force: true });
});

function msg(topic: string, over: Partial<PutMessage> = {}): PutMessage {
  return {
    topic,
    queueId: 3,
    flag: 0,
    body: Buffer.from('x'),
    properties: encodeProperties({}),
    sysFlag: 0,
    bornTimestamp: 1n,
    bornHost: '127.0.0.1:1',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: 0n,
    ...over,
  };
}

const req = (reconsumeTimes: number, maxReconsumeTimes?: number, deadLetterNow?: boolean): PutRequest => ({
  reconsumeTimes,
  maxReconsumeTimes,
  deadLetterNow,
});

async function stored(r: Promise<PutResult> | PutRefusal): Promise<PutResult> {
  assert.ok(!(r instanceof PutRefusal), r instanceof PutRefusal ? r.remark : '');
  const result = await r;
  assert.equal(result.status, 'PUT_OK');
  return result;
}

test('retry → DLQ: below the budget stays in %RETRY%; at it goes to %DLQ% queue 0, created with 1 RW queue', async () => {
  const below = msg('%RETRY%G1');
  await stored(pipeline.put(below, req(2, 3)));
  assert.equal(below.topic, '%RETRY%G1');
  assert.equal(below.queueId, 3);

  const at = msg('%RETRY%G1');
  await stored(pipeline.put(at, req(3, 3)));
  assert.equal(at.topic, '%DLQ%G1');
  assert.equal(at.queueId, 0);
  assert.equal(store.getMaxOffsetInQueue('%DLQ%G1', 0), 1n);
  const dlq = topics.get('%DLQ%G1');
  assert.equal(dlq?.writeQueueNums, 1);
  assert.equal(dlq?.perm, 6);
});

test("retry → DLQ: without an explicit budget the group's retryMaxTimes applies, else the broker default", async () => {
  const g2 = msg('%RETRY%G2');
  assert.equal(pipeline.rewrite(g2, req(2)), undefined);
  assert.equal(g2.topic, '%DLQ%G2');
  const unknown15 = msg('%RETRY%Gx');
  pipeline.rewrite(unknown15, req(15));
  assert.equal(unknown15.topic, '%RETRY%Gx');
  const unknown16 = msg('%RETRY%Gx');
  pipeline.rewrite(unknown16, req(16));
  assert.equal(unknown16.topic, '%DLQ%Gx');
});

test('retry → DLQ: deadLetterNow goes to the DLQ at once; other topics are never rewritten', () => {
  const now = msg('%RETRY%G1');
  pipeline.rewrite(now, req(0, 16, true));
  assert.equal(now.topic, '%DLQ%G1');
  const plain = msg('T', { reconsumeTimes: 99 });
  pipeline.rewrite(plain, req(99, 0, true));
  assert.equal(plain.topic, 'T');
  assert.equal(plain.queueId, 3);
});

test('half messages go to the half topic, by sysFlag or by TRAN_MSG; a batch holding one is refused whole', async () => {
  const before = store.getMaxOffsetInQueue('TX', 3);
  const halfBefore = store.getMaxOffsetInQueue('RMQ_SYS_TRANS_HALF_TOPIC', 0);
  for (const m of [msg('TX', { sysFlag: 0x4 }), msg('TX', { transactionPrepared: true })]) {
    await stored(pipeline.put(m, req(0)));
    assert.equal(m.topic, 'RMQ_SYS_TRANS_HALF_TOPIC');
    assert.equal(m.queueId, 0);
    assert.equal(m.sysFlag & 0xc, 0);
  }
  const batch = pipeline.putBatch([msg('TX'), msg('TX', { sysFlag: 0x4 })], req(0));
  assert.ok(batch instanceof PutRefusal);
  assert.equal(batch.code, ResponseCode.MESSAGE_ILLEGAL);
  assert.equal(store.getMaxOffsetInQueue('TX', 3), before);
  assert.equal(store.getMaxOffsetInQueue('RMQ_SYS_TRANS_HALF_TOPIC', 0), halfBefore + 2n);
  await stored(pipeline.put(msg('TX', { sysFlag: 0x8 }), req(0)));
  await stored(pipeline.putBatch([msg('TX'), msg('TX')], req(0)));
  assert.equal(store.getMaxOffsetInQueue('TX', 3), before + 3n);
});

test('hooks run in list order, later ones see earlier rewrites, and the first refusal stops the rest', () => {
  const seen: string[] = [];
  const rename: PutHook = {
    name: 'rename',
    beforePut(m) {
      seen.push(`rename:${m.topic}`);
      m.topic = `${m.topic}-renamed`;
      return undefined;
    },
  };
  const refuse: PutHook = {
    name: 'refuse',
    beforePut(m) {
      seen.push(`refuse:${m.topic}`);
      return m.topic.startsWith('NO') ? new PutRefusal(ResponseCode.NO_PERMISSION, 'no') : undefined;
    },
  };
  const last: PutHook = {
    name: 'last',
    beforePut(m) {
      seen.push(`last:${m.topic}`);
      return undefined;
    },
  };
  const p = new PutPipeline(store, [rename, refuse, last]);
  assert.equal(p.rewrite(msg('A'), req(0)), undefined);
  assert.ok(p.rewrite(msg('NO'), req(0)) instanceof PutRefusal);
  assert.deepEqual(seen, ['rename:A', 'refuse:A-renamed', 'last:A-renamed', 'rename:NO', 'refuse:NO-renamed']);
});

test('over TCP: a send to %RETRY%<group> at its budget is stored in %DLQ%<group>', async () => {
  const h: Harness = await startHarness();
  try {
    const send = (reconsumeTimes: number) =>
      call(
        h,
        310,
        { a: 'pg', b: '%RETRY%GT', c: 'TBW102', d: 4, e: 0, f: 0, g: Date.now(), h: 0, i: '', j: reconsumeTimes, l: 3 },
        Buffer.from(`r${reconsumeTimes}`),
      );
    assert.equal((await send(2)).code, ResponseCode.SUCCESS);
    const r = await send(3);
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    assert.equal(r.extFields?.['queueId'], '0');
    assert.equal(h.store.getMaxOffsetInQueue('%RETRY%GT', 0), 1n);
    const p = await pull(h, '%DLQ%GT', 0, 0, { consumerGroup: 'GT', sysFlag: 4, subscription: '*' });
    assert.equal(p.code, ResponseCode.SUCCESS, p.remark);
  } finally {
    await h.close();
  }
});
