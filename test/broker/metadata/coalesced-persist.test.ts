/**
 * Metadata persistence is coalesced: one write in flight per file, changes during a write ask for exactly one
 * more write of the latest state, and nothing queues copies of the table.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { brokerConfigOf } from '../../../src/broker/config.js';
import { CoalescedJob } from '../../../src/broker/metadata/coalesced-job.js';
import { ConsumerOffsetManager } from '../../../src/broker/metadata/consumer-offsets.js';
import { SubscriptionGroupManager } from '../../../src/broker/metadata/subscription-groups.js';
import { TopicConfigManager } from '../../../src/broker/metadata/topic-config.js';
import { FaultyStorageIO } from '../../../src/store/fault-io.js';
import { NodeStorageIO } from '../../../src/store/io.js';
import { tempDir } from '../../store/helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});
async function dir(): Promise<string> {
  const d = await tempDir('tsrocket-coalesce-');
  dirs.push(d);
  return d;
}

test('requests during a run ask for exactly one more run, which reads the latest state', async () => {
  let state = 0;
  const seen: number[] = [];
  let inFlight = 0;
  let inFlightMax = 0;
  const job = new CoalescedJob(async () => {
    inFlight++;
    inFlightMax = Math.max(inFlightMax, inFlight);
    const at = state;
    await new Promise((r) => setTimeout(r, 30));
    seen.push(at);
    inFlight--;
  });
  const first = job.request();
  const later: Promise<void>[] = [];
  for (let i = 1; i <= 1000; i++) {
    state = i;
    later.push(job.request());
  }
  await Promise.all([first, ...later]);
  assert.deepEqual(seen, [0, 1000], 'one run, then one more with the latest state');
  assert.equal(job.started, 2);
  assert.equal(inFlightMax, 1);
});

test('runs begin at least gapMsMin apart; a failed run does not stop the next', async () => {
  const starts: number[] = [];
  let fail = true;
  const job = new CoalescedJob(async () => {
    starts.push(Date.now());
    if (fail) {
      fail = false;
      throw new Error('disk says no');
    }
  }, 80);
  await assert.rejects(job.request(), /disk says no/);
  await job.request();
  await job.request();
  assert.equal(starts.length, 3);
  for (let i = 1; i < starts.length; i++) {
    assert.ok((starts[i] as number) - (starts[i - 1] as number) >= 75, `gap ${i}: ${starts.join(',')}`);
  }
});

test('2,000 auto-created groups and topics cost a few file writes, and the files hold them all', async () => {
  const d = await dir();
  const io = new FaultyStorageIO(new NodeStorageIO(), 1);
  const groups = new SubscriptionGroupManager(d, true, io);
  const topics = new TopicConfigManager(brokerConfigOf({ storePathRootDir: d }), io);
  await topics.load();
  const before = io.counters.writes;
  const changes: Promise<void>[] = [];
  for (let i = 0; i < 2000; i++) {
    assert.ok(groups.findOrCreate(`G${i}`) !== undefined);
    assert.ok(topics.createOnSend(`T${i}`, '', 4) !== undefined);
    changes.push(topics.persist());
  }
  await Promise.all([...changes, groups.persist()]);
  const writes = io.counters.writes - before;
  assert.ok(writes <= 6, `metadata writes for 4,000 changes: ${writes}`);
  assert.ok(groups.writesStarted <= 3 && topics.writesStarted <= 3);

  const onDisk = JSON.parse(await fs.readFile(path.join(d, 'config', 'subscriptionGroup.json'), 'utf8'));
  assert.equal(Object.keys(onDisk.subscriptionGroupTable).length, 2000);
  const again = new TopicConfigManager(brokerConfigOf({ storePathRootDir: d }), io);
  await again.load();
  assert.ok(again.get('T1999') !== undefined);
});

test('overlapping offset persists (periodic and shutdown) write one at a time and the last state wins', async () => {
  const d = await dir();
  const io = new FaultyStorageIO(new NodeStorageIO(), 2);
  io.datasyncDelayMs = 20;
  const offsets = new ConsumerOffsetManager(d, io);
  const all: Promise<void>[] = [];
  for (let i = 0; i < 200; i++) {
    offsets.commit('G', 'T', 0, BigInt(i));
    all.push(offsets.persist(i % 2 === 0));
  }
  await Promise.all(all);
  assert.ok(io.counters.writes <= 2, `writes: ${io.counters.writes}`);
  const loaded = new ConsumerOffsetManager(d);
  await loaded.load();
  assert.equal(loaded.query('G', 'T', 0), 199n);
});

test('auto-creation stops at its limit with a remark naming it; retry and DLQ topics are not counted', async () => {
  const d = await dir();
  const groups = new SubscriptionGroupManager(d, true, undefined, 3);
  for (const g of ['A', 'B', 'C']) assert.ok(groups.findOrCreate(g) !== undefined);
  assert.equal(groups.findOrCreate('D'), undefined);
  assert.match(groups.missingRemark('D'), /\[D\] does not exist.*autoCreateSubscriptionGroupMax=3/);
  assert.ok(groups.findOrCreate('A') !== undefined, 'an existing group is still found');

  const topics = new TopicConfigManager(brokerConfigOf({ storePathRootDir: d, autoCreateTopicMax: 8 }));
  await topics.load();
  const system = topics.all().length;
  topics.ensureTopic('%RETRY%A', 1, 6);
  topics.ensureTopic('%DLQ%A', 1, 6);
  const created: string[] = [];
  for (let i = 0; i < 20; i++) if (topics.createOnSend(`T${i}`, '', 4) !== undefined) created.push(`T${i}`);
  assert.equal(created.length, 8 - system);
  assert.match(topics.missingRemark('T19'), /topic\[T19\] not exist.*autoCreateTopicMax=8/);
  assert.ok(topics.createOnSend('T0', '', 4) !== undefined, 'an existing topic is still found');
  await Promise.all([topics.persist(), groups.persist()]);
});
