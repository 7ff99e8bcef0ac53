/**
 * The broker process SIGKILLed and restarted on the same port and data dir while a producer process keeps
 * sending with SYNC_FLUSH: afterwards a consumer reads every message whose send was acknowledged SEND_OK.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import {
  assignment,
  consumedIds,
  createTopic,
  type Proc,
  runtimeInfo,
  spawnConsumer,
  spawnProducer,
  startBroker,
  startNamesrv,
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

const acks = (p: Proc) => p.eventsOf('ack').filter((e) => e['s'] === 'SEND_OK');

test('broker SIGKILL + restart mid-stream (SYNC_FLUSH): every acked message is consumed afterwards', async (t) => {
  const { dir, cleanup } = await tempDir('broker-restart');
  cleanups.push(cleanup);
  const namesrv = await startNamesrv(dir);
  const conf = await writeBrokerConf(dir, {
    brokerClusterName: 'ItCluster',
    brokerName: 'broker-it',
    flushDiskType: 'SYNC_FLUSH',
    mappedFileSizeCommitLog: 16 * 1024 * 1024,
    listenHost: '127.0.0.1',
  });
  const data = join(dir, 'broker');
  const first = await startBroker(conf, namesrv.addr, data, 0);
  const port = Number(first.addr.split(':')[1]);
  const topic = 'ItBrokerRestart';
  await createTopic(namesrv.addr, first.addr, topic, 4);

  // A consumer process that lives through the crash must also end up with every acked message.
  const live = spawnConsumer('live consumer', {
    nameServer: namesrv.addr,
    topic,
    group: 'GID_it_restart_live',
    messageModel: 'CLUSTERING',
  });
  await live.until(() => assignment(live).length === 4, 'live consumer owns the 4 queues');
  const producer = spawnProducer('producer', { nameServer: namesrv.addr, topic, count: 0, intervalMs: 2 });
  await producer.until(() => acks(producer).length >= 150, '150 acked sends before the crash', 20_000);
  first.proc.kill('SIGKILL');
  await first.proc.exited;
  const ackedBeforeCrash = acks(producer).length;

  const second = await startBroker(conf, namesrv.addr, data, port);
  assert.equal(second.addr, first.addr, 'restarted on the same port');
  const info = await runtimeInfo(namesrv.addr, second.addr);
  assert.equal(info['flushDiskType'], 'SYNC_FLUSH', 'broker.conf flushDiskType reached the store');
  await producer.until(() => acks(producer).length >= ackedBeforeCrash + 150, '150 more acked sends', 30_000);
  producer.kill('SIGTERM');
  await producer.until(() => producer.eventsOf('done').length > 0, 'producer done', 10_000);
  const acked = new Set(acks(producer).map((e) => e['id'] as string));
  const failed = producer.eventsOf('fail').length;
  const notOk = producer.eventsOf('ack').length - acks(producer).length;

  const got = new Set<string>();
  const consumer = new PushConsumer({
    nameServer: namesrv.addr,
    group: 'GID_it_restart_check',
    clientIp: '127.0.0.1',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  consumer.subscribe(topic, '*').onMessage((msg) => {
    got.add(msg.msgId);
  });
  await consumer.start();
  try {
    await waitUntil(() => [...acked].every((id) => got.has(id)), 'every acked message consumed', 20_000);
  } finally {
    await consumer.shutdown();
  }
  const liveSeen = () => new Set(consumedIds(live));
  await waitUntil(
    () => [...acked].every((id) => liveSeen().has(id)),
    'the live consumer consumed every acked message',
    20_000,
  );
  const liveDuplicates = consumedIds(live).length - liveSeen().size;
  const missing = [...acked].filter((id) => !got.has(id));
  t.diagnostic(
    `acked ${acked.size} (${ackedBeforeCrash} before the crash), failed sends ${failed}, acked not SEND_OK ${notOk}, ` +
      `consumed ${got.size}, missing ${missing.length}; live consumer ${consumedIds(live).length} ` +
      `with ${liveDuplicates} duplicates`,
  );
  assert.deepEqual(missing, []);
});
