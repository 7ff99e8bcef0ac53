/**
 * The half record read as bytes (half-record.ts): the committed message made from the bytes is the one
 * committedMessageOf makes from the decoded record; other records and damaged bytes are told apart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { committedMessageOf, realTargetOf } from '../../../src/broker/transaction/half-message.js';
import { committedOfRecord, type HalfRecord, halfRecordAt } from '../../../src/broker/transaction/half-record.js';
import { encodeProperties } from '../../../src/common/properties.js';
import { bodyCrc, decodeRecord, encodeRecord, RecordPos } from '../../../src/common/record.js';

function halfBytes(props: Record<string, string>, topic = 'RMQ_SYS_TRANS_HALF_TOPIC'): Buffer {
  const rec = encodeRecord(
    {
      topic,
      queueId: 0,
      flag: 3,
      body: Buffer.from('body of the half'),
      properties: encodeProperties(
        new Map(Object.entries({ PGROUP: 'pg', REAL_TOPIC: 'Orders', TRAN_MSG: 'true', REAL_QID: '2', ...props })),
      ),
      sysFlag: 0x4 | 0x1,
      bornTimestamp: 5n,
      bornHost: '10.0.0.1:1234',
      reconsumeTimes: 1,
      preparedTransactionOffset: 0n,
    },
    42n,
    8192n,
    6n,
    '10.0.0.2:10911',
  );
  // Behind another record's bytes, as in a read of several halves.
  return Buffer.concat([Buffer.alloc(100, 7), rec]);
}

function comparable(m: ReturnType<typeof committedMessageOf>) {
  const { bodyCrc: _, ...rest } = m;
  return { ...rest, body: Buffer.from(m.body).toString(), properties: String(m.properties) };
}

test('the committed message from the bytes is the one made from the decoded record', () => {
  const cases: Record<string, string>[] = [
    { TAGS: 't', KEYS: 'a  b', UNIQ_KEY: 'U' },
    { DELAY: '2', UNIQ_KEY: 'V' },
    { TRAN_PREPARED_QUEUE_OFFSET: '7', TRANSACTION_CHECK_TIMES: '2', UNIQ_KEY: 'W', TAGS: 'x' },
    {},
  ];
  for (const props of cases) {
    const bytes = halfBytes(props);
    const r = halfRecordAt(bytes, 100, 8192n) as HalfRecord;
    assert.equal(typeof r, 'object', JSON.stringify(props));
    const decoded = decodeRecord(bytes, 100).msg;
    assert.equal(r.queueOffset, 42n);
    assert.equal(r.commitLogOffset, 8192n);
    assert.equal(r.producerGroup, 'pg');
    assert.equal(r.origin, props['TRAN_PREPARED_QUEUE_OFFSET'] === undefined ? 42n : 7n);
    const fromBytes = committedOfRecord(r);
    const fromDecoded = committedMessageOf(decoded, realTargetOf(decoded) as { topic: string; queueId: number });
    assert.deepEqual(comparable(fromBytes), comparable(fromDecoded), JSON.stringify(props));
    assert.equal(fromBytes.bodyCrc, bodyCrc(fromBytes.body), "the half's checked BODYCRC is the commit's");
  }
});

test('another topic or no REAL_TOPIC / a bad REAL_QID: not a half message; damaged bytes: undefined', () => {
  assert.match(String(halfRecordAt(halfBytes({}, 'Orders'), 100, 1n)), /not a half message/);
  assert.match(String(halfRecordAt(halfBytes({ REAL_TOPIC: '' }), 100, 1n)), /not a half message/);
  assert.match(String(halfRecordAt(halfBytes({ REAL_QID: '-1' }), 100, 1n)), /not a half message/);
  const bad = halfBytes({});
  bad.writeUInt8(bad.readUInt8(100 + RecordPos.body) ^ 0xff, 100 + RecordPos.body);
  assert.equal(halfRecordAt(bad, 100, 1n), undefined, 'a body CRC mismatch is left to the checked read');
  assert.equal(halfRecordAt(halfBytes({}), 50, 1n), undefined, 'no record starts here');
});
