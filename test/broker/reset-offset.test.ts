/**
 * INVOKE_BROKER_TO_RESET_OFFSET (222) on one broker: offsets by store time (first message at or after it), -1 = the
 * end, isForce false only moves back, unknown topic / group refused; a pending reset ignores stale commits and
 * answers a pull from elsewhere PULL_OFFSET_MOVED to the reset offset, once; live consumers get 220 pushed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { decodeResetOffsetBody, decodeResetOffsetHeader } from '../../src/remoting/protocol/reset-offset.js';
import { call, createTopic, type Harness, pull, sendV2, sleep, startHarness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

async function sendN(topic: string, n: number, queueId = 0): Promise<void> {
  for (let i = 0; i < n; i++) assert.equal((await sendV2(h, topic, `m${i}`, {}, queueId)).code, ResponseCode.SUCCESS);
}

function commit(group: string, topic: string, queueId: number, offset: number) {
  return call(h, RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: group, topic, queueId, commitOffset: offset });
}

async function committed(group: string, topic: string, queueId: number): Promise<number> {
  const r = await call(h, RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: group, topic, queueId });
  return Number(r.extFields?.['offset']);
}

function resetTo(group: string, topic: string, timestamp: number, isForce = true) {
  return call(h, RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic, group, timestamp, isForce });
}

test('by time: the first message stored at or after it, per queue; -1 = the end; the body lists every queue', async () => {
  const topic = 'ResetByTime';
  await createTopic(h, topic, 2);
  await sendN(topic, 3, 0);
  await sendN(topic, 2, 1);
  await sleep(5);
  const t = Date.now();
  await sleep(5);
  await sendN(topic, 4, 0);
  await commit('rg1', topic, 0, 7);
  await commit('rg1', topic, 1, 2);

  const r = await resetTo('rg1', topic, t);
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  assert.deepEqual(
    decodeResetOffsetBody(r.body).map((e) => [e.queueId, Number(e.offset)]),
    [
      [0, 3],
      [1, 2],
    ],
  );
  assert.equal(await committed('rg1', topic, 0), 3);

  const end = await resetTo('rg1', topic, -1);
  assert.deepEqual(
    decodeResetOffsetBody(end.body).map((e) => [e.queueId, Number(e.offset)]),
    [
      [0, 7],
      [1, 2],
    ],
  );
  assert.equal(await committed('rg1', topic, 0), 7);
});

test('isForce false only moves a queue back; one queue to an offset (5.x); bad topic, group, queue or offset refused', async () => {
  const topic = 'ResetNoForce';
  await createTopic(h, topic, 1);
  await sendN(topic, 5);
  await commit('rg2', topic, 0, 2);
  const skip = await resetTo('rg2', topic, -1, false);
  assert.equal(skip.code, ResponseCode.SUCCESS);
  assert.equal(Number(decodeResetOffsetBody(skip.body)[0]?.offset), 2);
  assert.equal(await committed('rg2', topic, 0), 2);
  const back = await resetTo('rg2', topic, 0, false);
  assert.equal(Number(decodeResetOffsetBody(back.body)[0]?.offset), 0);

  assert.equal((await resetTo('rg2', 'NoSuchTopic', 0)).code, ResponseCode.TOPIC_NOT_EXIST);
  const badQueue = await call(h, RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, {
    topic,
    group: 'rg2',
    timestamp: 0,
    isForce: true,
    queueId: 1,
  });
  assert.equal(badQueue.code, ResponseCode.INVALID_PARAMETER);
  const outOfRange = await call(h, RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, {
    topic,
    group: 'rg2',
    timestamp: 0,
    isForce: true,
    queueId: 0,
    offset: 9,
  });
  assert.equal(outOfRange.code, ResponseCode.SYSTEM_ERROR);
  assert.match(outOfRange.remark ?? '', /not in consume queue range \[0-5\]/);
  const exact = await call(h, RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, {
    topic,
    group: 'rg2',
    timestamp: 0,
    isForce: true,
    queueId: 0,
    offset: 4,
  });
  assert.deepEqual(
    decodeResetOffsetBody(exact.body).map((e) => Number(e.offset)),
    [4],
  );
  assert.equal((await resetTo('never_seen_group', topic, 0)).code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);
});

test('a pending reset ignores stale commits and moves a pull from elsewhere to the reset offset, once', async () => {
  const topic = 'ResetPending';
  await createTopic(h, topic, 1);
  await sendN(topic, 6);
  await commit('rg3', topic, 0, 6);
  assert.equal((await resetTo('rg3', topic, 0)).code, ResponseCode.SUCCESS);
  // A commit sent before the consumer heard of the reset must not undo it.
  await commit('rg3', topic, 0, 6);
  assert.equal(await committed('rg3', topic, 0), 0);
  // A consumer still reading at 6 (with its commit piggy-backed) is sent back to 0.
  const moved = await pull(h, topic, 0, 6, { consumerGroup: 'rg3', sysFlag: 1, commitOffset: 6 });
  assert.equal(moved.code, ResponseCode.PULL_OFFSET_MOVED);
  assert.equal(moved.extFields?.['nextBeginOffset'], '0');
  assert.equal(await committed('rg3', topic, 0), 0);
  // Taken: the next pull is served, and commits count again.
  const served = await pull(h, topic, 0, 0, { consumerGroup: 'rg3' });
  assert.equal(served.code, ResponseCode.SUCCESS);
  await commit('rg3', topic, 0, 4);
  assert.equal(await committed('rg3', topic, 0), 4);
});

test('live consumers of the group get RESET_CONSUMER_CLIENT_OFFSET (220) with the new offsets', async () => {
  const topic = 'ResetPush';
  await createTopic(h, topic, 1);
  await sendN(topic, 4);
  const pushed: RemotingCommand[] = [];
  h.client.registerProcessor(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, (req) => {
    pushed.push(req);
    return undefined;
  });
  const heartbeat = {
    clientID: 'reset-test-client',
    producerDataSet: [],
    consumerDataSet: [
      {
        groupName: 'rg4',
        consumeType: 'CONSUME_PASSIVELY',
        messageModel: 'CLUSTERING',
        consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
        subscriptionDataSet: [],
        unitMode: false,
      },
    ],
  };
  assert.equal((await call(h, RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(heartbeat)))).code, 0);
  await commit('rg4', topic, 0, 4);
  assert.equal((await resetTo('rg4', topic, 0)).code, ResponseCode.SUCCESS);
  for (let i = 0; i < 100 && pushed.length === 0; i++) await sleep(10);
  const req = pushed[0];
  assert.ok(req !== undefined, 'no 220 pushed');
  assert.deepEqual(
    { ...decodeResetOffsetHeader(req), timestamp: 0 },
    { topic, group: 'rg4', timestamp: 0, isForce: false, queueId: undefined, offset: undefined },
  );
  assert.deepEqual(decodeResetOffsetBody(req.body), [{ topic, brokerName: 'broker-a', queueId: 0, offset: 0n }]);
});
