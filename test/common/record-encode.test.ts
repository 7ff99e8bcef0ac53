import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeRecord,
  encodeRecord,
  encodeRecordAfter,
  encodeRecordInto,
  RecordPos,
  recordSize,
} from '../../src/common/record.js';
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

test('a batch record encoded after its neighbour equals one encoded from scratch', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          flag: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          body: fc.uint8Array({ maxLength: 300 }),
          properties: fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 })),
        }),
        { minLength: 2, maxLength: 6 },
      ),
      fc.nat(2 ** 40),
      fc.nat(2 ** 45),
      (items, firstQueueOffset, firstPhy) => {
        const msgs: MessageInput[] = items.map((it) => ({
          ...base,
          flag: it.flag,
          body: Buffer.from(it.body),
          properties: typeof it.properties === 'string' ? it.properties : Buffer.from(it.properties),
        }));
        const sizes = msgs.map((m) => {
          const pb = typeof m.properties === 'string' ? Buffer.byteLength(m.properties) : m.properties.length;
          return { pb, size: recordSize(m.body.length, 1, pb) };
        });
        const total = sizes.reduce((a, s) => a + s.size, 0);
        const scratch = Buffer.alloc(total);
        const chained = Buffer.alloc(total);
        let p = 0;
        for (let i = 0; i < msgs.length; i++) {
          const m = msgs[i] as MessageInput;
          const { pb } = sizes[i] as { pb: number };
          encodeRecordInto(
            scratch,
            p,
            m,
            firstQueueOffset + i,
            firstPhy + p,
            1_700_000_000_999,
            '1.2.3.4:10911',
            1,
            pb,
          );
          if (i === 0) {
            encodeRecordInto(chained, p, m, firstQueueOffset, firstPhy, 1_700_000_000_999, '1.2.3.4:10911', 1, pb);
          } else {
            const prevPos = p - (sizes[i - 1] as { size: number }).size;
            encodeRecordAfter(chained, p, prevPos, m, firstQueueOffset + i, firstPhy + p, 1, pb);
          }
          p += (sizes[i] as { size: number }).size;
        }
        assert.deepEqual(chained, scratch);
      },
    ),
  );
});

test('records encoded into views at an offset, alternating between buffers, equal encodeRecord', () => {
  // The encoder keeps a DataView of the last buffer: a view at a byteOffset, or a switch of buffers, must not
  // write through a stale or misplaced view.
  const msgs = [
    base,
    { ...base, topic: 'a-topic-name-longer-than-thirty-two-bytes', body: Buffer.alloc(300, 7), flag: 5 },
    { ...base, properties: Buffer.from('KEYS\u0001k\u0002UNIQ_KEY\u0001Y\u0002'), queueId: 7 },
  ];
  const arenas = [Buffer.alloc(4096).subarray(13), Buffer.alloc(4096).subarray(1001)];
  for (let round = 0; round < 4; round++) {
    for (const [i, msg] of msgs.entries()) {
      const want = encodeRecord(msg, BigInt(round), 1000n + BigInt(i), 5n, '127.0.0.1:10911');
      const arena = arenas[(round + i) % 2] as Buffer;
      const at = 17 * i;
      const size = encodeRecordInto(arena, at, msg, round, 1000 + i, 5, '127.0.0.1:10911');
      assert.deepEqual(arena.subarray(at, at + size), want, `round ${round} message ${i}`);
      assert.equal(decodeRecord(want).msg.topic, msg.topic);
    }
  }
});
