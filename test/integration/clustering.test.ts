/**
 * Two consumer processes in one clustering group against `tsrocket start` in its own process: they split the
 * 8 queues 4 + 4, and 400 messages from a producer process are each consumed exactly once.
 */
import assert from 'node:assert/strict';
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

test('clustering: 2 consumer processes split 8 queues 4/4 and consume every message exactly once', async (t) => {
  const { dir, cleanup } = await tempDir('clustering');
  cleanups.push(cleanup);
  const server = await startServer(dir);
  const topic = 'ItClustering';
  await createTopic(server.nameServer, server.brokerAddr, topic, 8);

  const config = {
    nameServer: server.nameServer,
    topic,
    group: 'GID_it_clustering',
    messageModel: 'CLUSTERING',
  } as const;
  const a = spawnConsumer('consumer A', config);
  await a.until(() => assignment(a).length === 8, 'A alone owns all 8 queues');
  const b = spawnConsumer('consumer B', config);
  await waitUntil(
    () => assignment(a).length === 4 && assignment(b).length === 4,
    `a 4/4 split (A ${assignment(a)}, B ${assignment(b)})`,
    15_000,
  );
  assert.deepEqual(
    [...assignment(a), ...assignment(b)].sort((x, y) => x - y),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );

  const producer = spawnProducer('producer', { nameServer: server.nameServer, topic, count: 400, intervalMs: 0 });
  await producer.until(() => producer.eventsOf('done').length > 0, 'producer done', 30_000);
  const acked = ackedIds(producer);
  assert.equal(acked.length, 400, 'every send acked');

  const ackedSet = new Set(acked);
  const seen = () => new Set([...consumedIds(a), ...consumedIds(b)]);
  await waitUntil(() => [...ackedSet].every((id) => seen().has(id)), 'all 400 messages consumed', 20_000);
  await new Promise((r) => setTimeout(r, 300)); // late duplicates would show up here

  const all = [...consumedIds(a), ...consumedIds(b)];
  t.diagnostic(`consumed A=${consumedIds(a).length} B=${consumedIds(b).length} total=${all.length}`);
  assert.equal(all.length, 400, 'exactly once: no duplicates');
  assert.deepEqual(new Set(all), ackedSet);
  // Each consumer only saw its own queues, and the assignment held steady.
  const queuesOf = (p: typeof a) => new Set(p.eventsOf('msg').map((e) => e['q'] as number));
  for (const q of queuesOf(a)) assert.ok(assignment(a).includes(q), `A consumed from queue ${q} it does not own`);
  for (const q of queuesOf(b)) assert.ok(assignment(b).includes(q), `B consumed from queue ${q} it does not own`);
  assert.ok(consumedIds(a).length > 0 && consumedIds(b).length > 0, 'both consumers got messages');

  // A clean leave (SIGTERM → shutdown commits offsets): A takes over B's queues without re-consuming anything.
  await b.stop();
  assert.equal(b.eventsOf('stopped').length, 1, 'B shut down cleanly');
  await waitUntil(() => assignment(a).length === 8, 'A owns all 8 queues after B left', 10_000);
  const more = spawnProducer('producer 2', { nameServer: server.nameServer, topic, count: 200, intervalMs: 0 });
  await more.until(() => more.eventsOf('done').length > 0, 'producer 2 done', 30_000);
  const acked2 = new Set(ackedIds(more));
  assert.equal(acked2.size, 200);
  await waitUntil(() => [...acked2].every((id) => consumedIds(a).includes(id)), 'A consumed the next 200', 20_000);
  await new Promise((r) => setTimeout(r, 300));
  const total = [...consumedIds(a), ...consumedIds(b)];
  t.diagnostic(`after B left: A consumed ${consumedIds(a).length} in all, ${total.length} consumed for 600 sent`);
  assert.equal(total.length, 600, 'still exactly once after a clean leave');
});
