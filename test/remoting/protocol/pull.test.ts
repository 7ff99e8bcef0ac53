import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerializeType } from '../../../src/remoting/command.js';
import {
  decodePullHeader,
  decodePullResponseHeader,
  encodePullHeader,
  encodePullResponseHeader,
  type PullMessageRequestHeader,
} from '../../../src/remoting/protocol/pull.js';
import { assertNamesMissing, assertRoundTrip, overWire } from './helpers.js';

const header: PullMessageRequestHeader = {
  consumerGroup: 'G',
  topic: 'T',
  queueId: 1,
  queueOffset: 9007199254740993n,
  maxMsgNums: 32,
  sysFlag: 7,
  commitOffset: 5n,
  suspendTimeoutMillis: 15000,
  subscription: 'a || b',
  subVersion: 123,
  expressionType: 'TAG',
};

test('pull request header round-trips (subVersion too: the broker compares it with the heartbeat version)', () => {
  assertRoundTrip(header, encodePullHeader, decodePullHeader, header);
  assert.deepEqual(Object.keys(encodePullHeader(header)), [
    'consumerGroup',
    'topic',
    'queueId',
    'queueOffset',
    'maxMsgNums',
    'sysFlag',
    'commitOffset',
    'suspendTimeoutMillis',
    'subscription',
    'subVersion',
    'expressionType',
  ]);
});

test('pull request header: missing required fields are named; optional ones get defaults', () => {
  const ext = encodePullHeader(header);
  for (const f of ['consumerGroup', 'topic', 'queueId', 'queueOffset']) assertNamesMissing(ext, f, decodePullHeader);
  const h = decodePullHeader(
    overWire({ consumerGroup: 'G', topic: 'T', queueId: '0', queueOffset: '0' }, SerializeType.rocketmq),
  );
  assert.equal(h.maxMsgNums, 32);
  assert.equal(h.sysFlag, 0);
  assert.equal(h.commitOffset, 0n);
  assert.equal(h.suspendTimeoutMillis, 15000);
  assert.equal(h.subscription, undefined);
});

test('pull request header: a malformed number is named', () => {
  assert.throws(
    () => decodePullHeader(overWire({ ...encodePullHeader(header), queueOffset: 'x' }, SerializeType.json)),
    /header field 'queueOffset' is not a 64-bit integer/,
  );
});

test('pull response header round-trips; absent fields read as undefined', () => {
  const resp = { nextBeginOffset: 10n, minOffset: 0n, maxOffset: 12n, suggestWhichBrokerId: 1 };
  assertRoundTrip(resp, encodePullResponseHeader, decodePullResponseHeader);
  assert.deepEqual(decodePullResponseHeader(overWire({}, SerializeType.json)), {
    nextBeginOffset: undefined,
    minOffset: undefined,
    maxOffset: undefined,
    suggestWhichBrokerId: undefined,
  });
});
