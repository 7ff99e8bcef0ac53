/**
 * Delayed sends over TCP (fast levels of 100 ms): DELAY parks the message in SCHEDULE_TOPIC_XXXX and it reaches
 * its topic later; a bad DELAY is refused; batches; the client's fallback for a failed send-back (a plain send to
 * %RETRY%<group> with DELAY) goes through the same hook, or to the DLQ at once past its budget.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encodeProperties } from '../../src/common/properties.js';
import { decodeRecords } from '../../src/common/record.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { call, createTopic, eventually, type Harness, pull, sendBatch, sendV2, startHarness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness();
  await createTopic(h, 'DT', 1);
});
after(() => h.close());

async function pulled(topic: string, queueId = 0, offset = 0) {
  const r = await pull(h, topic, queueId, offset, { suspendTimeoutMillis: 0, sysFlag: 0 });
  return r.code === ResponseCode.SUCCESS ? decodeRecords(r.body ?? Buffer.alloc(0)) : [];
}

test('DELAY 2: stored in SCHEDULE_TOPIC_XXXX queue 1 first, then in its topic without DELAY, keeping UNIQ_KEY', async () => {
  const r = await sendV2(h, 'DT', 'later', { DELAY: '2', TAGS: 't', UNIQ_KEY: 'UDT1' });
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  const parked = h.store.getMaxOffsetInQueue('SCHEDULE_TOPIC_XXXX', 1);
  assert.equal(parked, 1n, 'parked in the level-2 queue');
  assert.ok(await eventually(async () => (await pulled('DT')).length === 1, 5000));
  const [m] = await pulled('DT');
  assert.equal(m?.body.toString(), 'later');
  assert.equal(m?.properties.get('UNIQ_KEY'), 'UDT1');
  assert.equal(m?.properties.has('DELAY'), false);
  assert.equal(m?.properties.get('REAL_TOPIC'), 'DT');
});

test('a DELAY that is not an integer is answered MESSAGE_ILLEGAL naming it, and nothing is stored', async () => {
  const before = h.store.getMaxOffsetInQueue('DT', 0);
  const r = await sendV2(h, 'DT', 'bad', { DELAY: 'soon' });
  assert.equal(r.code, ResponseCode.MESSAGE_ILLEGAL);
  assert.match(r.remark ?? '', /DELAY "soon"/);
  assert.equal(h.store.getMaxOffsetInQueue('DT', 0), before);
});

function batch(levels: string[]) {
  const items = levels.map((level, i) => ({
    flag: 0,
    body: Buffer.from(`b${i}`),
    properties: encodeProperties({ DELAY: level, UNIQ_KEY: `UB${level}${i}` }),
  }));
  return sendBatch(h, 'DT', items);
}

test('a batch whose messages share one level is delayed as a whole; mixed levels each wait at their own', async () => {
  const start = h.store.getMaxOffsetInQueue('DT', 0);
  const ok = await batch(['1', '1']);
  assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark);
  assert.ok(await eventually(async () => h.store.getMaxOffsetInQueue('DT', 0) === start + 2n, 5000));
  const parked = [0, 1].map((q) => h.store.getMaxOffsetInQueue('SCHEDULE_TOPIC_XXXX', q));
  const mixed = await batch(['1', '2']);
  assert.equal(mixed.code, ResponseCode.SUCCESS, mixed.remark);
  assert.deepEqual(
    [0, 1].map((q) => h.store.getMaxOffsetInQueue('SCHEDULE_TOPIC_XXXX', q)),
    parked.map((n) => n + 1n),
    'one in the level-1 queue, one in the level-2 queue',
  );
  assert.ok(await eventually(async () => h.store.getMaxOffsetInQueue('DT', 0) === start + 4n, 5000));
});

test('a plain send to %RETRY%<group> with DELAY (the client fallback) is delayed; past its budget it goes to the DLQ at once', async () => {
  const retry = await call(
    h,
    RequestCode.SEND_MESSAGE_V2,
    {
      a: 'pg',
      b: '%RETRY%GF',
      c: 'TBW102',
      d: 4,
      e: 0,
      f: 0,
      g: Date.now(),
      h: 0,
      i: encodeProperties({ DELAY: '3', RETRY_TOPIC: 'DT', UNIQ_KEY: 'UF1' }),
      j: 1,
      k: false,
      l: 16,
    },
    Buffer.from('fallback'),
  );
  assert.equal(retry.code, ResponseCode.SUCCESS, retry.remark);
  assert.equal(h.store.getMaxOffsetInQueue('%RETRY%GF', 0), 0n, 'not in the retry topic yet');
  assert.ok(await eventually(async () => (await pulled('%RETRY%GF')).length === 1, 5000));
  assert.equal((await pulled('%RETRY%GF'))[0]?.reconsumeTimes, 1);

  const dead = await call(
    h,
    RequestCode.SEND_MESSAGE_V2,
    {
      a: 'pg',
      b: '%RETRY%GF',
      c: 'TBW102',
      d: 4,
      e: 0,
      f: 0,
      g: Date.now(),
      h: 0,
      i: encodeProperties({ DELAY: '5', RETRY_TOPIC: 'DT', UNIQ_KEY: 'UF2' }),
      j: 3,
      k: false,
      l: 3,
    },
    Buffer.from('to the dlq'),
  );
  assert.equal(dead.code, ResponseCode.SUCCESS, dead.remark);
  const [d] = await pulled('%DLQ%GF');
  assert.equal(d?.body.toString(), 'to the dlq');
  assert.equal(d?.properties.has('DELAY'), false);
});
