/**
 * Trace records against RocketMQ's TraceDataEncoder: samples spelled by hand from the Java encoder's rules
 * (fields \x01, record end \x02, an absent tag or key written `null`, booleans `true`/`false`, MessageType and
 * ConsumeReturnType as ordinals) decode to the right fields, and our encoder writes exactly those bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConsumeContextCode,
  decodeTraceData,
  encodeTraceRecord,
  type PubRecord,
  type SubAfterRecord,
  type SubBeforeRecord,
  TraceMsgType,
  type TraceRecord,
  traceKeysOf,
} from '../../../src/client/trace/trace-data.js';

const F = '\u0001';
const R = '\u0002';
const line = (...fields: Array<string | number | boolean>) => fields.join(F) + R;

const msgId = '7F00000100012A9F1B7E0C1D2E3F0001';
const offsetMsgId = '7F00000100002A9F0000000000000A1C';

// What the Java client's SendMessageTraceHookImpl + encoder write for a sent message (14 fields).
const javaPub = line(
  'Pub',
  1733480000123,
  'DefaultRegion',
  'PG_A',
  'TopicA',
  msgId,
  'TagA',
  'k1 k2',
  '127.0.0.1:10911',
  11,
  3,
  0,
  offsetMsgId,
  true,
);
// ConsumeMessageTraceHookImpl for a message without keys: getKeys() is null, written as `null`.
const javaSubBefore = line('SubBefore', 1733480000200, 'DefaultRegion', 'CG_A', 'REQ1', msgId, 2, 'null');
const javaSubAfter = line('SubAfter', 'REQ1', msgId, 7, false, 'null', 4, 1733480000207, 'CG_A');
const javaEnd = line(
  'EndTransaction',
  1733480000150,
  'DefaultRegion',
  'PG_TX',
  'TopicTx',
  msgId,
  'null',
  'null',
  '127.0.0.1:10911',
  2,
  'TX1',
  'COMMIT_MESSAGE',
  false,
);

test('a Java trace body of four records decodes field by field', () => {
  const { records, skipped } = decodeTraceData(javaPub + javaSubBefore + javaSubAfter + javaEnd);
  assert.deepEqual(skipped, []);
  assert.equal(records.length, 4);
  assert.deepEqual(records[0], {
    type: 'Pub',
    timestampMs: 1733480000123,
    regionId: 'DefaultRegion',
    groupName: 'PG_A',
    topic: 'TopicA',
    msgId,
    tags: 'TagA',
    keys: 'k1 k2',
    storeHost: '127.0.0.1:10911',
    bodyLength: 11,
    costMs: 3,
    msgType: TraceMsgType.normal,
    offsetMsgId,
    success: true,
    clientHost: undefined,
  });
  assert.deepEqual(records[1], {
    type: 'SubBefore',
    timestampMs: 1733480000200,
    regionId: 'DefaultRegion',
    groupName: 'CG_A',
    requestId: 'REQ1',
    msgId,
    retryTimes: 2,
    keys: undefined,
    clientHost: undefined,
  });
  assert.deepEqual(records[2], {
    type: 'SubAfter',
    requestId: 'REQ1',
    msgId,
    costMs: 7,
    success: false,
    keys: undefined,
    contextCode: ConsumeContextCode.FAILED,
    timestampMs: 1733480000207,
    groupName: 'CG_A',
  });
  const end = records[3];
  assert.equal(end?.type, 'EndTransaction');
  if (end?.type === 'EndTransaction') {
    assert.equal(end.transactionId, 'TX1');
    assert.equal(end.transactionState, 'COMMIT_MESSAGE');
    assert.equal(end.msgType, TraceMsgType.transCommit);
    assert.equal(end.fromTransactionCheck, false);
    assert.equal(end.tags, undefined);
  }
});

test('our encoder writes the Java bytes exactly (and the round trip is the identity)', () => {
  const decoded = decodeTraceData(javaPub + javaSubBefore + javaSubAfter + javaEnd).records;
  assert.equal(decoded.map(encodeTraceRecord).join(''), javaPub + javaSubBefore + javaSubAfter + javaEnd);
  const ours: TraceRecord[] = [
    {
      type: 'Pub',
      timestampMs: 5,
      regionId: 'R',
      groupName: 'G',
      topic: 'T',
      msgId,
      tags: undefined,
      keys: undefined,
      storeHost: 'h:1',
      bodyLength: 0,
      costMs: 0,
      msgType: TraceMsgType.delay,
      offsetMsgId: '',
      success: false,
      clientHost: '10.0.0.9',
    },
    {
      type: 'SubBefore',
      timestampMs: 6,
      regionId: 'R',
      groupName: 'C',
      requestId: 'Q',
      msgId,
      retryTimes: 0,
      keys: 'a',
      clientHost: '10.0.0.9',
    },
  ];
  const text = ours.map(encodeTraceRecord).join('');
  // Pub gains clientHost as a 15th field, SubBefore as a 9th: Java's decoder reads both (it ignores extras).
  assert.equal(text.split(R)[0]?.split(F).length, 15);
  assert.equal(text.split(R)[1]?.split(F).length, 9);
  assert.deepEqual(decodeTraceData(text).records, ours);
});

test('a SubBefore without keys never ends with an empty field (Java would fail to decode it)', () => {
  const r: SubBeforeRecord = {
    type: 'SubBefore',
    timestampMs: 1,
    regionId: 'R',
    groupName: 'C',
    requestId: 'Q',
    msgId,
    retryTimes: 0,
    keys: '',
  };
  assert.equal(encodeTraceRecord(r), line('SubBefore', 1, 'R', 'C', 'Q', msgId, 0, 'null'));
});

test('older shapes decode: a 13-field Pub (no offsetMsgId), a 5- and 7-field SubAfter', () => {
  const old = decodeTraceData(
    line('Pub', 1, 'R', 'G', 'T', msgId, 't', 'k', 'h', 1, 2, 1, true) +
      line('SubAfter', 'Q', msgId, 4, true, 'k') +
      line('SubAfter', 'Q2', msgId, 4, 'TRUE', 'k', 2),
  ).records;
  const pub = old[0] as PubRecord;
  assert.equal(pub.offsetMsgId, '');
  assert.equal(pub.success, true);
  assert.equal(pub.msgType, TraceMsgType.transHalf);
  const a5 = old[1] as SubAfterRecord;
  assert.equal(a5.contextCode, undefined);
  assert.equal(a5.timestampMs, undefined);
  const a7 = old[2] as SubAfterRecord;
  assert.equal(a7.success, true, 'Boolean.parseBoolean ignores case');
  assert.equal(a7.contextCode, ConsumeContextCode.EXCEPTION);
});

test('malformed pieces are skipped and returned, never thrown; good records around them survive', () => {
  const bad = [
    'Nope\u0001x',
    line('Pub', 'notanumber', 'R', 'G', 'T', msgId, 't', 'k', 'h', 1, 2, 0, 'o', true).slice(0, -1),
    line('Pub', 1, 'R', 'G').slice(0, -1),
    line('SubBefore', 1, 'R', 'G', 'Q', msgId, 'x', 'k').slice(0, -1),
    line('SubAfter', 'Q', msgId, 'slow', true, 'k').slice(0, -1),
    line('EndTransaction', 1, 'R').slice(0, -1),
  ];
  const { records, skipped } = decodeTraceData(bad.join(R) + R + javaSubBefore + `${R}${R}`);
  assert.deepEqual(skipped, bad);
  assert.equal(records.length, 1);
  assert.equal(records[0]?.type, 'SubBefore');
  assert.deepEqual(decodeTraceData(''), { records: [], skipped: [] });
});

test('trace keys: each record is found by its msgId, and by its keys when it has some', () => {
  const [pub, before] = decodeTraceData(javaPub + javaSubBefore).records;
  assert.deepEqual(traceKeysOf(pub as TraceRecord), [msgId, 'k1 k2']);
  assert.deepEqual(traceKeysOf(before as TraceRecord), [msgId]);
});
