/**
 * Long polling against `tsrocket start` in its own process: an idle push consumer keeps one held pull per
 * queue instead of spinning, and a message sent while pulls are held reaches the handler within milliseconds.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { setLogLevel } from '../../src/common/log.js';
import { createTopic, runtimeInfo, startServer, stopAll, tempDir, waitUntil } from './procs.js';

setLogLevel('error');
/** Clients first, then the server processes, then the temp dirs. */
const cleanups: Array<() => Promise<void>> = [];
const dirs: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
  await stopAll();
  for (const c of dirs) await c();
});

const idleWindowMs = 3000;
const latencySends = 30;
/**
 * Median send-start → handler time allowed. Loopback is typically 1-3 ms; the bound is loose because `npm test`
 * runs files in parallel on 2 cores, and it still tells a woken pull from one answered by its 15 s suspend
 * deadline or the 1 s re-pull of a consumer without long polling. Latency targets live in `npm run bench` (e2e).
 */
const medianLatencyMsMax = 200;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

test('long polling: one held pull per queue while idle, and prompt delivery on arrival', async (t) => {
  const { dir, cleanup } = await tempDir('long-polling');
  dirs.push(cleanup);
  const server = await startServer(dir);
  const topic = 'ItLongPolling';
  await createTopic(server.nameServer, server.brokerAddr, topic, 8);
  const pulls = async () => {
    const info = await runtimeInfo(server.nameServer, server.brokerAddr);
    return { total: Number(info['pullRequestsTotal']), held: Number(info['heldPullRequests']) };
  };

  const arrivals = new Map<string, number>();
  const storeToHandlerMs: number[] = [];
  const consumer = new PushConsumer({
    nameServer: server.nameServer,
    group: 'GID_it_long_polling',
    clientIp: '127.0.0.1',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  consumer.subscribe(topic, '*').onMessage((msg) => {
    arrivals.set(msg.msgId, performance.now());
    storeToHandlerMs.push(Date.now() - msg.storeTimestamp);
  });
  const producer = new Producer({ nameServer: server.nameServer, group: 'PID_it_long_polling', clientIp: '127.0.0.1' });
  cleanups.push(async () => {
    await consumer.shutdown();
    await producer.shutdown();
  });
  await producer.start();
  const beforeStart = await pulls();
  await consumer.start();
  // 8 topic queues + 1 queue of %RETRY%<group>, all empty: each pull is held by the broker.
  const queues = 9;
  await waitUntil(() => consumer.assignedQueues().length === queues, `${queues} queues assigned`, 10_000);
  let settled = await pulls();
  for (let i = 0; i < 50 && settled.held < queues; i++) {
    await sleep(50);
    settled = await pulls();
  }
  await sleep(idleWindowMs);
  const idle = await pulls();
  const sinceStart = idle.total - beforeStart.total;
  const inWindow = idle.total - settled.total;
  t.diagnostic(`pulls: ${sinceStart} since start, ${inWindow} during ${idleWindowMs} ms idle; held ${idle.held}`);
  assert.equal(idle.held, queues, 'exactly one held pull per queue');
  assert.ok(sinceStart <= 2 * queues, `at most ~one pull per queue since start (got ${sinceStart}), not a busy loop`);
  assert.ok(inWindow <= queues, `no re-pulling while held (got ${inWindow} in ${idleWindowMs} ms)`);

  const latencies: number[] = [];
  for (let i = 0; i < latencySends; i++) {
    const sentAt = performance.now();
    const r = await producer.send({ topic, body: `ping ${i}` });
    await waitUntil(() => arrivals.has(r.msgId), `message ${i} delivered`, 5000);
    latencies.push((arrivals.get(r.msgId) ?? Number.NaN) - sentAt);
    await sleep(20); // let the consumer's next pull be held again
  }
  const p50 = median(latencies);
  const max = Math.max(...latencies);
  t.diagnostic(
    `send start → handler over ${latencySends} sends: median ${p50.toFixed(2)} ms, max ${max.toFixed(2)} ms; ` +
      `broker store timestamp → handler median ${median(storeToHandlerMs)} ms`,
  );
  assert.ok(p50 < medianLatencyMsMax, `median delivery ${p50.toFixed(2)} ms ≥ ${medianLatencyMsMax} ms`);
  const after = await pulls();
  // Each delivery costs the woken pull plus one re-pull; still nowhere near a spin.
  assert.ok(
    after.total - idle.total <= 4 * latencySends,
    `${after.total - idle.total} pulls for ${latencySends} messages`,
  );
});
