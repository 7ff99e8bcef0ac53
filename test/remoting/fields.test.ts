import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isRetriableResponseCode,
  RequestCode,
  ResponseCode,
  requestCodeName,
  responseCodeName,
} from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { RemotingResponseError } from '../../src/remoting/errors.js';
import {
  HeaderFieldError,
  optionalBool,
  optionalInt,
  optionalLong,
  optionalString,
  requireInt,
  requireLong,
  requireString,
} from '../../src/remoting/fields.js';

test('code tables carry RocketMQ numbers and names', () => {
  assert.equal(RequestCode.SEND_MESSAGE, 10);
  assert.equal(RequestCode.SEND_MESSAGE_V2, 310);
  assert.equal(RequestCode.GET_ROUTEINFO_BY_TOPIC, 105);
  assert.equal(RequestCode.END_TRANSACTION, 37);
  assert.equal(RequestCode.CHECK_TRANSACTION_STATE, 39);
  assert.equal(RequestCode.LOCK_BATCH_MQ, 41);
  assert.equal(RequestCode.UNLOCK_BATCH_MQ, 42);
  assert.equal(RequestCode.POP_MESSAGE, 200050);
  assert.equal(requestCodeName(34), 'HEART_BEAT');
  assert.equal(requestCodeName(999999), 'UNKNOWN(999999)');
  assert.equal(ResponseCode.PULL_NOT_FOUND, 19);
  assert.equal(responseCodeName(3), 'REQUEST_CODE_NOT_SUPPORTED');
  assert.equal(responseCodeName(-5), 'UNKNOWN(-5)');
  for (const code of [1, 2, 10, 11, 12, 14, 17]) assert.ok(isRetriableResponseCode(code), String(code));
  for (const code of [0, 3, 13, 19, 22, 29]) assert.ok(!isRetriableResponseCode(code), String(code));
  const err = RemotingResponseError.of({ code: 17, remark: 'topic T not exist' }, 'send');
  assert.equal(err.code, 17);
  assert.equal(err.retriable, true);
  assert.equal(err.message, 'send: TOPIC_NOT_EXIST (17): topic T not exist');
});

test('typed extFields reads', () => {
  const req = createRequest(11, {
    topic: 'T',
    queueId: 3,
    queueOffset: 9007199254740993n,
    neg: '-1',
    flag: true,
    empty: '',
    big: '2147483648',
    junk: '12abc',
  });
  assert.equal(requireString(req, 'topic'), 'T');
  assert.equal(optionalString(req, 'missing'), undefined);
  assert.equal(optionalString(req, 'toString'), undefined);
  assert.equal(requireInt(req, 'queueId'), 3);
  assert.equal(requireInt(req, 'neg'), -1);
  assert.equal(requireLong(req, 'queueOffset'), 9007199254740993n);
  assert.equal(optionalBool(req, 'flag'), true);
  assert.equal(optionalInt(req, 'empty'), undefined);
  assert.equal(optionalLong(req, 'missing'), undefined);
  assert.throws(
    () => requireString(req, 'group'),
    (e: unknown) => {
      assert.ok(e instanceof HeaderFieldError);
      assert.equal(e.code, 1);
      assert.equal(e.field, 'group');
      assert.match(e.message, /'group' is missing/);
      return true;
    },
  );
  assert.throws(() => requireInt(req, 'big'), /'big' is not a 32-bit integer/);
  assert.throws(() => requireLong(req, 'junk'), /'junk' is not a 64-bit integer/);
  assert.throws(() => optionalBool(req, 'topic'), HeaderFieldError);
  assert.throws(() => requireInt(req, 'empty'), /missing/);
});
