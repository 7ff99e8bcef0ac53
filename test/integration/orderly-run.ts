/**
 * Shared by the orderly integration tests: orderly consumer processes (orderly-worker.ts), their deliveries
 * merged in time order, the per-key order check, and the join-and-leave run.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Producer } from '../../src/client/producer.js';
import type { OrderlyWorkerConfig } from './orderly-worker.js';
import { createTopic, Proc, type Server, startServer, tempDir, type WorkerEvent, waitUntil } from './procs.js';

const workerPath = fileURLToPath(new URL('./orderly-worker.js', import.meta.url));
export const spawnOrderly = (name: string, config: OrderlyWorkerConfig) =>
  new Proc(name, [workerPath, JSON.stringify(config)], 'error');

/** Temp dirs to remove after the file's tests (the caller's `after`). */
export const cleanups: Array<() => Promise<void>> = [];
let server: Server;

/** One `tsrocket start` per test file. */
export async function startOnce(): Promise<Server> {
  if (server !== undefined) return server;
  const { dir, cleanup } = await tempDir('orderly');
  cleanups.push(cleanup);
  server = await startServer(dir);
  return server;
}

export interface Delivery {
  k: string;
  s: number;
  r: number;
  ts: number;
  te: number;
  by: string;
}

export function deliveries(procs: readonly Proc[]): Delivery[] {
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
export function checkKeyOrder(key: string, ds: readonly Delivery[], count: number, repeated: string[]): number {
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

export interface JoinLeave {
  topic: string;
  queues: number;
  scope: 'queue' | 'shardingKey';
  /** Messages per key (1,000 in the acceptance runs). */
  perKey: number;
}

/** The sharding keys: Java hash 65..67, queues 1..3 of a 4-queue topic. */
export const keys = ['A', 'B', 'C'];

/** Distinct "<key>:<seq>" the workers consumed, kept up to date as their events arrive (no re-scan per poll). */
function consumedCounter(procs: readonly Proc[]): () => number {
  const seen = new Set<string>();
  const read = new Map<Proc, number>();
  return () => {
    for (const p of procs) {
      const events = p.events;
      for (let i = read.get(p) ?? 0; i < events.length; i++) {
        const e = events[i] as WorkerEvent;
        if (e.t === 'msg') seen.add(`${e['k']}:${e['s']}`);
      }
      read.set(p, events.length);
    }
    return seen.size;
  };
}

/**
 * Waits until `count()` reaches `target`; fails once neither it nor `activity()` (deliveries, repeats included: a
 * hand-over re-delivers from the last committed offset before anything new) has grown for `stallMs`.
 */
async function waitMoving(
  count: () => number,
  activity: () => number,
  target: number,
  what: string,
  stallMs: number,
): Promise<void> {
  let last = count() + activity();
  let movedMs = Date.now();
  await waitUntil(
    () => {
      const n = count();
      const moved = n + activity();
      if (moved !== last) {
        last = moved;
        movedMs = Date.now();
      }
      if (n < target && Date.now() - movedMs > stallMs) {
        throw new Error(`no progress for ${stallMs} ms waiting for ${what} (${n} of ${target})`);
      }
      return n >= target;
    },
    what,
    Number.POSITIVE_INFINITY,
  );
}

/**
 * `keys` × `perKey` messages sent with a sharding key while orderly consumers c1, c2 run; c3 and c4 join at a
 * fifth consumed, c1 leaves at two fifths, c2 at three fifths. Returns the deliveries of all four.
 */
export async function joinAndLeave(t: { diagnostic: (m: string) => void }, run: JoinLeave): Promise<Delivery[]> {
  const { nameServer, brokerAddr } = await startOnce();
  await createTopic(nameServer, brokerAddr, run.topic, run.queues);
  const config: OrderlyWorkerConfig = {
    nameServer,
    topic: run.topic,
    group: `GID_${run.topic}`,
    handlerDelayMs: 1,
    orderlyScope: run.scope,
  };
  const perKey = run.perKey;
  const total = keys.length * perKey;
  const procs = [spawnOrderly('c1', config), spawnOrderly('c2', config)];
  await Promise.all(procs.map((p) => p.until(() => p.eventsOf('started').length > 0, 'started')));
  const consumed = consumedCounter(procs);

  const producer = new Producer({ nameServer, group: `PID_${run.topic}`, clientIp: '127.0.0.1' });
  await producer.start();
  let stopSending = false;
  const sending = (async () => {
    for (let s = 0; s < perKey && !stopSending; s++) {
      for (const k of keys) await producer.send({ topic: run.topic, body: `${k}:${s}` }, { shardingKey: k });
      if (s % 10 === 9) await sleep(5);
    }
  })();
  // Each wait fails only when consumption stops moving for 30 s: on a loaded machine the sends themselves (one at a
  // time) can take longer than a fixed 30 s to reach a fifth.
  const delivered = () => procs.reduce((sum, p) => sum + p.events.length, 0);
  const reach = (n: number, what: string, stallMs = 30_000) => waitMoving(consumed, delivered, n, what, stallMs);
  try {
    await reach(total / 5, 'a fifth consumed');
    procs.push(spawnOrderly('c3', config), spawnOrderly('c4', config));
    await reach((total * 2) / 5, 'two fifths consumed');
    const c1 = procs[0] as Proc;
    c1.kill('SIGTERM');
    await c1.exited;
    await reach((total * 3) / 5, 'three fifths consumed');
    const c2 = procs[1] as Proc;
    c2.kill('SIGTERM');
    await c2.exited;
    await sending;
    await reach(total, 'every message consumed', 40_000);
  } finally {
    // A failed wait leaves the sender running: stopped and awaited, so the wait's error is the one reported.
    stopSending = true;
    await sending.catch(() => undefined);
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
