/**
 * SIGKILL of the broker (SYNC_FLUSH) while the delay service re-puts a backlog of due entries in batches (one
 * put per real queue and turn): after the restart every delayed message is in its topic exactly once, none early,
 * whether the kill cut a batch or fell between two.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Admin } from '../../src/client/admin/admin.js';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import {
  createTopic,
  Proc,
  runtimeInfo,
  type Server,
  startArgs,
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

const delayMs = 2000;
const messages = 3000;
const topic = 'ItDelayBatchKill';

async function restart(server: Server, data: string, conf: string): Promise<Server> {
  const ns = Number(server.nameServer.split(':')[1]);
  const broker = Number(server.brokerAddr.split(':')[1]);
  const proc = new Proc('tsrocket start (restarted)', [...startArgs(data, ns, broker), '-c', conf]);
  await proc.line(/tsrocket started/);
  return { proc, nameServer: server.nameServer, brokerAddr: server.brokerAddr };
}

test('SIGKILL while due delayed messages are re-put in batches: each stored once in its topic, none early', async (t) => {
  const { dir, cleanup } = await tempDir('delay-batch-kill');
  cleanups.push(cleanup);
  // Progress is written only at stop: everything re-put before the kill is read again and must be found stored.
  const conf = await writeBrokerConf(dir, {
    messageDelayLevel: '2s',
    flushDiskType: 'SYNC_FLUSH',
    flushDelayOffsetInterval: 600_000,
  });
  const data = join(dir, 'data');
  const first = await startServer(data, conf);
  await createTopic(first.nameServer, first.brokerAddr, topic, 4);
  const producer = new Producer({ nameServer: first.nameServer, clientIp: '127.0.0.1' });
  await producer.start();
  const bornMs: number[] = [];
  try {
    for (let i = 0; i < messages; i += 50) {
      const sends = [];
      for (let j = i; j < Math.min(messages, i + 50); j++) {
        bornMs[j] = Date.now();
        sends.push(producer.send({ topic, body: Buffer.from(`m${j}`), delayTimeLevel: 1 }));
      }
      await Promise.all(sends);
    }
  } finally {
    await producer.shutdown();
  }
  // Kill as soon as re-puts have begun: the batch being written then is cut, or the next one never starts.
  let delivered = 0;
  const deadline = Date.now() + 20_000;
  while (delivered === 0 && Date.now() < deadline) {
    delivered = Number((await runtimeInfo(first.nameServer, first.brokerAddr))['delayMessagesDelivered']);
    if (delivered === 0) await new Promise((r) => setTimeout(r, 5));
  }
  first.proc.kill('SIGKILL');
  await first.proc.exited;
  assert.ok(delivered > 0, 'the delay service re-put entries before the kill');
  t.diagnostic(`re-put before the kill: ${delivered} of ${messages}`);

  const second = await restart(first, data, conf);
  const copies = new Map<string, number>();
  let early = 0;
  const consumer = new PushConsumer({
    nameServer: second.nameServer,
    group: 'GID_it_delay_batch_kill',
    clientIp: '127.0.0.1',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  consumer.subscribe(topic, '*').onMessage((msg) => {
    const body = msg.body.toString();
    copies.set(body, (copies.get(body) ?? 0) + 1);
    if (msg.storeTimestamp - (bornMs[Number(body.slice(1))] as number) < delayMs) early++;
  });
  await consumer.start();
  const admin = new Admin({ nameServer: second.nameServer, timeoutMs: 5000 });
  let info: Record<string, string> = {};
  let stored = 0;
  try {
    await waitUntil(() => copies.size === messages, 'every delayed message consumed', 30_000);
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      info = await runtimeInfo(second.nameServer, second.brokerAddr);
      if (info['scheduleMessageOffset_1'] === `${messages},${messages}`) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    stored = (await admin.topicStatus(topic)).reduce((n, q) => n + q.maxOffset, 0);
  } finally {
    await admin.close();
    await consumer.shutdown();
  }
  t.diagnostic(`after the restart: skipped as already stored ${info['delayDuplicatesSkipped']}`);
  assert.equal(info['scheduleMessageOffset_1'], `${messages},${messages}`, 'the delay queue delivered to its end');
  assert.equal(stored, messages, 'each delayed message stored once in its topic');
  assert.deepEqual(
    [...copies].filter(([, n]) => n !== 1),
    [],
    'none consumed twice',
  );
  assert.equal(early, 0, 'none early');
});
