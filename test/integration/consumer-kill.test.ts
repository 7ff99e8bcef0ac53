/**
 * A consumer process SIGKILLed mid-stream: the broker drops it as soon as its connection closes, the survivor
 * takes over its queues, and every acked message is consumed at least once (duplicates are counted).
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
  writeBrokerConf,
} from './procs.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

test('a SIGKILLed consumer process: the survivor takes over its queues and nothing acked is lost', async (t) => {
  const { dir, cleanup } = await tempDir('consumer-kill');
  cleanups.push(cleanup);
  // Idle-client expiry short (default 120 s) but longer than the takeover bound below, so a quick takeover
  // proves the broker dropped the victim when its connection closed, not at the idle scan.
  const conf = await writeBrokerConf(dir, { channelExpiredTimeout: 15_000, clientScanIntervalMs: 500 });
  const server = await startServer(dir, conf);
  const topic = 'ItConsumerKill';
  await createTopic(server.nameServer, server.brokerAddr, topic, 8);

  const config = { nameServer: server.nameServer, topic, group: 'GID_it_kill', messageModel: 'CLUSTERING' } as const;
  const victim = spawnConsumer('victim', config);
  await victim.until(() => assignment(victim).length === 8, 'victim owns all 8 queues');
  const survivor = spawnConsumer('survivor', config);
  await waitUntil(() => assignment(victim).length === 4 && assignment(survivor).length === 4, '4/4 split', 15_000);
  const victimQueues = assignment(victim);

  const producer = spawnProducer('producer', { nameServer: server.nameServer, topic, count: 800, intervalMs: 2 });
  await victim.until(() => consumedIds(victim).length >= 100, 'victim consumed 100 messages', 20_000);
  victim.kill('SIGKILL');
  const killedAt = Date.now();
  await victim.exited;
  await waitUntil(() => assignment(survivor).length === 8, 'survivor owns all 8 queues (before idle expiry)', 10_000);
  const takeoverMs = Date.now() - killedAt;

  await producer.until(() => producer.eventsOf('done').length > 0, 'producer done', 30_000);
  const acked = new Set(ackedIds(producer));
  assert.equal(acked.size, 800, 'every send acked');
  const seen = () => new Set([...consumedIds(victim), ...consumedIds(survivor)]);
  await waitUntil(() => [...acked].every((id) => seen().has(id)), 'every acked message consumed', 20_000);

  const all = [...consumedIds(victim), ...consumedIds(survivor)];
  const duplicates = all.length - new Set(all).size;
  const takenOver = survivor.eventsOf('msg').filter((e) => victimQueues.includes(e['q'] as number)).length;
  t.diagnostic(
    `takeover ${takeoverMs} ms; victim consumed ${consumedIds(victim).length}, survivor ${consumedIds(survivor).length} ` +
      `(${takenOver} from the victim's queues); duplicates ${duplicates}`,
  );
  assert.ok(takenOver > 0, "the survivor consumed from the victim's queues");
  for (const id of all) assert.ok(acked.has(id), `consumed ${id} that was never sent`);
  // Duplicates are allowed (at-least-once), but only from the victim's un-committed tail, never wholesale.
  assert.ok(duplicates < consumedIds(victim).length, `duplicates ${duplicates} bounded by what the victim consumed`);
});
