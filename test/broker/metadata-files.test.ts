/**
 * Broker metadata files (topics, consumer offsets, subscription groups) are written durably through StorageIO:
 * faults reach them, a torn temp file never wins, a good previous copy is never dropped for an empty table.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { brokerConfigOf } from '../../src/broker/config.js';
import { ConsumerOffsetManager } from '../../src/broker/metadata/consumer-offsets.js';
import { SubscriptionGroupManager, subscriptionGroupOf } from '../../src/broker/metadata/subscription-groups.js';
import { TopicConfigManager, topicConfigOf } from '../../src/broker/metadata/topic-config.js';
import { FaultyStorageIO } from '../../src/store/fault-io.js';
import { NodeStorageIO } from '../../src/store/io.js';
import { tempDir } from '../store/helpers.js';

const dirs: string[] = [];
after(async () => {
  // Retries: a failed save's background retry may still be writing its temp file.
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});
async function dir(): Promise<string> {
  const d = await tempDir('tsrocket-meta-');
  dirs.push(d);
  return d;
}
const offsetsFile = (d: string) => path.join(d, 'config', 'consumerOffset.json');

test('a temp file torn by a failed write is ignored and removed; the last good offsets load', async () => {
  const d = await dir();
  const io = new FaultyStorageIO(new NodeStorageIO(), 7);
  const offsets = new ConsumerOffsetManager(d, io);
  offsets.commit('G', 'T', 0, 5n);
  await offsets.persist();
  offsets.commit('G', 'T', 0, 9n);
  io.tearNextWrite = /consumerOffset\.json\.tmp/;
  await assert.rejects(offsets.persist(true), /torn write/);
  assert.ok((await fs.readdir(path.join(d, 'config'))).some((n) => n.startsWith('consumerOffset.json.tmp')));
  // The torn writer is gone as if its process died: its background retry must not write the file again while the
  // next manager loads (a retry that succeeded there raced the listing below).
  io.fail('open', /consumerOffset\.json/, 'EIO');

  const loaded = new ConsumerOffsetManager(d, new NodeStorageIO());
  await loaded.load();
  assert.equal(loaded.query('G', 'T', 0), 5n);
  const left = await fs.readdir(path.join(d, 'config'));
  assert.deepEqual(
    left.filter((n) => n.includes('.tmp')),
    [],
  );
});

test('an unreadable or empty main file falls back to the previous good copy, never to an empty table', async () => {
  const d = await dir();
  const offsets = new ConsumerOffsetManager(d);
  offsets.commit('G', 'T', 1, 10n);
  await offsets.persist();
  offsets.commit('G', 'T', 1, 20n);
  await offsets.persist();
  const file = offsetsFile(d);
  const good = await fs.readFile(file);

  // Torn main file (half of it): the previous copy loads.
  await fs.writeFile(file, good.subarray(0, Math.floor(good.length / 2)));
  const torn = new ConsumerOffsetManager(d);
  await torn.load();
  assert.equal(torn.query('G', 'T', 1), 10n);

  // A zero-length main file (a rename that reached the disk before the data): the previous copy loads.
  await fs.writeFile(file, '');
  const empty = new ConsumerOffsetManager(d);
  await empty.load();
  assert.equal(empty.query('G', 'T', 1), 10n);

  // No readable copy at all: an error, not an empty table.
  await fs.writeFile(file, good.subarray(0, 7));
  await fs.writeFile(`${file}.bak`, good.subarray(0, 5));
  await assert.rejects(new ConsumerOffsetManager(d).load(), /unreadable/);
});

test('an fdatasync error while persisting is an error for the caller, for every metadata file', async () => {
  const d = await dir();
  const io = new FaultyStorageIO(new NodeStorageIO(), 3);
  const topics = new TopicConfigManager(brokerConfigOf({ storePathRootDir: d }), io);
  await topics.load();
  topics.upsert(topicConfigOf('MetaT', 4));
  const offsets = new ConsumerOffsetManager(d, io);
  offsets.commit('G', 'MetaT', 0, 3n);
  const groups = new SubscriptionGroupManager(d, false, io);
  groups.upsert(subscriptionGroupOf('MetaG'));
  // Let the writes the changes started land first, so each case below counts only its own.
  await topics.persist();
  await groups.persist();

  const cases: Array<[RegExp, () => Promise<void>]> = [
    [/topics\.json\.tmp$/, () => topics.persist()],
    [/consumerOffset\.json\.tmp$/, () => offsets.persist(true)],
    [/subscriptionGroup\.json\.tmp$/, () => groups.persist()],
  ];
  for (const [temp, persist] of cases) {
    const before = io.counters.datasyncs;
    await persist();
    // The temp file and the folder are both synced.
    assert.equal(io.counters.datasyncs - before, 2);
    // Aimed at this file's temp copy: another file's background retry must not take the fault.
    const rule = io.fail('datasync', temp, 'EIO', 1);
    await assert.rejects(persist(), /EIO/);
    assert.equal(rule.hits, 1);
    // A good write supersedes the failed one, so its background retry writes nothing into the next case.
    await persist();
  }
  // The failed writes changed nothing on disk: the last good state loads.
  const again = new TopicConfigManager(brokerConfigOf({ storePathRootDir: d }), io);
  await again.load();
  assert.equal(again.get('MetaT')?.writeQueueNums, 4);
});
