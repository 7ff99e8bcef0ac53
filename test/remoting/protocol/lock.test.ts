import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeLockBatchBody,
  decodeLockBatchResponse,
  encodeLockBatchBody,
  encodeLockBatchResponse,
  lockBatchQueuesMax,
} from '../../../src/remoting/protocol/lock.js';

const mqSet = [
  { topic: 'T', brokerName: 'broker-a', queueId: 0 },
  { topic: '%RETRY%G', brokerName: 'broker-a', queueId: 3 },
];

test('LockBatchRequestBody and LockBatchResponseBody round-trip', () => {
  const body = { consumerGroup: 'G', clientId: '127.0.0.1@1', mqSet };
  assert.deepEqual(decodeLockBatchBody(encodeLockBatchBody(body)), { ok: true, body });
  assert.deepEqual(decodeLockBatchResponse(encodeLockBatchResponse(mqSet)), mqSet);
  assert.deepEqual(decodeLockBatchResponse(undefined), []);
});

test('a body as the Java client writes it (fastjson field order, onlyThisBroker) is read', () => {
  const java =
    '{"clientId":"10.0.0.1@4242","consumerGroup":"G","mqSet":[{"brokerName":"broker-a","queueId":2,"topic":"T"}],"onlyThisBroker":false}';
  assert.deepEqual(decodeLockBatchBody(Buffer.from(java)), {
    ok: true,
    body: {
      consumerGroup: 'G',
      clientId: '10.0.0.1@4242',
      mqSet: [{ topic: 'T', brokerName: 'broker-a', queueId: 2 }],
    },
  });
  assert.deepEqual(decodeLockBatchResponse(Buffer.from('{"lockOKMQSet":[]}')), []);
});

test('malformed bodies are refused with the problem named', () => {
  const cases: Array<[string | undefined, RegExp]> = [
    [undefined, /no body/],
    ['{', /not JSON/],
    ['[1]', /not an object/],
    ['{"clientId":"c","mqSet":[]}', /no consumerGroup/],
    ['{"consumerGroup":"G","mqSet":[]}', /no clientId/],
    ['{"consumerGroup":"G","clientId":"c","mqSet":{}}', /mqSet is not an array/],
    ['{"consumerGroup":"G","clientId":"c","mqSet":[{"topic":"T","brokerName":"b","queueId":"x"}]}', /not a queue/],
    ['{"consumerGroup":"G","clientId":"c","mqSet":[null]}', /not a queue/],
  ];
  for (const [text, problem] of cases) {
    const r = decodeLockBatchBody(text === undefined ? undefined : Buffer.from(text));
    assert.equal(r.ok, false, String(text));
    if (!r.ok) assert.match(r.problem, problem);
  }
  const many = JSON.stringify({
    consumerGroup: 'G',
    clientId: 'c',
    mqSet: Array.from({ length: lockBatchQueuesMax + 1 }, () => ({ topic: 'T', brokerName: 'b', queueId: 0 })),
  });
  const r = decodeLockBatchBody(Buffer.from(many));
  assert.ok(!r.ok && /over/.test(r.problem));
  assert.match(String(decodeLockBatchResponse(Buffer.from('{"lockOKMQSet":7}'))), /not an array/);
});
