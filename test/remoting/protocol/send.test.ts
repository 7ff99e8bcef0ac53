import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerializeType } from '../../../src/remoting/command.js';
import {
  decodeSendHeader,
  decodeSendHeaderV2,
  decodeSendResponseHeader,
  encodeSendHeader,
  encodeSendHeaderV2,
  encodeSendResponseHeader,
  isSendHeaderV2,
  memberQueuesText,
  parseMemberQueues,
  type SendMessageRequestHeader,
  sendHeaderV2Names,
} from '../../../src/remoting/protocol/send.js';
import { assertNamesMissing, assertRoundTrip, overWire } from './helpers.js';

const header: SendMessageRequestHeader = {
  producerGroup: 'PG',
  topic: 'T',
  defaultTopic: 'TBW102',
  defaultTopicQueueNums: 4,
  queueId: 3,
  sysFlag: 1,
  bornTimestamp: 1700000000123n,
  flag: 7,
  properties: 'TAGS\u0001a\u0002',
  reconsumeTimes: 2,
  unitMode: false,
  maxReconsumeTimes: 16,
  batch: true,
};

test('SEND_MESSAGE_V2 golden extFields: one-letter names a…n in order, values as RocketMQ writes them', () => {
  const ext = encodeSendHeaderV2({
    producerGroup: 'PG',
    topic: 'T',
    queueId: 3,
    sysFlag: 0,
    bornTimestamp: 1700000000123,
    flag: 0,
    properties: 'WAIT\u0001true\u0002',
    reconsumeTimes: 0,
    batch: false,
    brokerName: 'b1',
  });
  assert.deepEqual(Object.entries(ext), [
    ['a', 'PG'],
    ['b', 'T'],
    ['c', 'TBW102'],
    ['d', '4'],
    ['e', '3'],
    ['f', '0'],
    ['g', '1700000000123'],
    ['h', '0'],
    ['i', 'WAIT\u0001true\u0002'],
    ['j', '0'],
    ['k', 'false'],
    ['m', 'false'],
    ['n', 'b1'],
  ]);
  // The letter table and the encoder agree (V1 names → letters, in order).
  const v1 = encodeSendHeader({ ...header, brokerName: 'b1' });
  const v2 = encodeSendHeaderV2({ ...header, brokerName: 'b1' });
  assert.deepEqual(
    Object.keys(v1).map((k) => sendHeaderV2Names[k as keyof typeof sendHeaderV2Names]),
    Object.keys(v2),
  );
  assert.deepEqual(Object.values(v1), Object.values(v2));
});

test('send request header round-trips in both spellings and both serialize types', () => {
  assertRoundTrip(header, encodeSendHeader, decodeSendHeader);
  assertRoundTrip(header, encodeSendHeaderV2, decodeSendHeaderV2);
  const noMax = { ...header, maxReconsumeTimes: undefined, batch: false };
  assertRoundTrip(noMax, encodeSendHeaderV2, decodeSendHeaderV2);
  assert.equal(isSendHeaderV2(overWire(encodeSendHeaderV2(header), SerializeType.rocketmq)), true);
  assert.equal(isSendHeaderV2(overWire(encodeSendHeader(header), SerializeType.json)), false);
});

test('send request header: a missing required field is named (by its letter in V2)', () => {
  const v1 = encodeSendHeader(header);
  for (const f of ['producerGroup', 'topic', 'queueId']) assertNamesMissing(v1, f, decodeSendHeader);
  const v2 = encodeSendHeaderV2(header);
  for (const f of ['a', 'b', 'e']) assertNamesMissing(v2, f, decodeSendHeaderV2);
});

test('send request header: defaults for the optional fields; "null" properties read as empty', () => {
  const h = decodeSendHeaderV2(overWire({ a: 'PG', b: 'T', e: '-1', i: 'null' }, SerializeType.json));
  assert.equal(h.defaultTopic, 'TBW102');
  assert.equal(h.defaultTopicQueueNums, 4);
  assert.equal(h.queueId, -1);
  assert.equal(h.sysFlag, 0);
  assert.equal(h.properties, '');
  assert.equal(h.reconsumeTimes, 0);
  assert.equal(h.maxReconsumeTimes, undefined);
  assert.equal(h.batch, false);
  assert.equal(typeof h.bornTimestamp, 'bigint');
});

test('send response header round-trips; fields a failed send leaves out read as undefined', () => {
  const resp = { msgId: 'AB,CD', queueId: 2, queueOffset: 9007199254740993n, msgRegion: 'R', traceOn: true };
  assertRoundTrip(resp, encodeSendResponseHeader, decodeSendResponseHeader, {
    ...resp,
    transactionId: undefined,
    memberQueues: undefined,
  });
  const split = { ...resp, memberQueues: memberQueuesText([1, 17], [5n, 9007199254740993n]) };
  assertRoundTrip(split, encodeSendResponseHeader, decodeSendResponseHeader, { ...split, transactionId: undefined });
  assert.deepEqual(Object.keys(encodeSendResponseHeader(resp)), [
    'msgId',
    'queueId',
    'queueOffset',
    'MSG_REGION',
    'TRACE_ON',
  ]);
  assert.deepEqual(decodeSendResponseHeader(overWire({}, SerializeType.json)), {
    msgId: undefined,
    queueId: undefined,
    queueOffset: undefined,
    transactionId: undefined,
    msgRegion: undefined,
    traceOn: undefined,
    memberQueues: undefined,
  });
});

test('memberQueues: each member queueId:queueOffset in batch order; anything malformed reads as absent', () => {
  assert.equal(memberQueuesText([1, 17, 0], [5n, 9007199254740993n, 0n]), '1:5,17:9007199254740993,0:0');
  assert.deepEqual(parseMemberQueues('1:5,17:9007199254740993,0:0'), {
    queueIds: [1, 17, 0],
    queueOffsets: [5n, 9007199254740993n, 0n],
  });
  for (const bad of ['', '1', '1:', ':5', '1:5,', 'a:1', '1:2:3', '1:5;2:6', '-1:5']) {
    assert.equal(parseMemberQueues(bad), undefined, JSON.stringify(bad));
  }
  assert.equal(parseMemberQueues(undefined), undefined);
});
