/**
 * Orderly consumption over real processes: orderly consumer processes joining and leaving while 3 sharding
 * keys × 1,000 messages flow (per key strictly in order, nothing skipped; duplicates after a hand-over are
 * counted), and a failing message retried locally without letting later messages of its queue pass.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer } from '../../src/client/producer.js';
import { dlqTopicOf } from '../../src/common/topics.js';
import type { OrderlyWorkerConfig } from './orderly-worker.js';
import { createTopic, Proc, type Server, startServer, stopAll, tempDir, type WorkerEvent, waitUntil } from './procs.js';

const workerPath = fileURLToPath(new URL('./orderly-worker.js', import.meta.url));
const spawnOrderly = (name: string, config: OrderlyWorkerConfig) =>
  new Proc(name, [workerPath, JSON.stringify(config)], 'error');

const cleanups: Array<() => Promise<void>> = [];
let server: Server;
after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

async function startOnce(): Promise<Server> {
  if (server !== undefined) return server;
  const { dir, cleanup } = await tempDir('orderly');
  cleanups.push(cleanup);
  server = await startServer(dir);
  return server;
}

interface Delivery {
  k: string;
  s: number;
  r: number;
  ts: number;
  te: number;
  by: string;
}

function deliveries(procs: readonly Proc[]): Delivery[] {
  return procs
    .flatMap((p) =>
      p.eventsOf('msg').map((e: WorkerEvent) => ({
        k: e['k'] as string,
        s: e['s'] as number,
        r: e['r'] as number,
        ts: e['ts'] as number,
        te: e['te'] as number,
        by: p.name,
      })),
    )
    .sort((a, b) => a.ts - b.ts);
}

/**
 * Walks one key's deliveries in time order: each starts after the previous one ended (one at a time) and is at
 * most one past the highest seen so far (no gap, no later message before an earlier one); one at or below it is
 * a re-delivery. Returns the re-delivery count.
 */
function checkKeyOrder(key: string, ds: readonly Delivery[], count: number, repeated: string[]): number {
  let high = -1;
  let repeats = 0;
  let prev: Delivery | undefined;
  for (const d of ds) {
    assert.ok(
      prev === undefined || d.ts >= prev.te,
      `key ${key}: seq ${d.s} by ${d.by} started before seq ${prev?.s} by ${prev?.by} ended`,
    );
    prev = d;
    assert.ok(d.s <= high + 1, `key ${key}: seq ${d.s} by ${d.by} before ${high + 1} was consumed`);
    if (d.s <= high) {
      repeats++;
      const around = ds
        .filter((x) => Math.abs(x.s - d.s) <= 2)
        .map((x) => `${x.s}@${x.by}[${x.ts.toFixed(1)}-${x.te.toFixed(1)}]`);
      repeated.push(`${key}:${d.s} by ${d.by}: ${around.join(' ')}`);
    } else high = d.s;
  }
  assert.equal(high, count - 1, `key ${key}: consumed up to ${count - 1}`);
  return repeats;
}

interface JoinLeave {
  topic: string;
  queues: number;
  scope: 'queue' | 'shardingKey';
}

/**
 * 3 keys × 1,000 messages sent with a sharding key while orderly consumers c1, c2 run; c3 and c4 join at a
 * fifth consumed, c1 leaves at two fifths, c2 at three fifths. Returns the deliveries of all four.
 */
async function joinAndLeave(t: { diagnostic: (m: string) => void }, run: JoinLeave): Promise<Delivery[]> {
  const { nameServer, brokerAddr } = await startOnce();
  await createTopic(nameServer, brokerAddr, run.topic, run.queues);
  const config: OrderlyWorkerConfig = {
    nameServer,
    topic: run.topic,
    group: `GID_${run.topic}`,
    handlerDelayMs: 1,
    orderlyScope: run.scope,
  };
  const perKey = 1000;
  const total = keys.length * perKey;
  const procs = [spawnOrderly('c1', config), spawnOrderly('c2', config)];
  await Promise.all(procs.map((p) => p.until(() => p.eventsOf('started').length > 0, 'started')));
  const consumed = () => new Set(deliveries(procs).map((d) => `${d.k}:${d.s}`)).size;

  const producer = new Producer({ nameServer, group: `PID_${run.topic}`, clientIp: '127.0.0.1' });
  await producer.start();
  const sending = (async () => {
    for (let s = 0; s < perKey; s++) {
      for (const k of keys) await producer.send({ topic: run.topic, body: `${k}:${s}` }, { shardingKey: k });
      if (s % 10 === 9) await sleep(5);
    }
  })();
  try {
    await waitUntil(() => consumed() >= total / 5, 'a fifth consumed', 30_000);
    procs.push(spawnOrderly('c3', config), spawnOrderly('c4', config));
    await waitUntil(() => consumed() >= (total * 2) / 5, 'two fifths consumed', 30_000);
    const c1 = procs[0] as Proc;
    c1.kill('SIGTERM');
    await c1.exited;
    await waitUntil(() => consumed() >= (total * 3) / 5, 'three fifths consumed', 30_000);
    const c2 = procs[1] as Proc;
    c2.kill('SIGTERM');
    await c2.exited;
    await sending;
    await waitUntil(() => consumed() === total, 'every message consumed', 40_000);
  } finally {
    await producer.shutdown();
  }
  const all = deliveries(procs);
  let repeats = 0;
  const repeated: string[] = [];
  for (const k of keys) {
    const ofKey = all.filter((d) => d.k === k);
    repeats += checkKeyOrder(k, ofKey, perKey, repeated);
  }
  const byConsumer = procs.map((p) => `${p.name} ${p.eventsOf('msg').length}`).join(', ');
  const examples = repeats > 0 ? ` (${repeated.slice(0, 5).join(', ')})` : '';
  t.diagnostic(`deliveries ${all.length} (${byConsumer}); re-deliveries after hand-overs ${repeats}${examples}`);
  assert.ok(procs.filter((p) => p.eventsOf('msg').length > 0).length >= 2, 'queues changed hands');
  assert.ok(repeats < total / 10, `re-deliveries ${repeats} stay a hand-over's tail`);
  return all;
}

