import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encodeProperties } from '../../src/common/properties.js';
import { decodeRecords } from '../../src/common/record.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { call, createTopic, encodeBatchBody, type Harness, pull, sendV2, startHarness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness({ autoCreateTopicEnable: false });
  await createTopic(h, 'T1', 2);
});
after(() => h.close());

test('SEND_MESSAGE_V2 then PULL returns the stored record with the response fields clients need', async () => {
  const r = await sendV2(h, 'T1', 'hello', { TAGS: 'TagA', KEYS: 'k1' }, 0);
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  assert.match(r.extFields?.['msgId'] ?? '', /^[0-9A-F]{32}$/);
  assert.equal(r.extFields?.['queueId'], '0');
  assert.equal(r.extFields?.['queueOffset'], '0');
  assert.equal(r.extFields?.['MSG_REGION'], 'DefaultRegion');
  assert.equal(r.extFields?.['TRACE_ON'], 'true');

  const p = await pull(h, 'T1', 0, 0);
  assert.equal(p.code, ResponseCode.SUCCESS, p.remark);
  for (const f of ['nextBeginOffset', 'minOffset', 'maxOffset', 'suggestWhichBrokerId'])
    assert.ok(p.extFields?.[f] !== undefined, f);
  assert.equal(p.extFields?.['nextBeginOffset'], '1');
  const msgs = decodeRecords(p.body ?? Buffer.alloc(0));
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0]?.body.toString(), 'hello');
  assert.equal(msgs[0]?.topic, 'T1');
  assert.equal(msgs[0]?.properties.get('TAGS'), 'TagA');
  assert.equal(msgs[0]?.offsetMsgId, r.extFields?.['msgId']);
});

test('SEND_MESSAGE (10) with long header names; msgId is the offsetMsgId; queueId -1 picks a queue', async () => {
  const r = await call(
    h,
    RequestCode.SEND_MESSAGE,
    {
      producerGroup: 'pg',
      topic: 'T1',
      defaultTopic: 'TBW102',
      defaultTopicQueueNums: 4,
      queueId: -1,
      sysFlag: 0,
      bornTimestamp: Date.now(),
      flag: 7,
      properties: encodeProperties({ UNIQ_KEY: 'ABCDEF0123456789ABCDEF0123456789' }),
      reconsumeTimes: 0,
    },
    Buffer.from('v1'),
  );
  assert.equal(r.code, 0, r.remark);
  const q = Number(r.extFields?.['queueId']);
  assert.ok(q === 0 || q === 1);
  const p = await pull(h, 'T1', q, BigInt(r.extFields?.['queueOffset'] ?? '0'));
  const [m] = decodeRecords(p.body ?? Buffer.alloc(0));
  assert.equal(r.extFields?.['msgId'], m?.offsetMsgId);
  assert.equal(m?.properties.get('UNIQ_KEY'), 'ABCDEF0123456789ABCDEF0123456789');
  assert.equal(m?.flag, 7);
  assert.equal(m?.body.toString(), 'v1');
});

