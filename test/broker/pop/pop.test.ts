import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RequestCode, ResponseCode } from '../../../src/remoting/codes.js';
import { decodeBatchAckResponseHeader, encodeBatchAckBody } from '../../../src/remoting/protocol/pop.js';
import { call, createTopic, type Harness, sendV2, startHarness } from '../helpers.js';
import { ack, changedExtraInfo, changeInvisible, popCkOf, popRaw } from './pop-client.js';

let h: Harness;
before(async () => {
  h = await startHarness({ autoCreateTopicEnable: false, reviveInterval: 50 });
  for (const t of ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8']) await createTopic(h, t, 2);
});
after(() => h.close());

test('POP answers the messages as stored with RocketMQ header fields (handles from them); they stay invisible; ACK removes them', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await sendV2(h, 'P1', `m${i}`, { TAGS: 'a' }, i % 2)).code, 0);
  const p = await popRaw(h, 'P1', { consumerGroup: 'g1' });
  assert.equal(p.resp.code, ResponseCode.SUCCESS, p.resp.remark);
  const f = p.resp.extFields ?? {};
  for (const k of ['popTime', 'invisibleTime', 'reviveQid', 'restNum', 'startOffsetInfo', 'msgOffsetInfo'])
    assert.ok(f[k] !== undefined, k);
  assert.equal(f['invisibleTime'], '60000');
  assert.equal(p.msgs.length, 3);
  assert.equal(p.builtCk, 3, 'first deliveries go as stored, without POP_CK (RocketMQ)');
  assert.deepEqual(p.msgs.map((m) => m.body.toString()).sort(), ['m0', 'm1', 'm2']);
  for (const m of p.msgs) {
    const ck = popCkOf(m).split(' ');
    assert.equal(ck.length, 8);
    assert.equal(ck[1], f['popTime']);
    assert.equal(ck[5], 'broker-a');
    assert.equal(ck[6], String(m.queueId));
    assert.equal(ck[7], String(m.queueOffset));
    assert.equal(m.topic, 'P1');
  }
  assert.match(f['startOffsetInfo'] ?? '', /^0 [01] 0;0 [01] 0$/);
  const again = await popRaw(h, 'P1', { consumerGroup: 'g1' });
  assert.equal(again.resp.code, ResponseCode.POLLING_TIMEOUT);
  for (const m of p.msgs) assert.equal((await ack(h, 'P1', m, 'g1')).code, ResponseCode.SUCCESS);
  const twice = await ack(h, 'P1', p.msgs[0] as (typeof p.msgs)[0], 'g1');
  assert.equal(twice.code, ResponseCode.NO_MESSAGE);
  // Another group has its own offsets.
  assert.equal((await popRaw(h, 'P1', { consumerGroup: 'g2' })).msgs.length, 3);
});

test('an unacked message comes back after its invisible time from the retry topic, an acked one never', async () => {
  await sendV2(h, 'P2', 'keep', {}, 0);
  await sendV2(h, 'P2', 'drop', {}, 0);
  const p = await popRaw(h, 'P2', { invisibleTime: 2000n });
  assert.equal(p.msgs.length, 2);
  const drop = p.msgs.find((m) => m.body.toString() === 'drop');
  assert.ok(drop);
  assert.equal((await ack(h, 'P2', drop)).code, 0);
  const back = await popRaw(h, 'P2', { pollTime: 5000n, invisibleTime: 1000n });
  assert.equal(back.resp.code, 0, back.resp.remark);
  assert.deepEqual(
    back.msgs.map((m) => m.body.toString()),
    ['keep'],
  );
  const m = back.msgs[0];
  assert.ok(m);
  assert.equal(m.topic, 'P2');
  assert.equal(m.reconsumeTimes, 1);
  assert.equal(m.properties.get('RETRY_TOPIC'), 'P2');
  assert.ok(m.properties.get('1ST_POP_TIME'));
  assert.equal(back.builtCk, 0, "a revived message carries the broker's POP_CK");
  assert.equal(popCkOf(m).split(' ')[4], '1', 'retry flag');
  assert.equal((await ack(h, 'P2', m)).code, 0);
  const none = await popRaw(h, 'P2', { pollTime: 1500n });
  assert.equal(none.resp.code, ResponseCode.POLLING_TIMEOUT);
});

