/**
 * SQL92 with enablePropertyFilter on: the expression is compiled when the subscription arrives (heartbeat 34,
 * CHECK_CLIENT_CONFIG 46, or a pull carrying it) and pulls return only matching messages. A bad expression is
 * refused at 46 with its position (SUBSCRIPTION_PARSE_FAILED); one that arrives by heartbeat registers (as in
 * RocketMQ) and its pulls answer FILTER_DATA_NOT_EXIST naming the error.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeRecords } from '../../src/common/record.js';
import { PullSysFlag, RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { call, createTopic, type Harness, pull, sendV2, startHarness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness({ enablePropertyFilter: true });
  await createTopic(h, 'SQ', 1);
  for (let i = 0; i < 20; i++) {
    const props: Record<string, string> = { TAGS: i % 2 === 0 ? 'even' : 'odd', a: String(i) };
    if (i % 5 === 0) props['five'] = 'yes';
    const r = await sendV2(h, 'SQ', `m${i}`, props);
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  }
});
after(() => h.close());

function checkClientConfig(subString: string, expressionType = 'SQL92') {
  const subscriptionData = { topic: 'SQ', subString, expressionType, tagsSet: [], codeSet: [], subVersion: 1 };
  return call(
    h,
    RequestCode.CHECK_CLIENT_CONFIG,
    {},
    Buffer.from(JSON.stringify({ clientId: 'c1', group: 'SQG', subscriptionData })),
  );
}

function heartbeat(clientID: string, groupName: string, subString: string) {
  const sub = { topic: 'SQ', subString, expressionType: 'SQL92', tagsSet: [], codeSet: [], subVersion: Date.now() };
  const body = {
    clientID,
    producerDataSet: [],
    consumerDataSet: [
      {
        groupName,
        consumeType: 'CONSUME_PASSIVELY',
        messageModel: 'CLUSTERING',
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
        subscriptionDataSet: [sub],
        unitMode: false,
      },
    ],
  };
  return call(h, RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(body)));
}

const bodiesOf = (body: Buffer | undefined) =>
  body === undefined ? [] : decodeRecords(body).map((m) => m.body.toString());

test('CHECK_CLIENT_CONFIG: a good expression → SUCCESS; a bad one → SUBSCRIPTION_PARSE_FAILED with its position', async () => {
  const ok = await checkClientConfig("a > 5 AND TAGS IN ('even')");
  assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark);
  const bad = await checkClientConfig('a > 5 AND b >');
  assert.equal(bad.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
  assert.match(bad.remark ?? '', /expected a value, found the end of the expression at line 1, column 14/);
  const unknown = await checkClientConfig('a > 1', 'CLASS');
  assert.equal(unknown.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
  assert.match(unknown.remark ?? '', /unknown subscription expression type "CLASS"/);
});

test('a heartbeat SQL92 subscription filters the pulls that name only the type (the Java push consumer)', async () => {
  const hb = await heartbeat('sql-client-1', 'SQG1', "a >= 10 AND TAGS = 'even'");
  assert.equal(hb.code, ResponseCode.SUCCESS, hb.remark);
  const r = await pull(h, 'SQ', 0, 0, { consumerGroup: 'SQG1', expressionType: 'SQL92', subVersion: 1 });
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  assert.deepEqual(bodiesOf(r.body), ['m10', 'm12', 'm14', 'm16', 'm18']);
  assert.equal(r.extFields?.['nextBeginOffset'], '20');
  // The header may say TAG (ali-ons sends no type): the heartbeat's SQL92 still decides.
  const noType = await pull(h, 'SQ', 0, 0, { consumerGroup: 'SQG1' });
  assert.deepEqual(bodiesOf(noType.body), ['m10', 'm12', 'm14', 'm16', 'm18']);
});

test('a pull carrying its SQL92 subscription is filtered by it; missing properties never match', async () => {
  const r = await pull(h, 'SQ', 0, 0, {
    consumerGroup: 'SQG2',
    sysFlag: PullSysFlag.subscription,
    subscription: "five = 'yes' OR nothere = 1",
    expressionType: 'SQL92',
  });
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  assert.deepEqual(bodiesOf(r.body), ['m0', 'm5', 'm10', 'm15']);
  const none = await pull(h, 'SQ', 0, 0, {
    consumerGroup: 'SQG2',
    sysFlag: PullSysFlag.subscription,
    subscription: 'nothere IS NOT NULL',
    expressionType: 'SQL92',
  });
  assert.equal(none.code, ResponseCode.PULL_RETRY_IMMEDIATELY, none.remark);
  assert.equal(none.extFields?.['nextBeginOffset'], '20');
});

test('a pull carrying a bad expression → SUBSCRIPTION_PARSE_FAILED naming the position, nothing delivered', async () => {
  const r = await pull(h, 'SQ', 0, 0, {
    consumerGroup: 'SQG3',
    sysFlag: PullSysFlag.subscription,
    subscription: "a IN ('x', 5)",
    expressionType: 'SQL92',
  });
  assert.equal(r.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
  assert.match(r.remark ?? '', /expected a string literal, found '5' at line 1, column 12/);
  assert.equal(r.body, undefined);
});

test('a heartbeat with a bad expression registers; its pulls answer FILTER_DATA_NOT_EXIST with the error', async () => {
  const hb = await heartbeat('sql-client-4', 'SQG4', 'a > > 1');
  assert.equal(hb.code, ResponseCode.SUCCESS, hb.remark);
  const members = await call(h, RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'SQG4' });
  assert.equal(members.code, ResponseCode.SUCCESS, members.remark);
  const r = await pull(h, 'SQ', 0, 0, { consumerGroup: 'SQG4', expressionType: 'SQL92' });
  assert.equal(r.code, ResponseCode.FILTER_DATA_NOT_EXIST);
  assert.match(r.remark ?? '', /Your expression may be wrong!.*expected a value, found '>' at line 1, column 5/);
  assert.equal(r.body, undefined);
});

test('a SQL92 pull before any heartbeat → SUBSCRIPTION_NOT_EXIST, never served unfiltered', async () => {
  const r = await pull(h, 'SQ', 0, 0, { consumerGroup: 'SQG5', expressionType: 'SQL92' });
  assert.equal(r.code, ResponseCode.SUBSCRIPTION_NOT_EXIST, r.remark);
  assert.equal(r.body, undefined);
});

test('a held SQL92 pull stays held past arrivals that do not match and answers the one that does', async () => {
  await heartbeat('sql-client-6', 'SQG6', "late = 'yes'");
  const held = pull(h, 'SQ', 0, 20, {
    consumerGroup: 'SQG6',
    expressionType: 'SQL92',
    sysFlag: PullSysFlag.suspend,
    suspendTimeoutMillis: 5000,
  });
  await sendV2(h, 'SQ', 'no', { late: 'no' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  await sendV2(h, 'SQ', 'no again', { late: 'no' });
  await sendV2(h, 'SQ', 'yes', { late: 'yes' });
  const r = await held;
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  assert.deepEqual(bodiesOf(r.body), ['yes']);
  assert.equal(r.extFields?.['nextBeginOffset'], '23');
});

test('a held SQL92 pull that nothing matches answers PULL_NOT_FOUND at its deadline, past what it skipped', async () => {
  await heartbeat('sql-client-7', 'SQG7', "never = 'x'");
  const held = pull(h, 'SQ', 0, 23, {
    consumerGroup: 'SQG7',
    expressionType: 'SQL92',
    sysFlag: PullSysFlag.suspend,
    suspendTimeoutMillis: 600,
  });
  await sendV2(h, 'SQ', 'skipped', { never: 'y' });
  const r = await held;
  assert.equal(r.code, ResponseCode.PULL_NOT_FOUND, r.remark);
  assert.equal(r.extFields?.['nextBeginOffset'], '24');
});
