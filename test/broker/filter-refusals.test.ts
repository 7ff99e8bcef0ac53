/**
 * With enablePropertyFilter off (RocketMQ's default, and the broker's; `tsrocket start` turns it on), a SQL92
 * subscription is refused as RocketMQ refuses it —
 * CHECK_CLIENT_CONFIG (46) and PULL_MESSAGE answer SYSTEM_ERROR "The broker does not support consumer to filter
 * message by SQL92" — and is never served unfiltered, whether the pull or only the heartbeat names the type.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PullSysFlag, RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { call, createTopic, type Harness, pull, sendV2, startHarness } from './helpers.js';

const refusal = 'The broker does not support consumer to filter message by SQL92';
let h: Harness;
before(async () => {
  h = await startHarness();
  await createTopic(h, 'SQ', 1);
  for (let i = 0; i < 3; i++) {
    const r = await sendV2(h, 'SQ', `m${i}`, { TAGS: 'TagA', a: String(i) });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  }
});
after(() => h.close());

function checkClientConfig(subscriptionData: object | undefined) {
  const body =
    subscriptionData === undefined
      ? undefined
      : Buffer.from(JSON.stringify({ clientId: 'c1', group: 'SQG', subscriptionData }));
  return call(h, RequestCode.CHECK_CLIENT_CONFIG, {}, body);
}

const sqlSub = { topic: 'SQ', subString: 'a > 1', expressionType: 'SQL92', tagsSet: [], codeSet: [], subVersion: 1 };

test('CHECK_CLIENT_CONFIG: SQL92 → SYSTEM_ERROR with RocketMQ remark; TAG, no type, no body → SUCCESS', async () => {
  const sql = await checkClientConfig(sqlSub);
  assert.equal(sql.code, ResponseCode.SYSTEM_ERROR, sql.remark);
  assert.equal(sql.remark, refusal);
  for (const sub of [
    { ...sqlSub, expressionType: 'TAG', subString: '*' },
    { topic: 'SQ', subString: '*' },
  ]) {
    const r = await checkClientConfig(sub);
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  }
  assert.equal((await checkClientConfig(undefined)).code, ResponseCode.SUCCESS);
  const badType = await checkClientConfig({ topic: 'SQ', subString: '*', expressionType: 5 });
  assert.equal(badType.code, ResponseCode.SYSTEM_ERROR);
  assert.match(badType.remark ?? '', /expressionType is not a string/);
  const garbled = await call(h, RequestCode.CHECK_CLIENT_CONFIG, {}, Buffer.from('{not json'));
  assert.equal(garbled.code, ResponseCode.SYSTEM_ERROR);
  assert.match(garbled.remark ?? '', /not JSON/);
});

test('PULL with a SQL92 subscription in the request → SYSTEM_ERROR, nothing delivered', async () => {
  const r = await pull(h, 'SQ', 0, 0, {
    consumerGroup: 'SQG1',
    sysFlag: PullSysFlag.subscription,
    subscription: 'a > 1',
    expressionType: 'SQL92',
  });
  assert.equal(r.code, ResponseCode.SYSTEM_ERROR, r.remark);
  assert.equal(r.remark, refusal);
  assert.equal(r.body, undefined);
});

test('PULL naming SQL92 only in the header, before any heartbeat → refused, not served unfiltered', async () => {
  const r = await pull(h, 'SQ', 0, 0, { consumerGroup: 'SQG2', expressionType: 'SQL92' });
  assert.equal(r.code, ResponseCode.SYSTEM_ERROR, r.remark);
  assert.equal(r.remark, refusal);
});

test('a heartbeat with a SQL92 subscription registers the consumer; its pulls are refused', async () => {
  const hb = Buffer.from(
    JSON.stringify({
      clientID: 'sql-client',
      producerDataSet: [],
      consumerDataSet: [
        {
          groupName: 'SQG3',
          consumeType: 'CONSUME_PASSIVELY',
          messageModel: 'CLUSTERING',
          consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
          subscriptionDataSet: [sqlSub],
          unitMode: false,
        },
      ],
    }),
  );
  const r = await call(h, RequestCode.HEART_BEAT, {}, hb);
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  const p = await pull(h, 'SQ', 0, 0, { consumerGroup: 'SQG3' });
  assert.equal(p.code, ResponseCode.SYSTEM_ERROR, p.remark);
  assert.equal(p.remark, refusal);
  // A TAG consumer of the same topic is served as before.
  const tag = await pull(h, 'SQ', 0, 0, {
    consumerGroup: 'TAGG',
    sysFlag: PullSysFlag.subscription,
    subscription: '*',
  });
  assert.equal(tag.code, ResponseCode.SUCCESS, tag.remark);
});
