import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pollTimeOf, ReceiveLimits, receiveParamsOf } from '../../../src/proxy/consume/receive-params.js';
import type { ReceiveMessageRequest } from '../../../src/proxy/consume/requests.js';

function req(over: Partial<ReceiveMessageRequest> = {}): ReceiveMessageRequest {
  return {
    group: { resourceNamespace: '', name: 'G1' },
    messageQueue: { topic: { resourceNamespace: '', name: 'T1' }, id: 0, broker: { name: 'b0' } },
    filterExpression: { type: 'TAG', expression: 'TagA || TagB' },
    batchSize: 16,
    invisibleDuration: { seconds: '15', nanos: 0 },
    autoRenew: false,
    longPollingTimeout: { seconds: '5', nanos: 0 },
    attemptId: '',
    ...over,
  };
}

test('a well-formed request becomes pop parameters', () => {
  const r = receiveParamsOf(req(), 8000);
  assert.ok(r.ok);
  assert.deepEqual(r.value, {
    group: 'G1',
    topic: 'T1',
    brokerName: 'b0',
    filter: { type: 'TAG', expression: 'TagA || TagB' },
    maxMessages: 16,
    invisibleTimeMs: 15_000,
    autoRenew: false,
    pollTimeMs: 5000,
    attemptId: undefined,
  });
});

test('missing or malformed fields get their v2 code, with a message', () => {
  const cases: Array<[Partial<ReceiveMessageRequest>, string]> = [
    [{ group: null }, 'ILLEGAL_CONSUMER_GROUP'],
    [{ group: { name: 'bad group!' } }, 'ILLEGAL_CONSUMER_GROUP'],
    [{ messageQueue: null }, 'ILLEGAL_TOPIC'],
    [{ messageQueue: { topic: { name: 'RMQ_SYS_TRANS_HALF_TOPIC' } } }, 'ILLEGAL_TOPIC'],
    [{ filterExpression: { type: 'SQL', expression: 'a >' } }, 'ILLEGAL_FILTER_EXPRESSION'],
    [{ filterExpression: { type: 'SQL', expression: '' } }, 'ILLEGAL_FILTER_EXPRESSION'],
    [{ batchSize: 0 }, 'BAD_REQUEST'],
    [{ invisibleDuration: null }, 'ILLEGAL_INVISIBLE_TIME'],
    [{ invisibleDuration: { seconds: '0', nanos: 999_000_000 } }, 'ILLEGAL_INVISIBLE_TIME'],
    [{ invisibleDuration: { seconds: String(13 * 3600), nanos: 0 } }, 'ILLEGAL_INVISIBLE_TIME'],
  ];
  for (const [over, code] of cases) {
    const r = receiveParamsOf(req(over), 8000);
    assert.equal(r.ok, false, JSON.stringify(over));
    if (!r.ok) {
      assert.equal(r.status.code, code, JSON.stringify(over));
      assert.ok(r.status.message.length > 0);
    }
  }
});

test('1 s invisible time is accepted; auto_renew needs none; empty TAG expression means every tag', () => {
  const oneSecond = receiveParamsOf(req({ invisibleDuration: { seconds: '1', nanos: 0 } }), 8000);
  assert.ok(oneSecond.ok && oneSecond.value.invisibleTimeMs === 1000);
  const renew = receiveParamsOf(req({ autoRenew: true, invisibleDuration: null }), 8000);
  assert.ok(renew.ok && renew.value.invisibleTimeMs === undefined && renew.value.autoRenew);
  const all = receiveParamsOf(req({ filterExpression: null }), 8000);
  assert.ok(all.ok);
  assert.deepEqual(all.value.filter, { type: 'TAG', expression: '*' });
  const sql = receiveParamsOf(req({ filterExpression: { type: 'SQL', expression: 'a > 3' } }), 8000);
  assert.ok(sql.ok);
  assert.deepEqual(sql.value.filter, { type: 'SQL92', expression: 'a > 3' });
});

test('batch sizes above the pop limit are clamped', () => {
  const r = receiveParamsOf(req({ batchSize: 1000 }), 8000);
  assert.ok(r.ok && r.value.maxMessages === ReceiveLimits.batchSizeMax);
});

test('poll time: from 1 s, at most 20 s, ending before the deadline; too close a deadline is ILLEGAL_POLLING_TIME', () => {
  const ok = (v: ReturnType<typeof pollTimeOf>) => (v.ok ? v.value : v.status.code);
  assert.equal(ok(pollTimeOf(300, 10_000)), ReceiveLimits.pollTimeMsMin);
  assert.equal(ok(pollTimeOf(60_000, Number.POSITIVE_INFINITY)), ReceiveLimits.pollTimeMsMax);
  assert.equal(ok(pollTimeOf(undefined, Number.POSITIVE_INFINITY)), ReceiveLimits.pollTimeMsMax);
  assert.equal(ok(pollTimeOf(10_000, 4000)), 4000 - ReceiveLimits.pollReserveMs);
  assert.equal(ok(pollTimeOf(undefined, 6000)), 6000 - ReceiveLimits.pollReserveMs);
  assert.equal(ok(pollTimeOf(5000, 1200)), 'ILLEGAL_POLLING_TIME');
});