test('SEND_BATCH_MESSAGE (320) stores every message consecutively', async () => {
  await createTopic(h, 'TB', 1);
  const body = encodeBatchBody(
    ['a', 'b', 'c'].map((s, i) => ({
      flag: 0,
      body: Buffer.from(s),
      properties: encodeProperties({ UNIQ_KEY: `U${i}`, KEYS: `key-${s}` }),
    })),
  );
  const r = await call(
    h,
    RequestCode.SEND_BATCH_MESSAGE,
    { a: 'pg', b: 'TB', c: 'TBW102', d: 4, e: 0, f: 0, g: Date.now(), h: 0, i: '', j: 0, k: false, m: true },
    body,
  );
  assert.equal(r.code, 0, r.remark);
  const p = await pull(h, 'TB', 0, 0);
  assert.equal(
    r.extFields?.['msgId'],
    decodeRecords(p.body ?? Buffer.alloc(0))
      .map((m) => m.offsetMsgId)
      .join(','),
  );
  assert.deepEqual(
    decodeRecords(p.body ?? Buffer.alloc(0)).map((m) => m.body.toString()),
    ['a', 'b', 'c'],
  );
  const q = await call(h, RequestCode.QUERY_MESSAGE, {
    topic: 'TB',
    key: 'key-b',
    maxNum: 10,
    beginTimestamp: 0,
    endTimestamp: Date.now() + 1000,
  });
  assert.equal(q.code, 0, q.remark);
  assert.equal(decodeRecords(q.body ?? Buffer.alloc(0))[0]?.body.toString(), 'b');
  assert.ok(q.extFields?.['indexLastUpdatePhyoffset'] !== undefined);
  // Each item's UNIQ_KEY is indexed too (hashed from the request's bytes), found as the client looks up a msgId.
  for (const [i, want] of ['a', 'b', 'c'].entries()) {
    const u = await call(h, RequestCode.QUERY_MESSAGE, {
      topic: 'TB',
      key: `U${i}`,
      maxNum: 10,
      beginTimestamp: 0,
      endTimestamp: Date.now() + 1000,
      _UNIQUE_KEY_QUERY: 'true',
    });
    assert.equal(u.code, 0, u.remark);
    assert.deepEqual(
      decodeRecords(u.body ?? Buffer.alloc(0)).map((m) => m.body.toString()),
      [want],
    );
  }
});

test('tag filtering on the broker: only subscribed tags; all filtered out answers 20', async () => {
  await createTopic(h, 'TT', 1);
  for (const [body, tag] of [
    ['a1', 'TagA'],
    ['b1', 'TagB'],
    ['n1', undefined],
    ['a2', 'TagA'],
  ] as const) {
    const r = await sendV2(h, 'TT', body, tag === undefined ? {} : { TAGS: tag });
    assert.equal(r.code, 0);
  }
  const p = await pull(h, 'TT', 0, 0, { sysFlag: 4, subscription: 'TagA' });
  assert.equal(p.code, 0, p.remark);
  assert.deepEqual(
    decodeRecords(p.body ?? Buffer.alloc(0)).map((m) => m.body.toString()),
    ['a1', 'a2'],
  );
  const both = await pull(h, 'TT', 0, 0, { sysFlag: 4, subscription: 'TagA || TagB' });
  assert.deepEqual(
    decodeRecords(both.body ?? Buffer.alloc(0)).map((m) => m.body.toString()),
    ['a1', 'b1', 'a2'],
  );
  const none = await pull(h, 'TT', 0, 0, { sysFlag: 4, subscription: 'TagC' });
  assert.equal(none.code, ResponseCode.PULL_RETRY_IMMEDIATELY);
  assert.equal(none.extFields?.['nextBeginOffset'], '4');
  const all = await pull(h, 'TT', 0, 0, { sysFlag: 4, subscription: '*' });
  assert.equal(decodeRecords(all.body ?? Buffer.alloc(0)).length, 4);
});

test('offset lookups: max, min, by timestamp, earliest time, view by id', async () => {
  await createTopic(h, 'TO', 1);
  const before = Date.now();
  const s = await sendV2(h, 'TO', 'x');
  await sendV2(h, 'TO', 'y');
  const max = await call(h, RequestCode.GET_MAX_OFFSET, { topic: 'TO', queueId: 0 });
  assert.equal(max.extFields?.['offset'], '2');
  const min = await call(h, RequestCode.GET_MIN_OFFSET, { topic: 'TO', queueId: 0 });
  assert.equal(min.extFields?.['offset'], '0');
  const byTime = await call(h, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, {
    topic: 'TO',
    queueId: 0,
    timestamp: before - 1000,
  });
  assert.equal(byTime.extFields?.['offset'], '0');
  const earliest = await call(h, RequestCode.GET_EARLIEST_MSG_STORETIME, { topic: 'TO', queueId: 0 });
  assert.ok(Number(earliest.extFields?.['timestamp']) >= before - 5);
  const msgId = s.extFields?.['msgId'] ?? '';
  const view = await call(h, RequestCode.VIEW_MESSAGE_BY_ID, { offset: BigInt(`0x${msgId.slice(16)}`) });
  assert.equal(view.code, 0);
  assert.equal(decodeRecords(view.body ?? Buffer.alloc(0))[0]?.body.toString(), 'x');
  const missing = await call(h, RequestCode.VIEW_MESSAGE_BY_ID, { offset: 999_999_999 });
  assert.equal(missing.code, ResponseCode.SYSTEM_ERROR);
  assert.match(missing.remark ?? '', /can not find/);
});