test('CHANGE_MESSAGE_INVISIBLETIME gives a new handle; the old one is dead, the new one acks', async () => {
  await sendV2(h, 'P3', 'cit', {}, 1);
  const [m] = (await popRaw(h, 'P3', { invisibleTime: 2000n })).msgs;
  assert.ok(m);
  const c = await changeInvisible(h, 'P3', m, 5000);
  assert.equal(c.code, 0, c.remark);
  assert.equal(c.extFields?.['invisibleTime'], '5000');
  assert.equal((await ack(h, 'P3', m)).code, ResponseCode.NO_MESSAGE, 'old handle');
  // Past the first invisible time it did not come back: the new one holds.
  assert.equal((await popRaw(h, 'P3', { pollTime: 2500n })).resp.code, ResponseCode.POLLING_TIMEOUT);
  const fresh = changedExtraInfo(popCkOf(m), c);
  assert.equal((await ack(h, 'P3', m, 'pg1', fresh)).code, 0);
  assert.equal((await popRaw(h, 'P3', { pollTime: 3500n })).resp.code, ResponseCode.POLLING_TIMEOUT);
});

test('past the group retry maximum an unacked message goes to %DLQ%<group>', async () => {
  const r = await call(
    h,
    RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
    {},
    Buffer.from(JSON.stringify({ groupName: 'gdlq', retryMaxTimes: 1, consumeEnable: true, retryQueueNums: 1 })),
  );
  assert.equal(r.code, 0, r.remark);
  await sendV2(h, 'P4', 'dead', {}, 0);
  const first = await popRaw(h, 'P4', { consumerGroup: 'gdlq', invisibleTime: 1000n });
  assert.equal(first.msgs.length, 1);
  const second = await popRaw(h, 'P4', { consumerGroup: 'gdlq', invisibleTime: 1000n, pollTime: 5000n });
  assert.equal(second.msgs.length, 1);
  assert.equal(second.msgs[0]?.reconsumeTimes, 1);
  // Not acked again: retryMaxTimes 1 is spent.
  const third = await popRaw(h, 'P4', { consumerGroup: 'gdlq', pollTime: 2000n });
  assert.equal(third.resp.code, ResponseCode.POLLING_TIMEOUT);
  const dlq = await popRaw(h, '%DLQ%gdlq', { consumerGroup: 'dlq-reader' });
  assert.equal(dlq.resp.code, 0, dlq.resp.remark);
  assert.deepEqual(
    dlq.msgs.map((m) => [m.body.toString(), m.reconsumeTimes]),
    [['dead', 2]],
  );
  const info = await call(h, RequestCode.GET_BROKER_RUNTIME_INFO, {});
  const table = (JSON.parse(info.body?.toString() ?? '{}') as { table: Record<string, string> }).table;
  assert.ok(Number(table['popRevived']) >= 1, JSON.stringify(table));
  assert.ok(Number(table['popDeadLettered']) >= 1);
  for (const k of ['popCheckPoints', 'popInFlight', 'popOrderQueues', 'popWaiting'])
    assert.ok(table[k] !== undefined, k);
});

test('long polling: a held pop answers when a message arrives', async () => {
  const started = Date.now();
  const waiting = popRaw(h, 'P5', { pollTime: 8000n });
  await new Promise((r) => setTimeout(r, 200));
  await sendV2(h, 'P5', 'late', {}, 1);
  const p = await waiting;
  assert.equal(p.resp.code, 0, p.resp.remark);
  assert.deepEqual(
    p.msgs.map((m) => m.body.toString()),
    ['late'],
  );
  assert.ok(Date.now() - started < 6000);
});

test('long polling: many pops held on one connection are all answered, with no listener-leak warning', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const held = Array.from({ length: 12 }, () =>
      popRaw(h, 'P5', { consumerGroup: 'many', pollTime: 8000n, maxMsgNums: 1 }),
    );
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 12; i++) await sendV2(h, 'P5', `n${i}`, {}, i % 2);
    const got = (await Promise.all(held)).flatMap((p) => p.msgs.map((m) => m.body.toString()));
    // The group is new: it starts at the queue's first message ('late' of the test before) and takes 12 of 13.
    assert.equal(got.length, 12);
    assert.equal(new Set(got).size, 12);
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
  }
});

test('tag filter: only matching messages are popped; queueId names one queue', async () => {
  await sendV2(h, 'P6', 'a0', { TAGS: 'A' }, 0);
  await sendV2(h, 'P6', 'b0', { TAGS: 'B' }, 0);
  await sendV2(h, 'P6', 'a1', { TAGS: 'A' }, 1);
  const p = await popRaw(h, 'P6', { expType: 'TAG', exp: 'A', queueId: 0 });
  assert.deepEqual(
    p.msgs.map((m) => m.body.toString()),
    ['a0'],
  );
  const rest = await popRaw(h, 'P6', { expType: 'TAG', exp: 'A' });
  assert.deepEqual(
    rest.msgs.map((m) => m.body.toString()),
    ['a1'],
  );
});

