/**
 * Until transactions are built, a half message (TRANSACTION_PREPARED sysFlag or TRAN_MSG=true) is refused with
 * NO_PERMISSION instead of being acknowledged and then never delivered; nothing is stored for it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encodeProperties } from '../../src/common/properties.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { call, createTopic, encodeBatchBody, type Harness, sendV2, startHarness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness({ autoCreateTopicEnable: false });
  await createTopic(h, 'TX', 1);
});
after(() => h.close());

function sendWithSysFlag(sysFlag: number, props: Record<string, string>) {
  return call(
    h,
    RequestCode.SEND_MESSAGE_V2,
    { a: 'pg', b: 'TX', c: 'TBW102', d: 4, e: 0, f: sysFlag, g: Date.now(), h: 0, i: encodeProperties(props), j: 0 },
    Buffer.from('half'),
  );
}

test('a send with the TRANSACTION_PREPARED sysFlag gets NO_PERMISSION saying transactions are not built', async () => {
  const r = await sendWithSysFlag(0x4, { TRAN_MSG: 'true', PGROUP: 'pg' });
  assert.equal(r.code, ResponseCode.NO_PERMISSION, r.remark);
  assert.match(r.remark ?? '', /sending transaction message is forbidden/);
  assert.match(r.remark ?? '', /not built yet/);
  assert.equal(h.store.getMaxOffsetInQueue('TX', 0), 0n);
});

test('the TRAN_MSG property alone is refused too; commit/rollback flags and plain sends are stored', async () => {
  const byProp = await sendV2(h, 'TX', 'half', { TRAN_MSG: 'true' });
  assert.equal(byProp.code, ResponseCode.NO_PERMISSION, byProp.remark);
  assert.equal(h.store.getMaxOffsetInQueue('TX', 0), 0n);

  const notPrepared = await sendV2(h, 'TX', 'plain', { TRAN_MSG: 'false' });
  assert.equal(notPrepared.code, ResponseCode.SUCCESS, notPrepared.remark);
  const committed = await sendWithSysFlag(0x8, {});
  assert.equal(committed.code, ResponseCode.SUCCESS, committed.remark);
  assert.equal(h.store.getMaxOffsetInQueue('TX', 0), 2n);
});

test('a batch holding a half message is refused as a whole', async () => {
  const body = encodeBatchBody([
    { body: Buffer.from('a'), flag: 0, properties: encodeProperties({}) },
    { body: Buffer.from('b'), flag: 0, properties: encodeProperties({ TRAN_MSG: 'true' }) },
  ]);
  const before = h.store.getMaxOffsetInQueue('TX', 0);
  const r = await call(
    h,
    RequestCode.SEND_BATCH_MESSAGE,
    { a: 'pg', b: 'TX', c: 'TBW102', d: 4, e: 0, f: 0, g: Date.now(), h: 0, i: '', j: 0, m: true },
    body,
  );
  assert.equal(r.code, ResponseCode.NO_PERMISSION, r.remark);
  assert.equal(h.store.getMaxOffsetInQueue('TX', 0), before);
});
