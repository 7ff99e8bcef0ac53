import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { decodeRegisterBrokerBody } from '../../src/namesrv/register-body.js';
import { encodeRegisterBrokerBody } from './helpers.js';

test('plain JSON body round-trips', () => {
  const body = {
    topicConfigSerializeWrapper: {
      topicConfigTable: {
        T1: { topicName: 'T1', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0, order: false },
      },
      dataVersion: { stateVersion: 0, timestamp: 1700000000000, counter: 3 },
    },
    filterServerList: [],
  };
  assert.deepEqual(decodeRegisterBrokerBody(encodeRegisterBrokerBody(body), false), body);
});

test('Java-style body: unquoted keys, extra fields, missing optional fields', () => {
  const text =
    '{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":7,"stateVersion":0,"timestamp":1},' +
    '"topicConfigTable":{"T1":{"order":false,"perm":6,"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicName":"T1",' +
    '"topicSysFlag":0,"writeQueueNums":8,"attributes":{}},"T2":{"topicName":"T2"}},"topicQueueMappingInfoMap":{}},x:1}';
  const decoded = decodeRegisterBrokerBody(Buffer.from(text), false);
  assert.deepEqual(decoded.topicConfigSerializeWrapper.dataVersion, { stateVersion: 0, timestamp: 1, counter: 7 });
  assert.deepEqual(decoded.topicConfigSerializeWrapper.topicConfigTable['T2'], {
    topicName: 'T2',
    readQueueNums: 16,
    writeQueueNums: 16,
    perm: 6,
    topicSysFlag: 0,
    order: false,
  });
  assert.equal(decoded.topicConfigSerializeWrapper.topicConfigTable['T1']?.readQueueNums, 8);
});

test('absent body = no topics, zero data version', () => {
  const d = decodeRegisterBrokerBody(undefined, false);
  assert.deepEqual(d.topicConfigSerializeWrapper, {
    topicConfigTable: {},
    dataVersion: { stateVersion: 0, timestamp: 0, counter: 0 },
  });
});

function chunk(text: string): Buffer {
  const b = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(4);
  len.writeInt32BE(b.length);
  return Buffer.concat([len, b]);
}

test('compressed body (RocketMQ RegisterBrokerBody.encode(true) layout)', () => {
  const count = Buffer.alloc(4);
  count.writeInt32BE(2);
  const zero = Buffer.alloc(4);
  const raw = Buffer.concat([
    chunk('{"counter":2,"stateVersion":0,"timestamp":5}'),
    count,
    chunk('T1 8 8 6 SINGLE_TAG {}'),
    chunk('T2 2 1 4 SINGLE_TAG'),
    chunk('["10.0.0.1:40000"]'),
    zero,
  ]);
  const d = decodeRegisterBrokerBody(deflateSync(raw), true);
  assert.deepEqual(d.topicConfigSerializeWrapper.dataVersion, { stateVersion: 0, timestamp: 5, counter: 2 });
  assert.deepEqual(d.topicConfigSerializeWrapper.topicConfigTable['T2'], {
    topicName: 'T2',
    readQueueNums: 2,
    writeQueueNums: 1,
    perm: 4,
    topicSysFlag: 0,
    order: false,
  });
  assert.deepEqual(d.filterServerList, ['10.0.0.1:40000']);
});

test('garbage bodies are refused with InvalidArgumentError', () => {
  assert.throws(() => decodeRegisterBrokerBody(Buffer.from('not json'), false), InvalidArgumentError);
  assert.throws(() => decodeRegisterBrokerBody(Buffer.from('[1]'), false), InvalidArgumentError);
  assert.throws(() => decodeRegisterBrokerBody(Buffer.from('garbage'), true), InvalidArgumentError);
  const truncated = deflateSync(Buffer.concat([chunk('{}'), Buffer.from([0, 0, 0, 5])]));
  assert.throws(() => decodeRegisterBrokerBody(truncated, true), /truncated|runs past/);
  const huge = Buffer.alloc(4);
  huge.writeInt32BE(0x7fffffff);
  assert.throws(() => decodeRegisterBrokerBody(deflateSync(huge), true), /runs past the end/);
});