test('bad input gets a clear code and remark and the broker keeps serving', async () => {
  const badName = await sendV2(h, 'bad topic!', 'x');
  assert.equal(badName.code, ResponseCode.INVALID_PARAMETER);
  assert.match(badName.remark ?? '', /characters/);

  const sys = await sendV2(h, 'SCHEDULE_TOPIC_XXXX', 'x');
  assert.equal(sys.code, ResponseCode.NO_PERMISSION);
  assert.match(sys.remark ?? '', /system topic/);

  const missing = await sendV2(h, 'NoSuchTopic', 'x');
  assert.equal(missing.code, ResponseCode.TOPIC_NOT_EXIST);
  assert.match(missing.remark ?? '', /NoSuchTopic/);

  const big = await sendV2(h, 'T1', Buffer.alloc(4 * 1024 * 1024 + 1));
  assert.equal(big.code, ResponseCode.MESSAGE_ILLEGAL);
  assert.match(big.remark ?? '', /body/);

  const bigProps = await sendV2(h, 'T1', 'x', { BIG: 'p'.repeat(40 * 1024) });
  assert.equal(bigProps.code, ResponseCode.MESSAGE_ILLEGAL);
  assert.match(bigProps.remark ?? '', /properties/);

  const badQueue = await sendV2(h, 'T1', 'x', {}, 99);
  assert.notEqual(badQueue.code, 0);
  assert.match(badQueue.remark ?? '', /queueId/);

  const noHeader = await call(h, RequestCode.SEND_MESSAGE_V2, { a: 'pg' }, Buffer.from('x'));
  assert.notEqual(noHeader.code, 0);
  assert.match(noHeader.remark ?? '', /'b'/);

  const moved = await pull(h, 'T1', 0, 1000);
  assert.equal(moved.code, ResponseCode.PULL_OFFSET_MOVED);
  assert.ok(moved.extFields?.['nextBeginOffset'] !== undefined);

  const noTopicPull = await pull(h, 'NoSuchTopic', 0, 0);
  assert.equal(noTopicPull.code, ResponseCode.TOPIC_NOT_EXIST);

  const unknownGroup = await call(h, RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'nobody' });
  assert.notEqual(unknownGroup.code, 0);
  assert.match(unknownGroup.remark ?? '', /nobody/);

  const badTopicCreate = await call(h, RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic: 'x y',
    readQueueNums: 1,
    writeQueueNums: 1,
    perm: 6,
  });
  assert.equal(badTopicCreate.code, ResponseCode.INVALID_PARAMETER);
  const badQueues = await call(h, RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic: 'Q',
    readQueueNums: 100000,
    writeQueueNums: 1,
    perm: 6,
  });
  assert.equal(badQueues.code, ResponseCode.INVALID_PARAMETER);

  const unknownCode = await call(h, 99999, {});
  assert.equal(unknownCode.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);

  // Still serving.
  assert.equal((await sendV2(h, 'T1', 'ok')).code, 0);
});

test('deleting a topic removes its queues; pulling it then answers TOPIC_NOT_EXIST', async () => {
  await createTopic(h, 'TD', 1);
  await sendV2(h, 'TD', 'x');
  const del = await call(h, RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'TD' });
  assert.equal(del.code, 0);
  assert.deepEqual(h.store.queuesOf('TD'), []);
  const p = await pull(h, 'TD', 0, 0);
  assert.equal(p.code, ResponseCode.TOPIC_NOT_EXIST);
  const again = await call(h, RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'TD' });
  assert.equal(again.code, ResponseCode.TOPIC_NOT_EXIST);
  const all = await call(h, RequestCode.GET_ALL_TOPIC_CONFIG, {});
  const table = JSON.parse(all.body?.toString() ?? '{}').topicConfigTable;
  assert.equal(table.TD, undefined);
  assert.equal(table.T1.writeQueueNums, 2);
});