const keys = ['A', 'B', 'C']; // Java hash 65..67: queues 1..3 of 4

test('3 keys × 1,000 messages, 4 orderly consumers joining and leaving: per key in order, nothing skipped', async (t) => {
  const all = await joinAndLeave(t, { topic: 'ItOrderly', queues: 4, scope: 'queue' });
  assert.ok(new Set(all.map((d) => d.by)).size >= 3, 'queues changed hands more than once');
});

test('a one-queue topic keeps global order across consumers joining and leaving', async (t) => {
  const all = await joinAndLeave(t, { topic: 'ItOrderlyGlobal', queues: 1, scope: 'queue' });
  // Sent A0 B0 C0 A1 …: consumed one at a time in exactly that order (re-deliveries aside).
  const position = (d: Delivery) => d.s * keys.length + keys.indexOf(d.k);
  checkKeyOrder(
    '(all)',
    all.map((d) => ({ ...d, s: position(d) })),
    keys.length * 1000,
    [],
  );
});

test('per-key scope: keys of one queue consumed in parallel, each strictly in order, across hand-overs', async (t) => {
  const all = await joinAndLeave(t, { topic: 'ItOrderlyPerKey', queues: 1, scope: 'shardingKey' });
  // The keys of the single queue overlapped in the handlers (parallel), which queue scope never does.
  const overlaps = all.filter((d, i) => i > 0 && d.ts < (all[i - 1] as Delivery).te).length;
  t.diagnostic(`deliveries starting before the previous one ended: ${overlaps}`);
  assert.ok(overlaps > 0, 'keys of one queue were consumed in parallel');
});

test('a failing message is retried locally in order; past maxReconsumeTimes it goes to the DLQ', async () => {
  const { nameServer, brokerAddr } = await startOnce();
  const topic = 'ItOrderlyRetry';
  const group = 'GID_it_orderly_retry';
  await createTopic(nameServer, brokerAddr, topic, 1);
  const worker = spawnOrderly('retry', {
    nameServer,
    topic,
    group,
    maxReconsumeTimes: 3,
    failures: { 'R:5': 2, 'R:12': -1 },
  });
  await worker.until(() => worker.eventsOf('started').length > 0, 'started');
  const producer = new Producer({ nameServer, group: 'PID_it_orderly_retry', clientIp: '127.0.0.1' });
  await producer.start();
  try {
    for (let s = 0; s < 20; s++) await producer.send({ topic, body: `R:${s}` }, { shardingKey: 'R' });
  } finally {
    await producer.shutdown();
  }
  await worker.until(() => deliveries([worker]).some((d) => d.s === 19), 'R:19 consumed', 30_000);
  const seq = deliveries([worker]).map((d) => `${d.s}/${d.r}`);
  const expected = [...Array(20).keys()].flatMap((s) =>
    s === 5 ? ['5/0', '5/1', '5/2'] : s === 12 ? ['12/0', '12/1', '12/2', '12/3'] : [`${s}/0`],
  );
  assert.deepEqual(seq, expected);
  const admin = new Admin({ nameServer, timeoutMs: 5000 });
  try {
    const dlqCount = async () => {
      const stats = await admin.topicStatus(dlqTopicOf(group)).catch(() => []);
      return stats.reduce((n, q) => n + q.maxOffset - q.minOffset, 0);
    };
    let inDlq = 0;
    const deadline = Date.now() + 15_000;
    while (inDlq === 0 && Date.now() < deadline) {
      inDlq = await dlqCount();
      if (inDlq === 0) await sleep(200);
    }
    assert.equal(inDlq, 1, 'R:12 stored in the DLQ');
  } finally {
    await admin.close();
  }
});
