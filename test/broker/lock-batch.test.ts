import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RemotingClient } from '../../src/remoting/client.js';
import { PullSysFlag, RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { decodeLockBatchResponse, encodeLockBatchBody } from '../../src/remoting/protocol/lock.js';
import { call, createTopic, type Harness, pull, sendV2, startHarness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness();
  await createTopic(h, 'OT', 2);
  const up = await call(
    h,
    RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
    {},
    Buffer.from(JSON.stringify({ groupName: 'OG' })),
  );
  assert.equal(up.code, 0, up.remark);
});
after(() => h.close());

const q = (queueId: number, topic = 'OT') => ({ topic, brokerName: 'broker-a', queueId });

async function lock(client: RemotingClient, clientId: string, mqSet: ReturnType<typeof q>[], group = 'OG') {
  const r = await call(
    { client, addr: h.addr },
    RequestCode.LOCK_BATCH_MQ,
    {},
    encodeLockBatchBody({ consumerGroup: group, clientId, mqSet }),
  );
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  const locked = decodeLockBatchResponse(r.body);
  assert.ok(Array.isArray(locked));
  return locked.map((m) => m.queueId).sort();
}

async function unlock(client: RemotingClient, clientId: string, mqSet: ReturnType<typeof q>[]) {
  const r = await call(
    { client, addr: h.addr },
    RequestCode.UNLOCK_BATCH_MQ,
    {},
    encodeLockBatchBody({ consumerGroup: 'OG', clientId, mqSet }),
  );
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
}

test('LOCK_BATCH_MQ grants a queue to one client; UNLOCK_BATCH_MQ by the owner hands it over', async () => {
  const a = new RemotingClient();
  const b = new RemotingClient();
  try {
    assert.deepEqual(await lock(a, 'A', [q(0), q(1)]), [0, 1]);
    assert.deepEqual(await lock(b, 'B', [q(0), q(1)]), [], 'held by A');
    assert.deepEqual(await lock(a, 'A', [q(0), q(1)]), [0, 1], 'A renews');
    await unlock(b, 'B', [q(0)]);
    assert.deepEqual(await lock(b, 'B', [q(0)]), [], 'B cannot release what A holds');
    await unlock(a, 'A', [q(0)]);
    assert.deepEqual(await lock(b, 'B', [q(0), q(1)]), [0]);
    // A closed connection releases nothing (RocketMQ): A's queue 1 waits for its lease to end.
    await a.close();
    assert.deepEqual(await lock(b, 'B', [q(1)]), []);
    await unlock(b, 'B', [q(0)]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('queues of unknown topics, out-of-range ids or unknown groups are not locked', async () => {
  assert.deepEqual(await lock(h.client, 'C', [q(5), q(0, 'NoSuchTopic'), q(-1)]), []);
  assert.deepEqual(await lock(h.client, 'C', [q(0)], 'NoSuchGroup'), []);
});

test('a malformed lock or unlock body is answered SYSTEM_ERROR naming the problem', async () => {
  for (const code of [RequestCode.LOCK_BATCH_MQ, RequestCode.UNLOCK_BATCH_MQ]) {
    const none = await call(h, code, {});
    assert.equal(none.code, ResponseCode.SYSTEM_ERROR);
    assert.match(none.remark ?? '', /no body/);
    const bad = await call(h, code, {}, Buffer.from('{"consumerGroup":"OG","clientId":"c","mqSet":"x"}'));
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark ?? '', /mqSet is not an array/);
  }
});

test("a pull's piggy-backed commit is applied in request order: a later offset commit is never undone", async () => {
  await createTopic(h, 'OC', 1);
  for (let i = 0; i < 5; i++) {
    const r = await sendV2(h, 'OC', `m${i}`);
    assert.equal(r.code, 0, r.remark);
  }
  // An orderly consumer hands a queue over: a pull carrying the old commit (2) is written just before the
  // final commit (5) on the same connection; the next owner must read 5.
  const pulling = pull(h, 'OC', 0, 2, { consumerGroup: 'OG', sysFlag: PullSysFlag.commitOffset, commitOffset: 2 });
  const committing = call(h, RequestCode.UPDATE_CONSUMER_OFFSET, {
    consumerGroup: 'OG',
    topic: 'OC',
    queueId: 0,
    commitOffset: 5,
  });
  await Promise.all([pulling, committing]);
  const q = await call(h, RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'OG', topic: 'OC', queueId: 0 });
  assert.equal(q.extFields?.['offset'], '5');
});
