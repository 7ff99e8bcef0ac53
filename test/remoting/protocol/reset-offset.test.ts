/** INVOKE_BROKER_TO_RESET_OFFSET (222) / RESET_CONSUMER_CLIENT_OFFSET (220): header and ResetOffsetBody. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as reset from '../../../src/remoting/protocol/reset-offset.js';
import { assertNamesMissing, assertRoundTrip } from './helpers.js';

test('header: round trip over both serialize types; topic, group and timestamp are required', () => {
  const h = { topic: 'T', group: 'G', timestamp: 1_700_000_000_123, isForce: true, queueId: 2, offset: 7n };
  assertRoundTrip(h, reset.encodeResetOffsetHeader, reset.decodeResetOffsetHeader);
  const minimal = { topic: 'T', group: 'G', timestamp: -1, isForce: false };
  assertRoundTrip(minimal, reset.encodeResetOffsetHeader, reset.decodeResetOffsetHeader, {
    ...minimal,
    queueId: undefined,
    offset: undefined,
  });
  for (const f of ['topic', 'group', 'timestamp']) {
    assertNamesMissing(reset.encodeResetOffsetHeader(h), f, reset.decodeResetOffsetHeader);
  }
});

test("body: written and read in fastjson's form; entries that are not a queue and an offset are skipped", () => {
  const entries = [
    { topic: 'T', brokerName: 'b', queueId: 0, offset: 5n },
    { topic: 'T', brokerName: 'b', queueId: 1, offset: 0n },
  ];
  const ours = reset.encodeResetOffsetBody(entries);
  // fastjson's form, MessageQueue keys as objects (what the Java client decodes).
  assert.equal(
    ours.toString(),
    '{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:5,{"brokerName":"b","queueId":1,"topic":"T"}:0}}',
  );
  assert.deepEqual(reset.decodeResetOffsetBody(ours), entries);
  assert.equal(reset.encodeResetOffsetBody([]).toString(), '{"offsetTable":{}}');

  const java = Buffer.from(
    '{"offsetTable":{{"brokerName":"b","queueId":3,"topic":"T"}:42,{"brokerName":"b","queueId":4,"topic":"T"}:-1,' +
      '"not a queue":1,{"brokerName":"b","topic":"T"}:1}}',
  );
  assert.deepEqual(reset.decodeResetOffsetBody(java), [{ topic: 'T', brokerName: 'b', queueId: 3, offset: 42n }]);
  assert.deepEqual(reset.decodeResetOffsetBody(undefined), []);
  assert.deepEqual(reset.decodeResetOffsetBody(Buffer.from('{}')), []);
  assert.throws(() => reset.decodeResetOffsetBody(Buffer.from('{"offsetTable":')));
});
