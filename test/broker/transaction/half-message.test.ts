/** What a transaction builds from a stored half message: the committed message, op records, check copies. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkCopyOf,
  committedMessageOf,
  offsetsToMarkDone,
  opOffsetsOf,
  opRecordOf,
  originOffsetOf,
  realTargetOf,
} from '../../../src/broker/transaction/half-message.js';
import type { MessageExt } from '../../../src/common/message.js';
import { decodeProperties } from '../../../src/common/properties.js';

function half(props: Record<string, string>, over: Partial<MessageExt> = {}): MessageExt {
  return {
    topic: 'RMQ_SYS_TRANS_HALF_TOPIC',
    queueId: 0,
    flag: 3,
    queueOffset: 42n,
    commitLogOffset: 8192n,
    storeSize: 200,
    sysFlag: 0x1,
    bodyCRC: 0,
    bornTimestamp: 5n,
    bornHost: '10.0.0.1:1',
    storeTimestamp: 6n,
    storeHost: '10.0.0.2:10911',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    body: Buffer.from('b'),
    properties: new Map(
      Object.entries({ REAL_TOPIC: 'Orders', REAL_QID: '2', TRAN_MSG: 'true', PGROUP: 'pg', ...props }),
    ),
    offsetMsgId: 'X',
    ...over,
  };
}

test('the committed message: real topic and queue, REAL_* and TRAN_MSG gone, COMMIT, scheduled when delayed', () => {
  const h = half({ TAGS: 't', KEYS: 'a b', UNIQ_KEY: 'U', DELAY: '2' });
  const target = realTargetOf(h);
  assert.deepEqual(target, { topic: 'Orders', queueId: 2 });
  const m = committedMessageOf(h, target as { topic: string; queueId: number });
  assert.equal(m.topic, 'Orders');
  assert.equal(m.queueId, 2);
  assert.equal(m.sysFlag, 0x1 | 0x8);
  assert.equal(m.preparedTransactionOffset, 8192n);
  assert.equal(m.scheduled, true, 'the delay hook sees the committed delayed message');
  assert.equal(m.transactionPrepared, false);
  assert.deepEqual(m.keys, ['a', 'b']);
  assert.equal(m.uniqKey, 'U');
  const props = decodeProperties(m.properties as string);
  assert.deepEqual([...props.keys()].sort(), ['DELAY', 'KEYS', 'PGROUP', 'TAGS', 'UNIQ_KEY']);
  const plain = committedMessageOf(half({}), { topic: 'Orders', queueId: 2 });
  assert.equal(plain.scheduled, false);
  for (const p of ['TIMER_DELIVER_MS', 'TIMER_DELAY_SEC', 'TIMER_DELAY_MS', '__STARTDELIVERTIME']) {
    assert.equal(committedMessageOf(half({ [p]: '1' }), { topic: 'T', queueId: 0 }).scheduled, true, p);
  }
});

test('not a half message: another topic, no REAL_TOPIC, or a bad REAL_QID', () => {
  assert.equal(realTargetOf(half({}, { topic: 'Orders' })), undefined);
  assert.equal(realTargetOf(half({ REAL_TOPIC: '' })), undefined);
  assert.equal(realTargetOf(half({ REAL_QID: 'x' })), undefined);
  assert.equal(realTargetOf(half({ REAL_QID: '-1' })), undefined);
});

test('copies name their first offset; op records name the copy and the first; bodies parse leniently', () => {
  const first = half({});
  assert.equal(originOffsetOf(first), 42n);
  assert.deepEqual(offsetsToMarkDone(first), [42n]);
  const copy = checkCopyOf(first, 1);
  const copyProps = decodeProperties(copy.properties as string);
  assert.equal(copyProps.get('TRAN_PREPARED_QUEUE_OFFSET'), '42');
  assert.equal(copyProps.get('TRANSACTION_CHECK_TIMES'), '1');
  assert.equal(copy.topic, 'RMQ_SYS_TRANS_HALF_TOPIC');
  const stored = half({ TRAN_PREPARED_QUEUE_OFFSET: '42' }, { queueOffset: 57n });
  assert.deepEqual(offsetsToMarkDone(stored), [57n, 42n]);
  assert.equal(checkCopyOf(stored, 2).properties.includes('TRAN_PREPARED_QUEUE_OFFSET\u000142'), true);
  const op = opRecordOf([57n, 42n], '127.0.0.1:1');
  assert.equal(op.topic, 'RMQ_SYS_TRANS_OP_HALF_TOPIC');
  assert.equal(op.body.toString(), '57,42');
  assert.equal(decodeProperties(op.properties as string).get('TAGS'), 'd');
  assert.deepEqual(opOffsetsOf(Buffer.from('57,42,')), [57n, 42n], '5.x form: a comma after each');
  assert.deepEqual(opOffsetsOf(Buffer.from('7')), [7n], '4.x form');
  assert.deepEqual(opOffsetsOf(Buffer.from('x,-1, 3 ,99999999999999999999')), [3n]);
});
