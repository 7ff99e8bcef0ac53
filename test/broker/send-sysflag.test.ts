/**
 * SEND sysFlag bits the broker does not serve are refused with MESSAGE_ILLEGAL naming them (stored, they would be
 * acknowledged and then skipped or misread by every consumer); the bits it serves are stored as sent. Each bit is
 * tried alone (src/broker/processors/send-sysflag.ts has the table).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { encodeProperties } from '../../src/common/properties.js';
import { decodeRecords } from '../../src/common/record.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { call, createTopic, encodeBatchBody, type Harness, pull, startHarness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness({ autoCreateTopicEnable: false });
  await createTopic(h, 'SF', 1);
});
after(() => h.close());

function sendWithSysFlag(sysFlag: number, body: Buffer, code: number = RequestCode.SEND_MESSAGE_V2) {
  const fields = { a: 'pg', b: 'SF', c: 'TBW102', d: 4, e: 0, f: sysFlag, g: Date.now(), h: 0, j: 0 };
  if (code === RequestCode.SEND_BATCH_MESSAGE) {
    const batch = encodeBatchBody([
      { body, flag: 0, properties: encodeProperties({}) },
      { body, flag: 0, properties: encodeProperties({}) },
    ]);
    return call(h, code, { ...fields, i: '', m: true }, batch);
  }
  return call(h, code, { ...fields, i: encodeProperties({ TAGS: 'T' }) }, body);
}

const refused: Array<[number, RegExp]> = [
  [0xc, /0xC TRANSACTION_ROLLBACK/],
  [0x10, /0x10 BORNHOST_V6/],
  [0x20, /0x20 STOREHOST_V6/],
  [0x40, /0x40 NEED_UNWRAP/],
  [0x80, /0x80 INNER_BATCH/],
  [0x101, /compression type 0x100/],
  [0x201, /compression type 0x200/],
  [0x401, /compression type 0x400/],
  [0x701, /compression type 0x700/],
  [0x800, /0x800 \(undefined bits\)/],
  [0x40000000, /0x40000000 \(undefined bits\)/],
];

for (const [flag, named] of refused) {
  test(`sysFlag 0x${flag.toString(16)} is refused with MESSAGE_ILLEGAL naming it; nothing is stored`, async () => {
    const before = h.store.getMaxOffsetInQueue('SF', 0);
    const r = await sendWithSysFlag(flag, Buffer.from('x'));
    assert.equal(r.code, ResponseCode.MESSAGE_ILLEGAL, r.remark);
    assert.match(r.remark ?? '', named);
    assert.match(r.remark ?? '', /does not support/);
    assert.equal(h.store.getMaxOffsetInQueue('SF', 0), before);
  });
}

test('a batch whose header carries an unsupported bit is refused as a whole', async () => {
  const before = h.store.getMaxOffsetInQueue('SF', 0);
  const r = await sendWithSysFlag(0x10, Buffer.from('x'), RequestCode.SEND_BATCH_MESSAGE);
  assert.equal(r.code, ResponseCode.MESSAGE_ILLEGAL, r.remark);
  assert.match(r.remark ?? '', /BORNHOST_V6/);
  assert.equal(h.store.getMaxOffsetInQueue('SF', 0), before);
});

test('served bits are stored as sent and delivered: none, COMPRESSED, MULTI_TAGS, COMMIT, COMPRESSED|ZLIB', async () => {
  const zipped = deflateSync(Buffer.from('compressed body'));
  const served: Array<[number, Buffer]> = [
    [0, Buffer.from('plain')],
    [0x1, zipped],
    [0x2, Buffer.from('multi tags')],
    [0x8, Buffer.from('commit type')],
    [0x301, zipped],
  ];
  const start = h.store.getMaxOffsetInQueue('SF', 0);
  for (const [flag, body] of served) {
    const r = await sendWithSysFlag(flag, body);
    assert.equal(r.code, ResponseCode.SUCCESS, `0x${flag.toString(16)}: ${r.remark}`);
  }
  const p = await pull(h, 'SF', 0, start, { sysFlag: 4, subscription: '*' });
  assert.equal(p.code, ResponseCode.SUCCESS, p.remark);
  const records = decodeRecords(p.body as Buffer);
  assert.deepEqual(
    records.map((m) => m.sysFlag),
    served.map(([flag]) => flag),
  );
});
