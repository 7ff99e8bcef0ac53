import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeRecords } from '../../src/common/record.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/command.js';
import { call, createTopic, eventually, type Harness, pull, sendV2, startHarness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness();
  await createTopic(h, 'CT', 1);
});
after(() => h.close());

function heartbeat(clientID: string, group: string, subString = '*', topic = 'CT') {
  return Buffer.from(
    JSON.stringify({
      clientID,
      producerDataSet: [{ groupName: 'pg' }],
      consumerDataSet: [
        {
          groupName: group,
          consumeType: 'CONSUME_PASSIVELY',
          messageModel: 'CLUSTERING',
          consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
          subscriptionDataSet: [
            { topic, subString, tagsSet: subString === '*' ? [] : [subString], codeSet: [], subVersion: Date.now() },
          ],
          unitMode: false,
        },
      ],
    }),
  );
}

test('heartbeat registers the consumer, creates %RETRY%<group>, and a 2nd consumer triggers NOTIFY_CONSUMER_IDS_CHANGED', async () => {
  const c1 = new RemotingClient();
  const c2 = new RemotingClient();
  const notified: RemotingCommand[] = [];
  c1.registerProcessor(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, (req) => {
    notified.push(req);
    return undefined;
  });
  try {
    const r1 = await c1.invoke(h.addr, createRequest(RequestCode.HEART_BEAT, undefined, heartbeat('client-1', 'G1')));
    assert.equal(r1.code, 0, r1.remark);
    const topics = JSON.parse(
      (await call(h, RequestCode.GET_ALL_TOPIC_CONFIG, {})).body?.toString() ?? '{}',
    ).topicConfigTable;
    assert.equal(topics['%RETRY%G1'].readQueueNums, 1);

    const list1 = await call(h, RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'G1' });
    assert.deepEqual(JSON.parse(list1.body?.toString() ?? '{}'), { consumerIdList: ['client-1'] });
    const before = notified.length;
    await c2.invoke(h.addr, createRequest(RequestCode.HEART_BEAT, undefined, heartbeat('client-2', 'G1')));
    assert.ok(await eventually(() => notified.length > before), 'client-1 is told the group changed');
    assert.equal(notified.at(-1)?.extFields?.['consumerGroup'], 'G1');
    const list2 = await call(h, RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'G1' });
    assert.deepEqual(JSON.parse(list2.body?.toString() ?? '{}').consumerIdList.sort(), ['client-1', 'client-2']);

    const conns = await call(h, RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: 'G1' });
    const cc = JSON.parse(conns.body?.toString() ?? '{}');
    assert.equal(cc.connectionSet.length, 2);
    assert.equal(cc.messageModel, 'CLUSTERING');
    assert.ok(cc.subscriptionTable.CT);

    // A closed connection drops its client at once.
    await c2.close();
    assert.ok(
      await eventually(async () => {
        const l = await call(h, RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'G1' });
        return JSON.parse(l.body?.toString() ?? '{}').consumerIdList?.length === 1;
      }),
    );
    const un = await c1.invoke(
      h.addr,
      createRequest(RequestCode.UNREGISTER_CLIENT, { clientID: 'client-1', consumerGroup: 'G1', producerGroup: 'pg' }),
    );
    assert.equal(un.code, 0);
    const gone = await call(h, RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'G1' });
    assert.notEqual(gone.code, 0);
  } finally {
    await c1.close();
    await c2.close();
  }
});

test('the heartbeat subscription filters pulls that carry no subscription', async () => {
  await createTopic(h, 'HS', 1);
  await call(h, RequestCode.HEART_BEAT, {}, heartbeat('client-3', 'G3', 'TagA', 'HS'));
  await sendV2(h, 'HS', 'b', { TAGS: 'TagB' });
  await sendV2(h, 'HS', 'a', { TAGS: 'TagA' });
  const r = await pull(h, 'HS', 0, 0, { consumerGroup: 'G3', sysFlag: 0 });
  assert.equal(r.code, 0, r.remark);
  assert.deepEqual(
    decodeRecords(r.body ?? Buffer.alloc(0)).map((m) => m.body.toString()),
    ['a'],
  );
});

