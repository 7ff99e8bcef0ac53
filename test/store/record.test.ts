import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import {
  blankMagic,
  bodyCrc,
  checkRecord,
  createOffsetMsgId,
  decodeOffsetMsgId,
  decodeRecord,
  decodeRecords,
  encodeRecord,
  messageMagicV1,
} from '../../src/common/record.js';
import type { MessageInput } from '../../src/store/types.js';

const input: MessageInput = {
  topic: 'TopicA',
  queueId: 3,
  flag: 7,
  body: Buffer.from('hello'),
  properties: 'TAGS\u0001t\u0002',
  sysFlag: 0,
  bornTimestamp: 1_700_000_000_123n,
  bornHost: '10.1.2.3:54321',
  reconsumeTimes: 2,
  preparedTransactionOffset: 99n,
  tagsCode: 116n,
};

test('golden layout: every field at its RocketMQ position', () => {
  const rec = encodeRecord(input, 42n, 4096n, 1_700_000_000_456n, '192.168.0.1:10911');
  const props = Buffer.from('TAGS\u0001t\u0002');
  const expected = Buffer.concat([
    int32(rec.length),
    uint32(0xdaa320a7),
    int32(crc32(Buffer.from('hello')) & 0x7fffffff),
    int32(3), // QUEUEID
    int32(7), // FLAG
    int64(42n), // QUEUEOFFSET
    int64(4096n), // PHYSICALOFFSET
    int32(0), // SYSFLAG
    int64(1_700_000_000_123n), // BORNTIMESTAMP
    Buffer.from([10, 1, 2, 3]),
    int32(54321), // BORNHOST
    int64(1_700_000_000_456n), // STORETIMESTAMP
    Buffer.from([192, 168, 0, 1]),
    int32(10911), // STOREHOST
    int32(2), // RECONSUMETIMES
    int64(99n), // PREPARED_TX_OFFSET
    int32(5),
    Buffer.from('hello'),
    Buffer.from([6]),
    Buffer.from('TopicA'),
    int16(props.length),
    props,
  ]);
  assert.deepEqual(rec, expected);
  assert.equal(rec.length, 91 + 5 + 6 + props.length);
  assert.equal(messageMagicV1, 0xdaa320a7);
  assert.equal(blankMagic, 0xcbd43194);
});

test('decode round-trips every field', () => {
  const rec = encodeRecord(input, 42n, 4096n, 1_700_000_000_456n, '192.168.0.1:10911');
  const { msg, size } = decodeRecord(rec);
  assert.equal(size, rec.length);
  assert.equal(msg.topic, 'TopicA');
  assert.equal(msg.queueId, 3);
  assert.equal(msg.flag, 7);
  assert.equal(msg.queueOffset, 42n);
  assert.equal(msg.commitLogOffset, 4096n);
  assert.equal(msg.bornHost, '10.1.2.3:54321');
  assert.equal(msg.storeHost, '192.168.0.1:10911');
  assert.equal(msg.storeTimestamp, 1_700_000_000_456n);
  assert.equal(msg.reconsumeTimes, 2);
  assert.equal(msg.preparedTransactionOffset, 99n);
  assert.equal(msg.bodyCRC, bodyCrc(Buffer.from('hello')));
  assert.deepEqual(msg.body, Buffer.from('hello'));
  assert.equal(msg.properties.get('TAGS'), 't');
  assert.equal(msg.offsetMsgId, createOffsetMsgId('192.168.0.1:10911', 4096n));
  const two = decodeRecords(Buffer.concat([rec, encodeRecord(input, 43n, 4096n + BigInt(size), 1n, '1.2.3.4:5')]));
  assert.deepEqual(
    two.map((m) => m.queueOffset),
    [42n, 43n],
  );
});

test('decode rejects bad magic, bad size and bad CRC', () => {
  const rec = encodeRecord(input, 0n, 0n, 0n, '1.2.3.4:5');
  const badMagic = Buffer.from(rec);
  badMagic.writeUInt32BE(0x12345678, 4);
  assert.throws(() => decodeRecord(badMagic), /magic/);
  const badCrc = Buffer.from(rec);
  badCrc[88] = 0x41; // first body byte
  assert.throws(() => decodeRecord(badCrc), /CRC/);
  const badSize = Buffer.from(rec);
  badSize.writeInt32BE(rec.length + 1, 0);
  assert.throws(() => decodeRecord(badSize), /runs past|disagrees/);
  assert.equal(typeof checkRecord(rec.subarray(0, 50), 0, true), 'string');
});

test('offsetMsgId encodes host and offset as 32 upper hex', () => {
  const id = createOffsetMsgId('127.0.0.1:10911', 0x1234n);
  assert.equal(id, '7F00000100002A9F0000000000001234');
  assert.deepEqual(decodeOffsetMsgId(id), { host: '127.0.0.1:10911', commitLogOffset: 0x1234n });
  assert.throws(() => decodeOffsetMsgId('xyz'));
});

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}
function uint32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}
function int16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
}
function int64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
}
