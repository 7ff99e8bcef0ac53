import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildExtraInfo, buildHandle, parseExtraInfo } from '../../../src/broker/pop/extra-info.js';

const e = {
  ckOffset: 10n,
  popTimeMs: 1_700_000_000_000,
  invisibleTimeMs: 30_000,
  reviveQid: 3,
  retry: true,
  brokerName: 'broker-a',
  queueId: 2,
  queueOffset: 12n,
};

test('POP_CK (8 fields) and receipt handle (9 fields) as RocketMQ spells them', () => {
  assert.equal(buildExtraInfo(e), '10 1700000000000 30000 3 1 broker-a 2 12');
  assert.equal(buildHandle({ ...e, commitLogOffset: 4096n }), '10 1700000000000 30000 3 1 broker-a 2 12 4096');
  assert.deepEqual(parseExtraInfo(buildExtraInfo(e)), { ...e, commitLogOffset: undefined });
  assert.deepEqual(parseExtraInfo(buildHandle({ ...e, commitLogOffset: 4096n })), { ...e, commitLogOffset: 4096n });
});

test('a malformed extraInfo is refused with the problem named', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /fields/],
    ['1 2 3', /3 fields/],
    ['x 1 2 3 0 b 1 2', /ckOffset/],
    ['1 1 2 3 7 b 1 2', /retry flag/],
    ['1 1 2 3 0 b q 2', /queueId/],
    ['1 1 2 3 0 b 1 2 zz', /commitLogOffset/],
  ];
  for (const [text, re] of cases) {
    const r = parseExtraInfo(text);
    assert.equal(typeof r, 'string', text);
    assert.match(r as string, re);
  }
});
