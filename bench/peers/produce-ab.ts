/**
 * Produce A/B of two whole trees, each side's own SDK and load generator (`bench/peers/load.js`) against each
 * side's own broker (`bench/peers/tsrocket-server.js`), plus the two mixed pairs (A's client on B's broker and
 * the reverse), alternated: whole / broker-only / client-only in one run. Every run is a child process (no JIT or
 * heap state shared between trees): 8 queues, a warm-up, then `--messages` in mode `send` (Producer.send,
 * auto-batching, 256 in flight: the November harness's produce workload) and `batch64` (16 batches of 64 in
 * flight). Per run: msg/s, broker CPU µs/msg (main thread + helpers, /proc/<pid>/task/*) and client CPU µs/msg.
 * Rates follow the machine's load; the CPU columns and the ratios of alternated runs are the evidence.
 * Usage: node dist/bench/peers/produce-ab.js <treeA> <treeB> [--messages n] [--pairs n] [--sizes 1024,128]
 * (a tree is a checkout with a built dist/: `git archive <rev> | tar -x -C /tmp/x`, a node_modules link, build).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { threadTicks } from './cpu.js';

const modeNames = ['send', 'batch64'] as const;
type ModeName = (typeof modeNames)[number];
interface Run {
  client: 'A' | 'B';
  broker: 'A' | 'B';
  mode: ModeName;
  size: number;
  msgsPerSec: number;
  brokerUs: number;
  brokerHelpersUs: number;
  clientUs: number;
  load1: number;
}

/** One run in this child: `clientTree`'s SDK and load generator against `brokerTree`'s server. */
async function childRun(clientTree: string, brokerTree: string, mode: ModeName, size: number, messages: number) {
  const sdk = await import(path.join(clientTree, 'dist/src/client/index.js'));
  const { Admin } = await import(path.join(clientTree, 'dist/src/client/admin/admin.js'));
  const { runWindowed, makeBody } = await import(path.join(clientTree, 'dist/bench/peers/load.js'));
  const procs = await import(path.join(clientTree, 'dist/bench/peers/processes.js'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrocket-produce-ab-'));
  const nsPort: number = await procs.freePort();
  const brokerPort: number = await procs.freePort();
  const server = procs.spawnServer(
    process.execPath,
    [
      path.join(brokerTree, 'dist/bench/peers/tsrocket-server.js'),
      dir,
      String(nsPort),
      String(brokerPort),
      'ASYNC_FLUSH',
    ],
    path.join(dir, 'server.log'),
  );
  const nameServer = `127.0.0.1:${nsPort}`;
  const producer = new sdk.Producer({ nameServer, group: 'bench_producer' });
  try {
    await procs.waitForPort(nsPort, 30_000, server.child);
    await procs.waitForPort(brokerPort, 30_000, server.child);
    await producer.start();
    const topic = 'bench_ab';
    // The broker may still be registering: retry the topic creation and the first send for a while.
    for (let attempt = 0; ; attempt++) {
      try {
        const admin = new Admin({ nameServer });
        try {
          await admin.createOrUpdateTopic(
            { brokerAddr: `127.0.0.1:${brokerPort}` },
            { topicName: topic, readQueueNums: 8, writeQueueNums: 8 },
          );
        } finally {
          await admin.close();
        }
        if ((await producer.send({ topic, body: Buffer.alloc(size) })).status === sdk.SendStatus.SEND_OK) break;
      } catch (err) {
        if (attempt > 50) throw err;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const template = crypto.randomBytes(size);
    const check = (r: { status: unknown }) => {
      if (r.status !== sdk.SendStatus.SEND_OK) throw new Error(`send answered ${String(r.status)}`);
    };
    const run = (n: number): Promise<unknown> =>
      mode === 'send'
        ? runWindowed(n, 256, (i: number) => producer.send({ topic, body: makeBody(template, i) }).then(check))
        : runWindowed(Math.ceil(n / 64), 16, (j: number) =>
            producer
              .send(Array.from({ length: 64 }, (_, k) => ({ topic, body: makeBody(template, j * 64 + k) })))
              .then(check),
          );
    await run(Math.min(60_000, messages));
    const pid = server.child.pid as number;
    const t0 = threadTicks(pid);
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await run(messages);
    const seconds = (performance.now() - w0) / 1000;
    const t1 = threadTicks(pid);
    const c1 = process.cpuUsage(c0);
    const us = (ticks: number) => (ticks * 10_000) / messages;
    return {
      msgsPerSec: Math.round(messages / seconds),
      brokerUs: us(t1.main - t0.main),
      brokerHelpersUs: us(t1.helpers - t0.helpers),
      clientUs: (c1.user + c1.system) / messages,
      load1: os.loadavg()[0] ?? 0,
    };
  } finally {
    await producer.shutdown().catch(() => undefined);
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    messages: { type: 'string' },
    pairs: { type: 'string' },
    sizes: { type: 'string' },
    run: { type: 'boolean' },
  },
});
const messages = Number(values.messages ?? 200_000);
if (values.run === true) {
  const [clientTree, brokerTree, mode, size] = positionals;
  const r = await childRun(clientTree ?? '', brokerTree ?? '', mode as ModeName, Number(size), messages);
  console.log(JSON.stringify(r));
  process.exit(0);
}
const trees = positionals.map((t) => path.resolve(t));
if (trees.length !== 2)
  throw new Error('usage: produce-ab.js <treeA> <treeB> [--messages n] [--pairs n] [--sizes ...]');
const pairs = Number(values.pairs ?? 2);
const sizes = (values.sizes ?? '1024').split(',').map(Number);
const self = fileURLToPath(import.meta.url);
const combos = [
  ['A', 'A'],
  ['B', 'B'],
  ['B', 'A'],
  ['A', 'B'],
] as const;
const runs: Run[] = [];
for (let p = 0; p < pairs; p++) {
  for (const size of sizes) {
    for (const mode of modeNames) {
      for (const [client, broker] of combos) {
        const tree = (side: 'A' | 'B') => (side === 'A' ? trees[0] : trees[1]) as string;
        const out = execFileSync(
          process.execPath,
          [self, '--run', tree(client), tree(broker), mode, String(size), '--messages', String(messages)],
          { encoding: 'utf8', maxBuffer: 1 << 20 },
        );
        const r: Run = { client, broker, mode, size, ...JSON.parse(out.trim().split('\n').pop() ?? '{}') };
        runs.push(r);
        console.log(
          `client ${client} broker ${broker} ${mode.padEnd(7)} ${String(size).padStart(4)} B ` +
            `${String(r.msgsPerSec).padStart(7)} msg/s  broker ${(r.brokerUs + r.brokerHelpersUs).toFixed(2)} µs/msg ` +
            `(helpers ${r.brokerHelpersUs.toFixed(2)})  client ${r.clientUs.toFixed(2)} µs/msg  load ${r.load1.toFixed(1)}`,
        );
      }
    }
  }
}
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
for (const size of sizes) {
  for (const mode of modeNames) {
    const of = (f: (r: Run) => boolean) => runs.filter((r) => r.size === size && r.mode === mode && f(r));
    const rate = (rs: Run[]) => mean(rs.map((r) => r.msgsPerSec));
    const broker = (rs: Run[]) => mean(rs.map((r) => r.brokerUs + r.brokerHelpersUs));
    const client = (rs: Run[]) => mean(rs.map((r) => r.clientUs));
    const aa = of((r) => r.client === 'A' && r.broker === 'A');
    const bb = of((r) => r.client === 'B' && r.broker === 'B');
    console.log(
      `${mode} ${size} B: whole B/A rate ${(rate(bb) / rate(aa)).toFixed(2)}; ` +
        `broker CPU/msg (B broker / A broker, both clients) ${(broker(of((r) => r.broker === 'B')) / broker(of((r) => r.broker === 'A'))).toFixed(2)}; ` +
        `client CPU/msg (B client / A client, both brokers) ${(client(of((r) => r.client === 'B')) / client(of((r) => r.client === 'A'))).toFixed(2)}`,
    );
  }
}
console.log(JSON.stringify({ trees, messages, pairs, runs }));
