/**
 * Producer de-duplication over real processes (topic attribute dedup.window.ms): a producer SIGKILLed mid-stream
 * and restarted, resending every UNIQ_KEY from the first, stores each once; the window survives a broker SIGKILL.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Admin } from '../../src/client/admin/admin.js';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { Prop } from '../../src/common/properties.js';
import { Proc, runtimeInfo, type Server, startArgs, startServer, stopAll, tempDir, waitUntil } from './procs.js';

const workerPath = fileURLToPath(new URL('./dedup-producer-worker.js', import.meta.url));
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

async function createDedupTopic(server: Server, topic: string, queues: number): Promise<void> {
  const admin = new Admin({ nameServer: server.nameServer, timeoutMs: 5000 });
  try {
    await admin.createOrUpdateTopic(
      { brokerAddr: server.brokerAddr },
      { topicName: topic, readQueueNums: queues, writeQueueNums: queues, dedupWindowMs: 600_000 },
    );
    for (let i = 0; i < 100; i++) {
      const route = await admin.topicRoute(topic).catch(() => undefined);
      if (route?.queueDatas[0]?.readQueueNums === queues) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`topic ${topic} never routed`);
  } finally {
    await admin.close();
  }
}

async function storedCount(server: Server, topic: string): Promise<number> {
  const admin = new Admin({ nameServer: server.nameServer, timeoutMs: 5000 });
  try {
    return (await admin.topicStatus(topic)).reduce((n, q) => n + q.maxOffset, 0);
  } finally {
    await admin.close();
  }
}

type Ack = { k: string; id: string; q: number; o: number };
const acksOf = (p: Proc) => p.eventsOf('ack') as unknown as Ack[];

test('a producer SIGKILLed and restarted, resending the same UNIQ_KEYs, stores each once; consumers see each once', async (t) => {
  const { dir, cleanup } = await tempDir('dedup-producer');
  cleanups.push(cleanup);
  const server = await startServer(join(dir, 'data'));
  const topic = 'ItDedupProducer';
  const count = 1000;
  await createDedupTopic(server, topic, 4);
  const config = JSON.stringify({ nameServer: server.nameServer, topic, count, prefix: 'P' });

  const first = new Proc('producer (to be killed)', [workerPath, config], 'error');
  await waitUntil(() => acksOf(first).length >= 60, '60 acks before the kill', 30_000);
  first.kill('SIGKILL');
  await first.exited;
  const before = acksOf(first);
  assert.ok(before.length < count, `killed mid-stream (${before.length} of ${count} acked)`);
  t.diagnostic(`acked before the kill: ${before.length} of ${count}`);
  const second = new Proc('producer (restarted)', [workerPath, config], 'error');
  await second.line(/"t":"done"/, 60_000);
  const again = new Map(acksOf(second).map((a) => [a.k, a]));
  assert.equal(again.size, count);
  // Each key acked before the kill is answered with its first result: same record, same queue position.
  for (const a of before) assert.deepEqual(again.get(a.k), a);

  assert.equal(await storedCount(server, topic), count, 'sum of the queues max offsets = unique keys');
  const seen = new Map<string, number>();
  const consumer = new PushConsumer({
    nameServer: server.nameServer,
    group: 'GID_it_dedup',
    clientIp: '127.0.0.1',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  consumer.subscribe(topic, '*').onMessage((msg) => {
    seen.set(msg.msgId, (seen.get(msg.msgId) ?? 0) + 1);
  });
  await consumer.start();
  try {
    await waitUntil(() => seen.size === count, `${count} distinct messages consumed`, 30_000);
  } finally {
    await consumer.shutdown();
  }
  assert.deepEqual(
    [...seen.entries()].filter(([, n]) => n > 1),
    [],
  );
  const info = await runtimeInfo(server.nameServer, server.brokerAddr);
  assert.ok(Number(info['dedupDuplicates']) >= before.length, JSON.stringify(info));
});

test('the window survives a broker SIGKILL: resends after the restart are answered with the first results', async () => {
  const { dir, cleanup } = await tempDir('dedup-broker');
  cleanups.push(cleanup);
  const data = join(dir, 'data');
  const server = await startServer(data);
  const topic = 'ItDedupBroker';
  await createDedupTopic(server, topic, 2);
  const send = async (s: Server) => {
    const producer = new Producer({ nameServer: s.nameServer, clientIp: '127.0.0.1', sendTimeoutMs: 3000 });
    await producer.start();
    try {
      const out: Array<{ id: string; q: number; o: bigint }> = [];
      for (let i = 0; i < 50; i++) {
        const r = await producer.send({ topic, body: `b${i}`, properties: { [Prop.uniqKey]: `B-${i}` } });
        out.push({ id: r.offsetMsgId, q: r.messageQueue.queueId, o: r.queueOffset });
      }
      return out;
    } finally {
      await producer.shutdown();
    }
  };
  const firstAnswers = await send(server);
  server.proc.kill('SIGKILL');
  await server.proc.exited;
  const ns = Number(server.nameServer.split(':')[1]);
  const bp = Number(server.brokerAddr.split(':')[1]);
  const proc = new Proc('tsrocket start (restarted)', startArgs(data, ns, bp));
  await proc.line(/tsrocket started/);
  const restarted: Server = { proc, nameServer: server.nameServer, brokerAddr: server.brokerAddr };
  const secondAnswers = await send(restarted);
  assert.deepEqual(secondAnswers, firstAnswers);
  assert.equal(await storedCount(restarted, topic), 50);
  const info = await runtimeInfo(restarted.nameServer, restarted.brokerAddr);
  assert.equal(info['dedupRebuiltKeys'], '50');
  assert.equal(info['dedupDuplicates'], '50');
});