test('consumer offsets: 15 commits (negatives ignored), 14 answers, pull commitOffset commits', async () => {
  const q = (group: string) =>
    call(h, RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: group, topic: 'CT', queueId: 0 });
  assert.equal((await q('fresh')).extFields?.['offset'], '0');
  await call(h, RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'G5', topic: 'CT', queueId: 0, commitOffset: 3 });
  await call(h, RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'G5', topic: 'CT', queueId: 0, commitOffset: -1 });
  assert.equal((await q('G5')).extFields?.['offset'], '3');
  await pull(h, 'CT', 0, 0, { consumerGroup: 'G5', sysFlag: 1 | 4, subscription: '*', commitOffset: 7 });
  assert.equal((await q('G5')).extFields?.['offset'], '7');
  const badQueue = await call(h, RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'G5', topic: 'CT', queueId: 42 });
  assert.equal(badQueue.code, ResponseCode.INVALID_PARAMETER);
  const all = JSON.parse((await call(h, RequestCode.GET_ALL_CONSUMER_OFFSET, {})).body?.toString() ?? '{}');
  assert.equal(all.offsetTable['CT@G5']['0'], 7);
});

test('send-back puts a copy into %RETRY%<group> after its delay level; past the max it goes to %DLQ%<group>', async () => {
  await call(h, RequestCode.HEART_BEAT, {}, heartbeat('client-4', 'G4'));
  const uniqKey = '7F000001000000000000000000000001';
  const s = await sendV2(h, 'CT', 'retry-me', { TAGS: 'TagR', KEYS: 'rk', UNIQ_KEY: uniqKey });
  const msgId = s.extFields?.['msgId'] ?? '';
  const phy = BigInt(`0x${msgId.slice(16)}`);
  const back = await call(h, RequestCode.CONSUMER_SEND_MSG_BACK, {
    offset: phy,
    group: 'G4',
    delayLevel: 0,
    originMsgId: uniqKey, // as the Java client sends it; ORIGIN_MESSAGE_ID is still the stored record's id
    originTopic: 'CT',
    unitMode: false,
    maxReconsumeTimes: 2,
  });
  assert.equal(back.code, 0, back.remark);
  let retried: ReturnType<typeof decodeRecords> = [];
  assert.ok(
    await eventually(async () => {
      const r = await pull(h, '%RETRY%G4', 0, 0, { consumerGroup: 'G4', sysFlag: 4, subscription: '*' });
      retried = r.code === 0 ? decodeRecords(r.body ?? Buffer.alloc(0)) : [];
      return retried.length === 1;
    }),
    'redelivered through the retry topic',
  );
  const m = retried[0];
  assert.equal(m?.topic, '%RETRY%G4');
  assert.equal(m?.body.toString(), 'retry-me');
  assert.equal(m?.reconsumeTimes, 1);
  assert.equal(m?.properties.get('RETRY_TOPIC'), 'CT');
  assert.equal(m?.properties.get('ORIGIN_MESSAGE_ID'), msgId);

  // The retried copy fails twice more: reconsumeTimes 1 → retry (2), then 2 ≥ max 2 → DLQ.
  const second = await call(h, RequestCode.CONSUMER_SEND_MSG_BACK, {
    offset: m?.commitLogOffset ?? 0n,
    group: 'G4',
    delayLevel: 0,
    originMsgId: msgId,
    originTopic: 'CT',
    maxReconsumeTimes: 2,
  });
  assert.equal(second.code, 0);
  let third: ReturnType<typeof decodeRecords> = [];
  assert.ok(
    await eventually(async () => {
      const r = await pull(h, '%RETRY%G4', 0, 1, { consumerGroup: 'G4', sysFlag: 4, subscription: '*' });
      third = r.code === 0 ? decodeRecords(r.body ?? Buffer.alloc(0)) : [];
      return third.length === 1;
    }),
  );
  assert.equal(third[0]?.reconsumeTimes, 2);
  await call(h, RequestCode.CONSUMER_SEND_MSG_BACK, {
    offset: third[0]?.commitLogOffset ?? 0n,
    group: 'G4',
    delayLevel: 0,
    originMsgId: msgId,
    originTopic: 'CT',
    maxReconsumeTimes: 2,
  });
  const dlq = await pull(h, '%DLQ%G4', 0, 0, { consumerGroup: 'G4', sysFlag: 4, subscription: '*' });
  assert.equal(dlq.code, 0, dlq.remark);
  const [d] = decodeRecords(dlq.body ?? Buffer.alloc(0));
  assert.equal(d?.body.toString(), 'retry-me');
  assert.equal(d?.properties.get('ORIGIN_MESSAGE_ID'), msgId);

  const badOffset = await call(h, RequestCode.CONSUMER_SEND_MSG_BACK, {
    offset: 123456789,
    group: 'G4',
    delayLevel: 0,
    originMsgId: 'x',
    originTopic: 'CT',
  });
  assert.equal(badOffset.code, ResponseCode.SYSTEM_ERROR);
  assert.match(badOffset.remark ?? '', /offset/);
});

