/**
 * Orderly consumption benchmark (`npm run bench:orderly`, not in CI): a real `tsrocket start` child stores
 * `--keys` sharding keys × `--per-key` messages in a `--queues`-queue topic (1 by default: every key shares the
 * queue), then an orderly PushConsumer reads them all from the first offset, once per scope and handler:
 *  - scope 'queue' (RocketMQ's MessageListenerOrderly: one message of the queue at a time) and
 *  - scope 'shardingKey' (beyond RocketMQ: keys of one queue in parallel, each in order),
 * with a handler that waits `--work-ms` (I/O such as a database write) and one that returns at once (the
 * consumer's own cost). Every run checks each key's order (a violation fails the run). Target: the per-key scope
 * is faster than the queue scope with the I/O handler. Writes bench/results/orderly.json.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ConsumeFromWhere, Producer, PushConsumer } from '../src/client/index.js';
import { setLogLevel } from '../src/common/log.js';
import { RemotingClient } from '../src/remoting/client.js';
import { brokerReady, freePort, pollUntil, routeReady, spawnStart, stopChild } from './support/process.js';
import { check, type TargetRow, writeResults } from './support/report.js';
import { createTopic } from './support/wire.js';

setLogLevel('warn');
const { values: a } = parseArgs({
  options: {
    keys: { type: 'string', default: '16' },
    'per-key': { type: 'string', default: '500' },
    queues: { type: 'string', default: '1' },
    'work-ms': { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '20' },
  },
});
const keys = Array.from({ length: Number(a.keys) }, (_, i) => `key-${i}`);
const perKey = Number(a['per-key']);
const total = keys.length * perKey;
const workMs = Number(a['work-ms']);
const topic = 'OrderlyBench';

interface RunResult {
  scope: 'queue' | 'shardingKey';
  workMs: number;
  ms: number;
  msgsPerSec: number;
  orderViolations: number;
  /** Most handlers running at once. */
  parallelMax: number;
}

async function consumeAll(
  nameServer: string,
  scope: RunResult['scope'],
  work: number,
  run: number,
): Promise<RunResult> {
  const last = new Map<string, number>();
  let consumed = 0;
  let violations = 0;
  let running = 0;
  let parallelMax = 0;
  let firstAt = 0;
  let lastAt = 0;
  let done: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => {
    done = resolve;
  });
  const consumer = new PushConsumer({
    nameServer,
    group: `bench_orderly_${run}`,
    clientIp: '127.0.0.1',
    orderly: true,
    orderlyScope: scope,
    consumeConcurrency: Number(a.concurrency),
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  consumer.subscribe(topic, '*').onMessage(async (msg) => {
    if (firstAt === 0) firstAt = performance.now();
    running++;
    parallelMax = Math.max(parallelMax, running);
    const [k, s] = msg.body.toString().split(':') as [string, string];
    const seq = Number(s);
    if (seq !== (last.get(k) ?? -1) + 1) violations++;
    last.set(k, seq);
    if (work > 0) await sleep(work);
    running--;
    if (++consumed === total) {
      lastAt = performance.now();
      done();
    }
  });
  await consumer.start();
  await Promise.race([allDone, sleep(600_000, undefined, { ref: false })]);
  await consumer.shutdown();
  if (consumed < total) throw new Error(`${scope}: consumed ${consumed} of ${total} in 10 minutes`);
  const ms = lastAt - firstAt;
  return { scope, workMs: work, ms, msgsPerSec: total / (ms / 1000), orderViolations: violations, parallelMax };
}

const root = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-orderly-bench-'));
const broker = spawnStart({
  dataDir: path.join(root, 'data'),
  logFile: path.join(root, 'broker.log'),
  namesrvPort: await freePort(),
  brokerPort: await freePort(),
});
const rc = new RemotingClient({ requestTimeoutMsDefault: 10_000 });
const producer = new Producer({ nameServer: broker.namesrvAddr, clientIp: '127.0.0.1' });
try {
  await pollUntil(() => routeReady(rc, broker.namesrvAddr, 'TBW102'), 30_000, 'namesrv route');
  await pollUntil(() => brokerReady(rc, broker.brokerAddr, 'TBW102'), 30_000, 'broker');
  await createTopic(rc, broker.brokerAddr, topic, Number(a.queues));
  await pollUntil(() => routeReady(rc, broker.namesrvAddr, topic), 60_000, `route of ${topic}`);
  await producer.start();
  // Each key's messages in sequence (so its order in the queue is its send order), keys side by side.
  await Promise.all(
    keys.map(async (k) => {
      for (let s = 0; s < perKey; s++) await producer.send({ topic, body: `${k}:${s}` }, { shardingKey: k });
    }),
  );
  console.log(`stored ${total} messages: ${keys.length} keys × ${perKey} in ${a.queues} queue(s)`);
  const results: RunResult[] = [];
  let run = 0;
  for (const work of [workMs, 0]) {
    for (const scope of ['queue', 'shardingKey'] as const) {
      const r = await consumeAll(broker.namesrvAddr, scope, work, run++);
      console.log(
        `scope ${scope}, handler ${work} ms: ${Math.round(r.msgsPerSec)} msgs/s ` +
          `(${(r.ms / 1000).toFixed(2)} s, up to ${r.parallelMax} handlers at once, order violations ${r.orderViolations})`,
      );
      results.push(r);
    }
  }
  const rate = (scope: RunResult['scope'], work: number) =>
    results.find((r) => r.scope === scope && r.workMs === work)?.msgsPerSec ?? 0;
  const speedupIo = rate('shardingKey', workMs) / rate('queue', workMs);
  const speedupCpu = rate('shardingKey', 0) / rate('queue', 0);
  const violations = results.reduce((n, r) => n + r.orderViolations, 0);
  const rows: TargetRow[] = [
    check(`per-key vs queue scope, handler ${workMs} ms`, `${speedupIo.toFixed(2)} ×`, '> 1 ×', speedupIo > 1),
    check('order violations per key', String(violations), '0', violations === 0),
  ];
  const file = await writeResults('orderly', rows, {
    load: { keys: keys.length, perKey, queues: Number(a.queues), concurrency: Number(a.concurrency) },
    runs: results,
    // Not a target: with a handler that does no I/O nothing overlaps, and this is the per-key bookkeeping's cost.
    perKeyVsQueueNoWork: Number(speedupCpu.toFixed(3)),
  });
  console.log(`per-key vs queue scope with a handler doing no I/O: ${speedupCpu.toFixed(2)} ×`);
  console.log(`results: ${file}`);
} finally {
  await producer.shutdown();
  await rc.close();
  await stopChild(broker, 'SIGTERM');
  await rm(root, { recursive: true, force: true });
}
