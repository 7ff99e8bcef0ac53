import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRecord, encodeRecord, encodeRecordInto, RecordPos } from '../../src/common/record.js';
import type { MessageInput } from '../../src/store/types.js';

const base: MessageInput = {
  topic: 'T',
  queueId: 3,
  flag: 0,
  body: Buffer.from('body'),
  properties: 'UNIQ_KEY\u0001X\u0002',
  sysFlag: 0,
  bornTimestamp: 1_700_000_000_123n,
  bornHost: '10.1.2.3:4567',
  reconsumeTimes: 0,
  preparedTransactionOffset: 0n,
  tagsCode: 0n,
};

test('64-bit fields encode the same from numbers and bigints, including negative and beyond 2^53', () => {
  const longs = [0n, 1n, -1n, 2n ** 32n + 5n, 2n ** 53n - 1n, 2n ** 53n + 1n, -(2n ** 40n), 2n ** 63n - 1n];
  for (const v of longs) {
    const msg = { ...base, bornTimestamp: v, preparedTransactionOffset: v };
    const viaBig = encodeRecord(msg, v, v, v, '127.0.0.1:10911');
    const n = Number(v);
    if (Number.isSafeInteger(n)) {
      const viaNum = Buffer.alloc(viaBig.length);
      encodeRecordInto(viaNum, 0, msg, n, n, n, '127.0.0.1:10911');
      assert.deepEqual(viaNum, viaBig, String(v));
    }
    for (const at of [RecordPos.queueOffset, RecordPos.physicalOffset, RecordPos.bornTimestamp]) {
      assert.equal(viaBig.readBigInt64BE(at), v, `${v} at ${at}`);
    }
  }
});

test('hosts are encoded the same on every call (cached) and decode back', () => {
  for (let i = 0; i < 3; i++) {
    const rec = encodeRecord(base, 7n, 100n, 5n, '192.168.0.9:10911');
    const { msg } = decodeRecord(rec);
    assert.equal(msg.bornHost, '10.1.2.3:4567');
    assert.equal(msg.storeHost, '192.168.0.9:10911');
  }
});
