/** The transaction put hook: prepared → half topic with REAL_TOPIC / REAL_QID; refusals; others untouched. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transactionHook } from '../../../src/broker/put/transaction-hook.js';
import { type PutMessage, PutRefusal } from '../../../src/broker/put/types.js';
import { decodeProperties, encodeProperties } from '../../../src/common/properties.js';
import { ResponseCode } from '../../../src/remoting/codes.js';

const config = { brokerName: 'b1', rejectTransactionMessage: false };
const plainReq = { reconsumeTimes: 0, maxReconsumeTimes: undefined };

function msg(over: Partial<PutMessage> = {}): PutMessage {
  return {
    topic: 'Orders',
    queueId: 5,
    flag: 7,
    body: Buffer.from('x'),
    properties: encodeProperties({ TAGS: 'a', TRAN_MSG: 'true', PGROUP: 'pg', DELAY: '3' }),
    sysFlag: 0x4 | 0x1,
    bornTimestamp: 1n,
    bornHost: '127.0.0.1:1',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: 97n,
    transactionPrepared: true,
    scheduled: true,
    ...over,
  };
}

test('a prepared message becomes a half message: half topic queue 0, REAL_* kept, transaction bits NOT', () => {
  const m = msg();
  assert.equal(transactionHook(config).beforePut(m, plainReq), undefined);
  assert.equal(m.topic, 'RMQ_SYS_TRANS_HALF_TOPIC');
  assert.equal(m.queueId, 0);
  assert.equal(m.sysFlag, 0x1, 'compressed bit kept, transaction type NOT');
  assert.equal(m.transactionPrepared, true, 'later hooks (delay, timer) see a half message');
  const props = decodeProperties(m.properties as string);
  assert.equal(props.get('REAL_TOPIC'), 'Orders');
  assert.equal(props.get('REAL_QID'), '5');
  assert.equal(props.get('DELAY'), '3', 'the delay waits for the commit');
  assert.equal(props.get('TRAN_MSG'), 'true');
});

test('properties as bytes (batch items) and a forged REAL_TOPIC: the broker-set values win', () => {
  const m = msg({
    properties: Buffer.from(encodeProperties({ REAL_TOPIC: 'Elsewhere', REAL_QID: '9' })),
    transactionPrepared: false,
    sysFlag: 0x4,
  });
  transactionHook(config).beforePut(m, plainReq);
  const props = decodeProperties(m.properties as string);
  assert.equal(props.get('REAL_TOPIC'), 'Orders');
  assert.equal(props.get('REAL_QID'), '5');
});

test('properties without the trailing separator (as the Java client sends them) keep every property', () => {
  const m = msg({ properties: 'TRAN_MSG\u0001true\u0002PGROUP\u0001pg\u0002UNIQ_KEY\u0001U1' });
  transactionHook(config).beforePut(m, plainReq);
  const props = decodeProperties(m.properties as string);
  assert.equal(props.get('UNIQ_KEY'), 'U1');
  assert.equal(props.get('REAL_TOPIC'), 'Orders');
  assert.equal(props.get('REAL_QID'), '5');
});

test('TRAN_MSG alone marks a half message; commit-typed and plain messages pass untouched', () => {
  const byProp = msg({ sysFlag: 0 });
  transactionHook(config).beforePut(byProp, plainReq);
  assert.equal(byProp.topic, 'RMQ_SYS_TRANS_HALF_TOPIC');
  for (const m of [
    msg({ sysFlag: 0x8, transactionPrepared: false }),
    msg({ sysFlag: 0, transactionPrepared: false }),
  ]) {
    const before = { ...m };
    assert.equal(transactionHook(config).beforePut(m, plainReq), undefined);
    assert.deepEqual(m, before);
  }
});

test('rejectTransactionMessage refuses with NO_PERMISSION; a half message in a batch is MESSAGE_ILLEGAL', () => {
  const refused = transactionHook({ ...config, rejectTransactionMessage: true }).beforePut(msg(), plainReq);
  assert.ok(refused instanceof PutRefusal);
  assert.equal(refused.code, ResponseCode.NO_PERMISSION);
  assert.match(refused.remark, /^the broker\[b1\] sending transaction message is forbidden/);
  const inBatch = transactionHook(config).beforePut(msg(), { ...plainReq, batch: true });
  assert.ok(inBatch instanceof PutRefusal);
  assert.equal(inBatch.code, ResponseCode.MESSAGE_ILLEGAL);
});
