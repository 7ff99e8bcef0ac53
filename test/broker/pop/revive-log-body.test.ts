/** The revive log's record bodies, written field by field: the JSON text of RocketMQ's short-name objects. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckPoint } from '../../../src/broker/pop/check-points.js';
import { indexOfOffset } from '../../../src/broker/pop/check-points.js';
import { ackBodyOf, ckBodyOf } from '../../../src/broker/pop/revive-log.js';

const ck: CheckPoint = {
  key: 'k',
  group: 'G"1',
  topic: 'T',
  realTopic: '%RETRY%G"1_T',
  retry: true,
  queueId: 2,
  startOffset: 100n,
  popTimeMs: 1_700_000_000_000,
  invisibleTimeMs: 30_000,
  reviveQid: 5,
  offsets: [100n, 101n, 105n],
  nextBeginOffset: 106n,
  reviveOffset: -1n,
  ackedBits: 0,
  reviving: false,
};

test('check point body: the JSON text of the object form (RocketMQ names, plus nb and ot)', () => {
  const objectForm = {
    so: 100,
    pt: ck.popTimeMs,
    it: 30_000,
    bm: 0,
    n: 3,
    q: 2,
    t: ck.realTopic,
    c: ck.group,
    d: [0, 1, 5],
    bn: 'b"x',
    rq: 5,
    nb: 106,
    ot: 'T',
  };
  assert.equal(ckBodyOf(ck, 'b"x'), JSON.stringify(objectForm));
});

test('ack bodies: ao for one offset, aol for several, then the check point naming fields', () => {
  const common = { so: 100, c: ck.group, t: ck.realTopic, q: 2, pt: ck.popTimeMs, bn: 'b' };
  assert.equal(ackBodyOf(ck, [105n], 'b'), JSON.stringify({ ao: 105, ...common }));
  assert.equal(ackBodyOf(ck, [100n, 101n], 'b'), JSON.stringify({ aol: [100, 101], ...common }));
});

test('indexOfOffset: consecutive offsets found at their place, gaps by search, strangers not at all', () => {
  assert.equal(indexOfOffset(ck, 100n), 0);
  assert.equal(indexOfOffset(ck, 101n), 1);
  assert.equal(indexOfOffset(ck, 105n), 2);
  assert.equal(indexOfOffset(ck, 102n), -1);
  assert.equal(indexOfOffset(ck, 99n), -1);
  assert.equal(indexOfOffset(ck, 2n ** 62n), -1);
});
