/** ConsumeQueues rebuilt from the CommitLog give a SCHEDULE_TOPIC_XXXX entry its due time as tagsCode (RocketMQ). */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { delayHook } from '../../../src/broker/put/delay-hook.js';
import { PutPipeline } from '../../../src/broker/put/pipeline.js';
import { scheduleTagsCodeOf } from '../../../src/broker/schedule/schedule-tags-code.js';
import { tagsCodeOf } from '../../../src/common/hash.js';
import { encodeProperties } from '../../../src/common/properties.js';
import { DelayLevels } from '../../../src/store/delay-levels.js';
import { createMessageStore } from '../../../src/store/index.js';

const levels = new DelayLevels([1000, 5000]);

test('the rule: a schedule entry → store time + its (clamped) level delay; anything else → its tag hash', () => {
  const rule = scheduleTagsCodeOf(levels);
  const props = (o: Record<string, string>) => new Map(Object.entries(o));
  assert.equal(rule('SCHEDULE_TOPIC_XXXX', props({ DELAY: '2', TAGS: 'a' }), 1000), 6000n);
  assert.equal(rule('SCHEDULE_TOPIC_XXXX', props({ DELAY: '9' }), 1000), 6000n);
  assert.equal(rule('SCHEDULE_TOPIC_XXXX', props({ DELAY: 'x', TAGS: 'a' }), 1000), tagsCodeOf('a'));
  assert.equal(rule('T', props({ DELAY: '2', TAGS: 'a' }), 1000), tagsCodeOf('a'));
});

test('a file store rebuilding its ConsumeQueues writes the due time for schedule entries', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-sched-cq-'));
  try {
    const config = { storePathRootDir: dir, mappedFileSizeCommitLog: 1 << 20, mappedFileSizeConsumeQueue: 20 * 100 };
    const tagsOf = scheduleTagsCodeOf(levels);
    let store = createMessageStore(config, { tagsCodeOf: tagsOf });
    await store.start();
    const put = new PutPipeline(store, [delayHook({ levels })]);
    const r = await put.put(
      {
        topic: 'T',
        queueId: 0,
        flag: 0,
        body: Buffer.from('x'),
        properties: encodeProperties({ DELAY: '2', TAGS: 'a' }),
        sysFlag: 0,
        bornTimestamp: 1n,
        bornHost: '127.0.0.1:1',
        reconsumeTimes: 0,
        preparedTransactionOffset: 0n,
        tagsCode: 0n,
        scheduled: true,
      },
      { reconsumeTimes: 0, maxReconsumeTimes: undefined },
    );
    assert.ok(!('code' in r) && r.status === 'PUT_OK');
    await store.shutdown();
    await rm(path.join(dir, 'consumequeue'), { recursive: true, force: true });
    store = createMessageStore(config, { tagsCodeOf: tagsOf });
    await store.start();
    const seen: bigint[] = [];
    const got = await store.getMessage('SCHEDULE_TOPIC_XXXX', 1, 0n, 1, 1 << 20, {
      isMatchedByTagsCode: (code) => {
        seen.push(code);
        return true;
      },
    });
    await store.shutdown();
    assert.equal(got.records.length, 1, 'the entry is back');
    assert.deepEqual(seen, [r.storeTimestamp + 5000n]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
