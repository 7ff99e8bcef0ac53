/** Broadcasting: two consumer processes in one group each receive every message from a producer process. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  ackedIds,
  assignment,
  consumedIds,
  createTopic,
  spawnConsumer,
  spawnProducer,
  startServer,
  stopAll,
  tempDir,
  waitUntil,
} from './procs.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

test('broadcasting: every message reaches both consumer processes', async (t) => {
  const { dir, cleanup } = await tempDir('broadcast');
  cleanups.push(cleanup);
  const server = await startServer(join(dir, 'server'));
  const topic = 'ItBroadcast';
  await createTopic(server.nameServer, server.brokerAddr, topic, 4);

  const base = {
    nameServer: server.nameServer,
    topic,
    group: 'GID_it_broadcast',
    messageModel: 'BROADCASTING',
  } as const;
  const a = spawnConsumer('consumer A', { ...base, offsetStoreDir: join(dir, 'offsets-a') });
  const b = spawnConsumer('consumer B', { ...base, offsetStoreDir: join(dir, 'offsets-b') });
  // Broadcasting: every member owns every queue.
  await waitUntil(() => assignment(a).length === 4 && assignment(b).length === 4, 'both own all 4 queues', 15_000);

  const producer = spawnProducer('producer', { nameServer: server.nameServer, topic, count: 200, intervalMs: 0 });
  await producer.until(() => producer.eventsOf('done').length > 0, 'producer done', 30_000);
  const acked = new Set(ackedIds(producer));
  assert.equal(acked.size, 200);

  const has = (p: typeof a) => () => {
    const got = new Set(consumedIds(p));
    return [...acked].every((id) => got.has(id));
  };
  await waitUntil(has(a), 'A consumed all 200', 20_000);
  await waitUntil(has(b), 'B consumed all 200', 20_000);
  t.diagnostic(`A consumed ${consumedIds(a).length}, B consumed ${consumedIds(b).length} (200 sent)`);
  assert.deepEqual(new Set(consumedIds(a)), acked);
  assert.deepEqual(new Set(consumedIds(b)), acked);
});
