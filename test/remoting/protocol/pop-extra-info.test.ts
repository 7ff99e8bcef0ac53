/** POP's extra info strings: POP_CK round trip, the retry marks, and the refusals of malformed handles. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeExtraInfo,
  infoKey,
  PopRetryMark,
  parseExtraInfo,
  parseInfoList,
  realTopicOf,
  retryMarkOf,
} from '../../../src/remoting/protocol/pop-extra-info.js';

test('POP_CK: encode and parse agree, in ExtraInfoUtil field order', () => {
  const info = {
    ckOffset: 10n,
    popTimeMs: 1_700_000_000_000,
    invisibleTimeMs: 60_000,
    reviveQid: 3,
    retry: PopRetryMark.v1,
    brokerName: 'broker-a',
    queueId: 2,
    queueOffset: 12n,
  };
  const text = encodeExtraInfo(info);
  assert.equal(text, '10 1700000000000 60000 3 1 broker-a 2 12');
  assert.deepEqual(parseExtraInfo(text), info);
});

test('retry marks name the topic an ack goes to', () => {
  assert.equal(retryMarkOf('T'), '0');
  assert.equal(retryMarkOf('%RETRY%g_T'), '1');
  assert.equal(retryMarkOf('%RETRY%g+T'), '2');
  assert.equal(realTopicOf(PopRetryMark.none, 'T', 'g'), 'T');
  assert.equal(realTopicOf(PopRetryMark.v1, 'T', 'g'), '%RETRY%g_T');
  assert.equal(realTopicOf(PopRetryMark.v2, 'T', 'g'), '%RETRY%g+T');
});

test('a malformed POP_CK is refused with what is wrong, never thrown', () => {
  for (const [bad, says] of [
    ['', /fields, not 8/],
    ['1 2 3 4 0 b 1', /7 fields/],
    ['x 2 3 4 0 b 1 5', /ckOffset/],
    ['1 2 3 4 7 b 1 5', /retry mark/],
    ['1 2 3 4 0  1 5', /names no broker/],
    ['1 2 3 4 0 b 1 99999999999999999999', /queueOffset/],
    [7 as unknown as string, /not a string/],
  ] as const) {
    const r = parseExtraInfo(bad);
    assert.equal(typeof r, 'string', `${String(bad)} accepted`);
    assert.match(r as string, says);
  }
});

test('info lists: entries by <retry>@<queue>; malformed or repeated entries refused', () => {
  const m = parseInfoList('0 1 10;1 0 5');
  assert.ok(m instanceof Map);
  assert.equal(m.get(infoKey(PopRetryMark.none, 1)), '10');
  assert.equal(m.get(infoKey(PopRetryMark.v1, 0)), '5');
  const order = parseInfoList('0 qo1%11 4');
  assert.ok(order instanceof Map);
  assert.equal(order.get(infoKey(PopRetryMark.none, 1, 11n)), '4');
  assert.deepEqual(parseInfoList(undefined), new Map());
  assert.match(parseInfoList('0 1') as string, /3 fields/);
  assert.match(parseInfoList('0 1 2;0 1 3') as string, /listed twice/);
});