test('admin codes: runtime info, topic stats, consume stats, broker config, subscription groups', async () => {
  const rt = JSON.parse((await call(h, RequestCode.GET_BROKER_RUNTIME_INFO, {})).body?.toString() ?? '{}');
  assert.ok(Number(rt.table.msgPutTotalTodayNow) > 0);
  assert.ok(Number(rt.table.rss) > 1024 * 1024, 'runtime info reports the broker RSS in bytes');
  const ts = await call(h, RequestCode.GET_TOPIC_STATS_INFO, { topic: 'CT' });
  const off = Object.values(JSON.parse(ts.body?.toString() ?? '{}').offsetTable) as Array<{ maxOffset: number }>;
  assert.ok((off[0]?.maxOffset ?? 0) > 0);
  const cs = await call(h, RequestCode.GET_CONSUME_STATS, { consumerGroup: 'G5', topic: 'CT' });
  assert.equal(cs.code, 0, cs.remark);
  const conf = await call(h, RequestCode.GET_BROKER_CONFIG, {});
  assert.match(conf.body?.toString() ?? '', /brokerName=broker-a/);
  const up = await call(
    h,
    RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
    {},
    Buffer.from(JSON.stringify({ groupName: 'SG', retryMaxTimes: 3 })),
  );
  assert.equal(up.code, 0, up.remark);
  const groups = JSON.parse((await call(h, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, {})).body?.toString() ?? '{}');
  assert.equal(groups.subscriptionGroupTable.SG.retryMaxTimes, 3);
  assert.equal((await call(h, RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: 'SG' })).code, 0);
  assert.equal(
    (await call(h, RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: 'SG' })).code,
    ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
  );
  const badGroup = await call(
    h,
    RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
    {},
    Buffer.from('{"groupName":"a b"}'),
  );
  assert.equal(badGroup.code, ResponseCode.INVALID_PARAMETER);
  const noConsumer = await call(h, RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: 'nobody' });
  assert.equal(noConsumer.code, ResponseCode.CONSUMER_NOT_ONLINE);
});

test('heartbeat bodies with entries of the wrong JSON type get an answer naming them, never a TypeError', async () => {
  const bodies: Array<[unknown, number, RegExp]> = [
    [{ clientID: 'c', consumerDataSet: [null] }, ResponseCode.SYSTEM_ERROR, /consumerDataSet\[0\] is not an object/],
    [{ clientID: 'c', producerDataSet: [1] }, ResponseCode.SYSTEM_ERROR, /producerDataSet\[0\] is not an object/],
    [{ clientID: 'c', consumerDataSet: [{ groupName: { toString: 1 } }] }, ResponseCode.INVALID_PARAMETER, /group/i],
  ];
  for (const [body, code, remark] of bodies) {
    const res = await call(h, RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(body)));
    assert.equal(res.code, code, JSON.stringify(body));
    assert.match(res.remark ?? '', remark);
  }
  const tags = {
    clientID: 'c-tags',
    consumerDataSet: [
      {
        groupName: 'G_hb_types',
        subscriptionDataSet: [{ topic: 'T_hb', subString: 'a', tagsSet: ['a', { toString: 1 }], codeSet: [97, 'x'] }],
      },
    ],
  };
  const res = await call(h, RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(tags)));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
});
