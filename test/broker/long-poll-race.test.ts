/**
 * A long poll whose message arrives while its store read is in flight (the pull and the send in one socket read)
 * is answered with that message at once, not left held until the next arrival or its deadline.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeRecords } from '../../src/common/record.js';
import { PullSysFlag, ResponseCode } from '../../src/remoting/codes.js';
import { createTopic, type Harness, pull, sendV2, startHarness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness();
  await createTopic(h, 'RACE', 1);
});
after(() => h.close());

test('a held pull sees the message that arrived during its read', async () => {
  for (let round = 0; round < 5; round++) {
    const t0 = Date.now();
    const held = pull(h, 'RACE', 0, round, { sysFlag: PullSysFlag.suspend, suspendTimeoutMillis: 4000 }, 10_000);
    // Not awaited apart: both requests leave in the same turn and reach the broker together.
    const sent = sendV2(h, 'RACE', `m${round}`);
    const [r, s] = await Promise.all([held, sent]);
    assert.equal(s.code, ResponseCode.SUCCESS, s.remark);
    assert.equal(r.code, ResponseCode.SUCCESS, `round ${round}: ${r.code} ${r.remark ?? ''}`);
    assert.deepEqual(
      decodeRecords(r.body as Buffer).map((m) => m.body.toString()),
      [`m${round}`],
    );
    assert.ok(Date.now() - t0 < 2000, `round ${round}: answered after ${Date.now() - t0} ms (the deadline is 4 s)`);
  }
});
