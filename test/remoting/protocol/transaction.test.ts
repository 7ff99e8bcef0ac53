/** END_TRANSACTION (37) and CHECK_TRANSACTION_STATE (39) headers: round trip in both serialize types. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerializeType } from '../../../src/remoting/command.js';
import { HeaderFieldError } from '../../../src/remoting/fields.js';
import * as tx from '../../../src/remoting/protocol/transaction.js';
import { assertNamesMissing, assertRoundTrip, overWire } from './helpers.js';

const end: tx.EndTransactionRequestHeader = {
  producerGroup: 'PG',
  tranStateTableOffset: 12n,
  commitLogOffset: 9_007_199_254_740_993n,
  commitOrRollback: tx.EndTransactionType.rollback,
  fromTransactionCheck: true,
  msgId: 'U1',
  transactionId: 'U1',
  topic: 'T',
};

test('END_TRANSACTION (37): round trip, RocketMQ field names, required fields named', () => {
  assertRoundTrip(end, tx.encodeEndTransactionHeader, tx.decodeEndTransactionHeader);
  const minimal = { ...end, transactionId: undefined, topic: undefined, fromTransactionCheck: false };
  assertRoundTrip(minimal, tx.encodeEndTransactionHeader, tx.decodeEndTransactionHeader);
  const ext = tx.encodeEndTransactionHeader(end);
  assert.deepEqual(Object.keys(ext), [
    'producerGroup',
    'tranStateTableOffset',
    'commitLogOffset',
    'commitOrRollback',
    'fromTransactionCheck',
    'msgId',
    'transactionId',
    'topic',
  ]);
  assert.equal(ext['commitOrRollback'], '12');
  for (const f of ['producerGroup', 'tranStateTableOffset', 'commitLogOffset', 'commitOrRollback', 'msgId']) {
    assertNamesMissing(ext, f, tx.decodeEndTransactionHeader);
  }
  // fromTransactionCheck may be absent (ali-ons and older clients): false.
  const { fromTransactionCheck: _f, ...noFlag } = ext;
  assert.equal(tx.decodeEndTransactionHeader(overWire(noFlag, SerializeType.json)).fromTransactionCheck, false);
});

test('END_TRANSACTION: a commitOrRollback other than 0, 8, 12 is a header error', () => {
  for (const v of ['4', '9', '-1']) {
    const cmd = overWire({ ...tx.encodeEndTransactionHeader(end), commitOrRollback: v }, SerializeType.json);
    assert.throws(
      () => tx.decodeEndTransactionHeader(cmd),
      (err: unknown) => err instanceof HeaderFieldError && err.field === 'commitOrRollback',
    );
  }
});

test('CHECK_TRANSACTION_STATE (39): round trip, required offsets named', () => {
  const h = { tranStateTableOffset: 3n, commitLogOffset: 4096n, msgId: 'U', transactionId: 'U', offsetMsgId: 'O' };
  assertRoundTrip(h, tx.encodeCheckTransactionStateHeader, tx.decodeCheckTransactionStateHeader);
  const ext = tx.encodeCheckTransactionStateHeader(h);
  for (const f of ['tranStateTableOffset', 'commitLogOffset']) {
    assertNamesMissing(ext, f, tx.decodeCheckTransactionStateHeader);
  }
});
