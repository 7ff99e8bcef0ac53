import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { reviveLogTopicOf, SystemGroup } from '../../../src/common/topics.js';
import { createTopic, eventually, type Harness, sendV2, sleep, startHarness } from '../helpers.js';
import { ack, popRaw } from './pop-client.js';

let h: Harness;
before(async () => {
  h = await startHarness({ autoCreateTopicEnable: false, reviveInterval: 50, reviveQueueNum: 1 });
  await createTopic(h, 'R1', 1);
});
after(() => h.close());

const reviveTopic = reviveLogTopicOf('DefaultCluster');
const reviveOffset = () => h.broker.offsets.query(SystemGroup.revive, reviveTopic, 0);

test('the revive checkpoint stays at the oldest unresolved check point and passes it once all is acked', async () => {
  await sendV2(h, 'R1', 'a', {}, 0);
  await sendV2(h, 'R1', 'b', {}, 0);
  const before = h.store.getMaxOffsetInQueue(reviveTopic, 0);
  const p = await popRaw(h, 'R1', { maxMsgNums: 1 });
  const q = await popRaw(h, 'R1', { maxMsgNums: 1 });
  assert.equal(p.msgs.length + q.msgs.length, 2);
  assert.equal(h.store.getMaxOffsetInQueue(reviveTopic, 0), before + 2n, 'one ck record per pop');
  // Several passes: it never moves past the first check point.
  await sleep(300);
  assert.equal(reviveOffset(), before);
  assert.equal((await ack(h, 'R1', p.msgs[0] as (typeof p.msgs)[0])).code, 0);
  assert.ok(await eventually(() => reviveOffset() === before + 1n), `moved to the second ck: ${reviveOffset()}`);
  assert.equal((await ack(h, 'R1', q.msgs[0] as (typeof q.msgs)[0])).code, 0);
  const end = h.store.getMaxOffsetInQueue(reviveTopic, 0);
  assert.equal(end, before + 4n, 'two ack records');
  assert.ok(await eventually(() => reviveOffset() === end), `at the end once all is acked: ${reviveOffset()}`);
});