test('BATCH_ACK_MESSAGE acks several offsets of a check point', async () => {
  for (let i = 0; i < 3; i++) await sendV2(h, 'P7', `b${i}`, {}, 0);
  const p = await popRaw(h, 'P7', { queueId: 0, invisibleTime: 2000n });
  assert.equal(p.msgs.length, 3);
  const f = popCkOf(p.msgs[0] as (typeof p.msgs)[0]).split(' ');
  const body = encodeBatchAckBody({
    brokerName: 'broker-a',
    acks: [
      {
        consumerGroup: 'pg1',
        topic: 'P7',
        retry: false,
        startOffset: BigInt(f[0] as string),
        queueId: 0,
        reviveQueueId: Number(f[3]),
        popTime: Number(f[1]),
        invisibleTime: 2000,
        offsets: p.msgs.map((m) => m.queueOffset),
      },
    ],
  });
  const r = await call(h, RequestCode.BATCH_ACK_MESSAGE, {}, body);
  assert.equal(r.code, 0, r.remark);
  assert.equal(r.remark ?? '', '');
  // The same again: nothing left to ack, and the answer names every offset (entry 0) as too late.
  const again = await call(h, RequestCode.BATCH_ACK_MESSAGE, {}, body);
  assert.equal(again.code, 0, again.remark);
  assert.deepEqual(decodeBatchAckResponseHeader(again), {
    expired: [{ ack: 0, offsets: p.msgs.map((m) => m.queueOffset) }],
  });
  assert.equal((await popRaw(h, 'P7', { pollTime: 2800n })).resp.code, ResponseCode.POLLING_TIMEOUT);
});

test('bad requests are refused with what is wrong, and the broker keeps serving', async () => {
  const over = await popRaw(h, 'P8', { maxMsgNums: 33 });
  assert.equal(over.resp.code, ResponseCode.INVALID_PARAMETER);
  assert.match(over.resp.remark ?? '', /max message num/);
  assert.equal((await popRaw(h, 'P8', { invisibleTime: 999n })).resp.code, ResponseCode.INVALID_PARAMETER);
  assert.equal((await popRaw(h, 'P8', { queueId: 7 })).resp.code, ResponseCode.INVALID_PARAMETER);
  assert.equal((await popRaw(h, 'NOPE')).resp.code, ResponseCode.TOPIC_NOT_EXIST);
  assert.equal((await popRaw(h, 'P8', { initMode: 5 })).resp.code, ResponseCode.INVALID_PARAMETER);
  assert.equal((await popRaw(h, 'P8', { expType: 'SQL92', exp: 'a > 1' })).resp.code, ResponseCode.SYSTEM_ERROR);
  const missing = await call(h, RequestCode.POP_MESSAGE, { topic: 'P8' });
  assert.equal(missing.code, ResponseCode.SYSTEM_ERROR);
  assert.match(missing.remark ?? '', /consumerGroup/);
  const fake = { queueId: 0, queueOffset: 0n } as Parameters<typeof ack>[2];
  for (const extraInfo of ['garbage', '1 2 3 4 5 broker-a 0 x', '0 1 1000 0 0 other-broker 0 0']) {
    const r = await ack(h, 'P8', fake, 'pg1', extraInfo);
    assert.equal(r.code, ResponseCode.INVALID_PARAMETER, extraInfo);
    assert.ok((r.remark ?? '').length > 0);
  }
  assert.equal((await ack(h, 'P8', fake, 'pg1', '0 1 1000 0 0 broker-a 0 0')).code, ResponseCode.NO_MESSAGE);
  // A real handle acked for another group, or changed once its invisible time is over, does nothing.
  await sendV2(h, 'P8', 'held', {}, 1);
  const [held] = (await popRaw(h, 'P8', { queueId: 1, invisibleTime: 1000n })).msgs;
  assert.ok(held);
  assert.equal((await ack(h, 'P8', held, 'someone-else')).code, ResponseCode.NO_MESSAGE);
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await changeInvisible(h, 'P8', held, 5000)).code, ResponseCode.NO_MESSAGE);
  assert.equal((await changeInvisible(h, 'P8', held, 10)).code, ResponseCode.INVALID_PARAMETER);
  assert.equal(
    (await call(h, RequestCode.BATCH_ACK_MESSAGE, {}, Buffer.from('{'))).code,
    ResponseCode.INVALID_PARAMETER,
  );
  await sendV2(h, 'P8', 'still', {}, 0);
  const still = await popRaw(h, 'P8', { queueId: 0 });
  // (the retry topic is read too, so 'held', revived by now, may come along)
  assert.ok(still.msgs.some((m) => m.body.toString() === 'still'));
});
