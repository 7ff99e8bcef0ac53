import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RequestCode, ResponseCode } from '../../../src/remoting/codes.js';
import { call, createTopic, type Harness, sendV2, startHarness } from '../helpers.js';
import { ack, changedExtraInfo, changeInvisible, popCkOf, popRaw } from './pop-client.js';

let h: Harness;
before(async () => {
  h = await startHarness({ autoCreateTopicEnable: false, reviveInterval: 50 });
  for (const t of ['F1', 'F2', 'F3', 'F4']) await createTopic(h, t, 1);
});
after(() => h.close());

const bodies = (p: { msgs: { body: Buffer }[] }) => p.msgs.map((m) => m.body.toString());

test('FIFO: a queue gives its next messages only after the previous batch is acked, in queue order', async () => {
  for (let i = 0; i < 5; i++) await sendV2(h, 'F1', `f${i}`, {}, 0);
  const first = await popRaw(h, 'F1', { order: true, maxMsgNums: 2 });
  assert.deepEqual(bodies(first), ['f0', 'f1']);
  assert.equal(first.resp.extFields?.['reviveQid'], '999');
  assert.equal(first.resp.extFields?.['orderCountInfo'], '0 0 0');
  // Blocked while the batch is out, for every consumer of the group.
  assert.equal((await popRaw(h, 'F1', { order: true })).resp.code, ResponseCode.POLLING_TIMEOUT);
  assert.equal((await ack(h, 'F1', first.msgs[0] as (typeof first.msgs)[0])).code, 0);
  assert.equal((await popRaw(h, 'F1', { order: true })).resp.code, ResponseCode.POLLING_TIMEOUT);
  // A held FIFO pop is answered when the last ack frees the queue.
  const waiting = popRaw(h, 'F1', { order: true, pollTime: 8000n });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await ack(h, 'F1', first.msgs[1] as (typeof first.msgs)[0])).code, 0);
  assert.deepEqual(bodies(await waiting), ['f2', 'f3', 'f4']);
  // Another group is not blocked by this one.
  assert.deepEqual(bodies(await popRaw(h, 'F1', { consumerGroup: 'other', order: true, maxMsgNums: 1 })), ['f0']);
});

test('FIFO: an unacked batch comes back first once invisible time ends, one attempt more; acked ones not again', async () => {
  for (let i = 0; i < 3; i++) await sendV2(h, 'F2', `o${i}`, {}, 0);
  const first = await popRaw(h, 'F2', { order: true, invisibleTime: 2000n });
  assert.deepEqual(bodies(first), ['o0', 'o1', 'o2']);
  assert.equal((await ack(h, 'F2', first.msgs[1] as (typeof first.msgs)[0])).code, 0);
  const again = await popRaw(h, 'F2', { order: true, invisibleTime: 2000n, pollTime: 5000n });
  assert.equal(again.resp.code, 0, again.resp.remark);
  assert.deepEqual(bodies(again), ['o0', 'o2']);
  assert.deepEqual(
    again.msgs.map((m) => m.reconsumeTimes),
    [1, 1],
  );
  assert.equal(again.resp.extFields?.['orderCountInfo'], '0 0 1');
  // The old handles are dead.
  assert.equal((await ack(h, 'F2', first.msgs[0] as (typeof first.msgs)[0])).code, ResponseCode.NO_MESSAGE);
  for (const m of again.msgs) assert.equal((await ack(h, 'F2', m)).code, 0);
  assert.equal((await popRaw(h, 'F2', { order: true })).resp.code, ResponseCode.POLLING_TIMEOUT);
});

test('FIFO: change invisible time extends the hold of that message', async () => {
  await sendV2(h, 'F3', 'x', {}, 0);
  const [m] = (await popRaw(h, 'F3', { order: true, invisibleTime: 2000n })).msgs;
  assert.ok(m);
  const c = await changeInvisible(h, 'F3', m, 6000);
  assert.equal(c.code, 0, c.remark);
  assert.equal((await popRaw(h, 'F3', { order: true, pollTime: 2500n })).resp.code, ResponseCode.POLLING_TIMEOUT);
  assert.equal((await ack(h, 'F3', m, 'pg1', changedExtraInfo(popCkOf(m), c))).code, 0);
});

test('FIFO: a message delivered retryMaxTimes + 1 times goes to the DLQ and the queue moves on', async () => {
  const r = await call(
    h,
    RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
    {},
    Buffer.from(JSON.stringify({ groupName: 'fdlq', retryMaxTimes: 1, consumeEnable: true, retryQueueNums: 1 })),
  );
  assert.equal(r.code, 0, r.remark);
  await sendV2(h, 'F4', 'poison', {}, 0);
  await sendV2(h, 'F4', 'next', {}, 0);
  const opts = { consumerGroup: 'fdlq', order: true, maxMsgNums: 1, invisibleTime: 1000n, pollTime: 5000n };
  assert.deepEqual(bodies(await popRaw(h, 'F4', opts)), ['poison']);
  assert.deepEqual(bodies(await popRaw(h, 'F4', opts)), ['poison']);
  assert.deepEqual(bodies(await popRaw(h, 'F4', opts)), ['next']);
  const dlq = await popRaw(h, '%DLQ%fdlq', { consumerGroup: 'dlq-reader' });
  assert.deepEqual(bodies(dlq), ['poison']);
});
