/**
 * A/B of two broker builds under one client: each tree's own `dist/bench/peers/tsrocket-server.js` is started in
 * turn (A, B, A, B, …) and driven by this build's Producer (1 KiB `send` with auto-batching, 256 in flight, and
 * batches of 64, 16 in flight) after a warm-up. Per run: msg/s, the broker's CPU µs per message split into its
 * main thread and its helper threads (V8's GC workers, libuv's pool) from /proc/<pid>/task/<tid>/stat, and its
 * scavenges and mark-compacts (V8's --trace-gc). Linux only.
 * Usage: node dist/bench/peers/server-ab.js <treeA> <treeB> [--messages n] [--pairs n] [--modes send,batch64]
 *   [--prof-dir d] (each broker writes a CPU profile into d) [--node-args "flags"] (more flags for each broker)
 *   [--node-args-b "flags"] (more flags for the second tree's broker only: flags A/B with `. .`)
 *   [--keep-logs d] (each broker's log, V8 traces included, copied into d)  (a tree is a checkout
 * with a built dist/, e.g. `git archive <rev> | tar -x -C /tmp/x`, a node_modules link, `npx tsc -p .`)
 *   [--page-cache MiB] (default 768; 0: none) each broker in a memory cgroup whose page cache is held to that budget
 *   and full from the start, so its writes recycle pages as on a long-running host (memory-cgroup.ts); each row names
 *   the memory state it was measured in  [--fresh] each mode measured once more after the cgroup's limit is lifted
 *   (writes into the free pool: on a VM with free page reporting, fresh memory)  [--store-a json] [--store-b json]
 *   store settings for A's or B's broker (TSROCKET_PEERS_STORE, e.g. '{"commitLogAllocateSegments":false}': an A/B
 *   of one build). Each row also gives the machine's kernel threads' CPU per message (writeback, end-of-I/O extent
 *   conversion, kswapd: work the broker's writes cause outside its own threads; machine-wide, so with neighbours).
 *   [--consumers n] n PushConsumers of one group (this process) long-poll the topic from its end during every mode: a
 *   measure then lasts until they have received every message sent, and its row gives their end-to-end latency
 *   (receipt − born time, ms: p50, p99, max) and the broker's CPU for the sends and the pulls together.
 *   [--warmup n] messages each mode sends before it is measured (default 60,000 or --messages if fewer).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConsumeFromWhere, Producer, PushConsumer, type ReceivedMessage, SendStatus } from '../../src/client/index.js';
import { kernelThreadTicks, kernelThreadTicksBetween, threadUserSystemTicks } from './cpu.js';
import { runPaced, runWindowed } from './load.js';
import { memoryStateLabel, reportedToHostKib } from './memory-cgroup.js';
import { freePort, installExitHandlers, setServerPageCache, spawnServer, waitForPort } from './processes.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    messages: { type: 'string' },
    pairs: { type: 'string' },
    'prof-dir': { type: 'string' },
    modes: { type: 'string' },
    'node-args': { type: 'string' },
    'node-args-b': { type: 'string' },
    'keep-logs': { type: 'string' },
    'page-cache': { type: 'string' },
    fresh: { type: 'boolean' },
    'store-a': { type: 'string' },
    'store-b': { type: 'string' },
    consumers: { type: 'string' },
    rate: { type: 'string' },
    warmup: { type: 'string' },
  },
});
const trees = positionals.map((t) => path.resolve(t));
if (trees.length !== 2) throw new Error('usage: server-ab.js <treeA> <treeB> [--messages n] [--pairs n]');
const messages = Number(values.messages ?? 200_000);
const pairs = Number(values.pairs ?? 2);
/**
 * `--modes batch64`: only these modes (a profile or a syscall count of one mode); `batch64w8`: 8 batches in flight;
 * `batch16`, `batch256`: batches of 16 (32 in flight: the broker's per-connection share) and 256 (4 in flight);
 * `batch64paced`: batches of 64 at `--rate` msg/s (with `--consumers`, ones that keep up: their pulls are held
 * between batches, and each batch wakes them).
 */
const modesRun = (values.modes ?? 'send,batch64').split(',');
/** `--prof-dir d`: each broker writes a V8 CPU profile (`--cpu-prof`) into d. */
/** `--node-args "--trace-deopt …"`: more flags for each broker's node (V8 tracing into the server log). */
const extraNodeArgs = (values['node-args'] ?? '').split(' ').filter((a) => a !== '');
/** `--node-args-b "--max-semi-space-size=32"`: more flags for the second tree's broker only (flags A/B on one tree). */
const extraNodeArgsB = (values['node-args-b'] ?? '').split(' ').filter((a) => a !== '');
const profArgs =
  values['prof-dir'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values['prof-dir'])}`];
const pageCacheMiB = Number(values['page-cache'] ?? 768);
/** `--consumers n`: long-polling PushConsumers of one group during every mode (0: none). */
const consumersN = Number(values.consumers ?? 0);
/** `--rate r`: msg/s of the `batch64paced` mode (batches of 64 on a schedule, 16 in flight at most). */
const pacedRate = Number(values.rate ?? 20_000);
/**
 * `--warmup n`: messages each mode sends before any is measured (default 60,000, or --messages if fewer). V8 keeps
 * optimizing functions for seconds after that (the per-second timers' and flushes' code, a whole-batch path reached
 * late), on its helper threads; a larger warm-up measures the broker after them. Also moves the measured window
 * along the CommitLog: its offsets pass 2^31 (past V8's small integers) after ~1.8 M messages of 1 KiB.
 */
const warmupMessages = values.warmup === undefined ? undefined : Number(values.warmup);
if (warmupMessages !== undefined && !(Number.isInteger(warmupMessages) && warmupMessages >= 0)) {
  throw new Error('--warmup: a number of messages');
}
if (!Number.isFinite(pageCacheMiB) || pageCacheMiB < 0) throw new Error('--page-cache: MiB, or 0 for none');
installExitHandlers();
const memory = setServerPageCache(pageCacheMiB > 0 ? pageCacheMiB : undefined);
if (memory.skipped !== undefined) console.log(memory.skipped);
console.log(
  `memory state: ${memory.state}${values.fresh === true ? ', and each mode again in the free pool as found' : ''}`,
);
const ticksPerSecond = 100;
const topic = 'AbTopic';
const body = Buffer.alloc(1024, 0x78);

type ModeName = 'send' | 'batch64' | 'batch64w8' | 'batch16' | 'batch256' | 'batch64paced';
interface Row {
  tree: string;
  /** Which of the two positional trees (A, B): the trees may be one path (a flags A/B). */
  side: 'A' | 'B';
  mode: ModeName;
  msgsPerSec: number;
  brokerMainUs: number;
  brokerHelpersUs: number;
  /** The main thread's and the helpers' CPU split into user and system (kernel) time, µs per message. */
  mainUserUs: number;
  mainSystemUs: number;
  helpersUserUs: number;
  helpersSystemUs: number;
  scavenges: number;
  markCompacts: number;
  load1: number;
  /** Bytes the broker read from the disk during the run (/proc/<pid>/io read_bytes: page-cache misses), KiB. */
  diskReadKiB: number;
  /** Kernel threads' CPU (machine-wide) per message, µs. */
  kernelThreadsUs: number;
  /** The store settings given to this broker (--store-a / --store-b), if any. */
  store?: string;
  /** The memory state the broker wrote into (memoryStateLabel). */
  memory: string;
  /** MiB the guest reported to its host as free during the run (free page reporting), when the kernel counts it. */
  reportedToHostMiB?: number;
  /** With --consumers: how many long-polled, and their end-to-end latency (receipt − born time), ms. */
  consumers?: number;
  e2eMs?: { p50: number; p99: number; max: number };
}

/** Messages the long-polling consumers received, and their latencies (ms) since the last `take`. */
class Receipts {
  received = 0;
  private latencies: number[] = [];
  on(m: ReceivedMessage): void {
    this.received++;
    this.latencies.push(Date.now() - m.bornTimestamp);
  }
  take(): { p50: number; p99: number; max: number } {
    const l = this.latencies.sort((a, b) => a - b);
    this.latencies = [];
    const at = (q: number) => l[Math.min(l.length - 1, Math.floor(q * l.length))] ?? 0;
    return { p50: at(0.5), p99: at(0.99), max: l[l.length - 1] ?? 0 };
  }
}

function diskReadBytes(pid: number): number {
  const m = /^read_bytes: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m === null ? 0 : Number(m[1]);
}

function gcCounts(log: string): { scavenges: number; markCompacts: number } {
  const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
  return { scavenges: text.split(': Scavenge ').length - 1, markCompacts: text.split(': Mark-Compact ').length - 1 };
}

async function runTree(
  tree: string,
  side: 'A' | 'B',
  nodeArgs: readonly string[],
  store: string | undefined,
): Promise<Row[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrocket-ab-'));
  const namesrvPort = await freePort();
  const brokerPort = await freePort();
  const log = path.join(dir, 'server.log');
  const server = spawnServer(
    process.execPath,
    [
      '--trace-gc',
      ...profArgs,
      ...extraNodeArgs,
      ...nodeArgs,
      path.join(tree, 'dist/bench/peers/tsrocket-server.js'),
      dir,
      String(namesrvPort),
      String(brokerPort),
      'ASYNC_FLUSH',
    ],
    log,
    store === undefined ? undefined : { TSROCKET_PEERS_STORE: store },
  );
  const pid0 = server.child.pid ?? 0;
  const producer = new Producer({ nameServer: `127.0.0.1:${namesrvPort}`, group: 'ab_producer' });
  const receipts = new Receipts();
  const consumers = Array.from(
    { length: consumersN },
    (_, i) =>
      new PushConsumer({
        nameServer: `127.0.0.1:${namesrvPort}`,
        clientIp: '127.0.0.1',
        instanceName: `ab_consumer_${i}`,
        group: 'ab_consumer',
        consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET,
        consumeConcurrency: 16,
        subscriptions: { [topic]: '*' },
        handler: (m: ReceivedMessage) => receipts.on(m),
      }),
  );
  try {
    await waitForPort(namesrvPort, 30_000, server.child);
    await waitForPort(brokerPort, 30_000, server.child);
    await producer.start();
    const check = (r: { status: SendStatus }) => {
      if (r.status !== SendStatus.SEND_OK) throw new Error(`send answered ${r.status}`);
    };
    // The topic is auto-created by the first send; an older tree may still be starting.
    for (let attempt = 0; ; attempt++) {
      try {
        if ((await producer.send({ topic, body })).status === SendStatus.SEND_OK) break;
      } catch (err) {
        if (attempt > 50) throw err;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const c of consumers) await c.start();
    // The consumers own every queue once a message sent to each is received (a fresh group starts at the queues' end).
    for (let attempt = 0; consumersN > 0; attempt++) {
      const before = receipts.received;
      await producer.send(Array.from({ length: 64 }, () => ({ topic, body }))).then(check);
      await new Promise((r) => setTimeout(r, 200));
      if (receipts.received >= before + 64) break;
      if (attempt > 150) throw new Error('the consumers did not start receiving');
    }
    const modes: Record<ModeName, (n: number) => Promise<unknown>> = {
      send: (n) => runWindowed(n, 256, () => producer.send({ topic, body }).then(check)),
      batch64: (n) =>
        runWindowed(Math.ceil(n / 64), 16, () =>
          producer.send(Array.from({ length: 64 }, () => ({ topic, body }))).then(check),
        ),
      // The bench:peers batch row's window (tsrocket-extra.ts: 8 batches of 64 in flight); only with --modes.
      batch64w8: (n) =>
        runWindowed(Math.ceil(n / 64), 8, () =>
          producer.send(Array.from({ length: 64 }, () => ({ topic, body }))).then(check),
        ),
      // Other batch sizes, to split the broker's CPU per message into a per-batch fixed part and a per-message part;
      // only with --modes. 16 × 16 in flight is 32, the broker's per-connection share (sendInFlightPerConnectionMax):
      // more would wait in its queue, a cost batch64 does not pay.
      batch16: (n) =>
        runWindowed(Math.ceil(n / 16), 32, () =>
          producer.send(Array.from({ length: 16 }, () => ({ topic, body }))).then(check),
        ),
      batch256: (n) =>
        runWindowed(Math.ceil(n / 256), 4, () =>
          producer.send(Array.from({ length: 256 }, () => ({ topic, body }))).then(check),
        ),
      batch64paced: (n) =>
        runPaced(pacedRate / 64, (Math.ceil(n / 64) * 64 * 1000) / pacedRate, 16, () =>
          producer.send(Array.from({ length: 64 }, () => ({ topic, body }))).then(check),
        ),
    };
    const pid = pid0;
    const rows: Row[] = [];
    const run = (Object.keys(modes) as ModeName[]).filter((m) => modesRun.includes(m));
    for (const mode of run) {
      const warm = warmupMessages ?? Math.min(60_000, messages);
      const until = receipts.received + warm;
      if (warm > 0) await modes[mode](warm);
      await consumed(until);
    }
    const states = [memory.state];
    if (values.fresh === true && server.memory !== undefined) states.push(memoryStateLabel(pageCacheMiB, true));
    for (const [si, state] of states.entries()) {
      if (si > 0) server.memory?.lift();
      for (const mode of run) rows.push(await measure(mode, state));
    }
    return rows;

    async function measure(mode: ModeName, state: string): Promise<Row> {
      const t0 = threadUserSystemTicks(pid);
      const gc0 = gcCounts(log);
      const k0 = reportedToHostKib();
      const kt0 = kernelThreadTicks();
      const r0 = diskReadBytes(pid);
      const w0 = performance.now();
      const until = receipts.received + messages;
      receipts.take();
      await modes[mode](messages);
      await consumed(until);
      const seconds = (performance.now() - w0) / 1000;
      const t1 = threadUserSystemTicks(pid);
      const kt1 = kernelThreadTicks();
      const r1 = diskReadBytes(pid);
      const gc1 = gcCounts(log);
      const us = (ticks: number) => (ticks * (1e6 / ticksPerSecond)) / messages;
      return {
        tree,
        side,
        mode,
        msgsPerSec: Math.round(messages / seconds),
        brokerMainUs: us(t1.mainUser + t1.mainSystem - t0.mainUser - t0.mainSystem),
        brokerHelpersUs: us(t1.helpersUser + t1.helpersSystem - t0.helpersUser - t0.helpersSystem),
        mainUserUs: us(t1.mainUser - t0.mainUser),
        mainSystemUs: us(t1.mainSystem - t0.mainSystem),
        helpersUserUs: us(t1.helpersUser - t0.helpersUser),
        helpersSystemUs: us(t1.helpersSystem - t0.helpersSystem),
        scavenges: gc1.scavenges - gc0.scavenges,
        markCompacts: gc1.markCompacts - gc0.markCompacts,
        load1: os.loadavg()[0] ?? 0,
        kernelThreadsUs: us(kernelThreadTicksBetween(kt0, kt1)),
        diskReadKiB: Math.round((r1 - r0) / 1024),
        store,
        memory: state,
        reportedToHostMiB: k0 === undefined ? undefined : Math.round(((reportedToHostKib() ?? k0) - k0) / 1024),
        ...(consumersN > 0 ? { consumers: consumersN, e2eMs: receipts.take() } : {}),
      };
    }

    /** With consumers: waits until they have received `count` messages in all (every message is sent once). */
    async function consumed(count: number): Promise<void> {
      if (consumersN === 0) return;
      const deadline = performance.now() + 300_000;
      while (receipts.received < count) {
        if (performance.now() > deadline) throw new Error(`consumers received ${receipts.received} of ${count}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  } finally {
    for (const c of consumers) await c.shutdown().catch(() => undefined);
    await producer.shutdown().catch(() => undefined);
    await server.stop();
    if (values['keep-logs'] !== undefined) {
      fs.mkdirSync(values['keep-logs'], { recursive: true });
      fs.copyFileSync(log, path.join(values['keep-logs'], `${path.basename(tree)}-${pid0}.log`));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const all: Row[] = [];
for (let p = 0; p < pairs; p++) {
  for (const [i, tree] of trees.entries()) {
    const side = i === 0 ? 'A' : 'B';
    for (const r of await runTree(tree, side, i === 1 ? extraNodeArgsB : [], values[i === 0 ? 'store-a' : 'store-b'])) {
      all.push(r);
      const cpu = r.brokerMainUs + r.brokerHelpersUs;
      console.log(
        `${r.side} ${r.mode.padEnd(8)} ${String(r.msgsPerSec).padStart(7)} msg/s  broker ${cpu.toFixed(2)} µs/msg ` +
          `(main ${r.brokerMainUs.toFixed(2)} = user ${r.mainUserUs.toFixed(2)} + sys ${r.mainSystemUs.toFixed(2)}; ` +
          `helpers ${r.brokerHelpersUs.toFixed(2)} = user ${r.helpersUserUs.toFixed(2)} + sys ${r.helpersSystemUs.toFixed(2)})  ` +
          `kthreads ${r.kernelThreadsUs.toFixed(2)}  disk reads ${r.diskReadKiB} KiB  scavenges ${r.scavenges}, mark-compacts ${r.markCompacts}  load ${r.load1.toFixed(1)}  ${path.basename(r.tree)}${r.store === undefined ? '' : ` ${r.store}`}${r.e2eMs === undefined ? '' : `  e2e ms p50 ${r.e2eMs.p50} p99 ${r.e2eMs.p99} max ${r.e2eMs.max}`}  [${r.memory}${r.reportedToHostMiB === undefined ? '' : `; ${r.reportedToHostMiB} MiB reported to the host meanwhile`}]`,
      );
    }
  }
}
for (const state of [...new Set(all.map((r) => r.memory))]) {
  for (const mode of modesRun) {
    const mean = (side: 'A' | 'B') => {
      const rows = all.filter((r) => r.side === side && r.mode === mode && r.memory === state);
      return rows.reduce((s, r) => s + r.brokerMainUs + r.brokerHelpersUs, 0) / rows.length;
    };
    console.log(`${mode} [${state}]: broker CPU per message B / A = ${(mean('B') / mean('A')).toFixed(2)}`);
  }
}
console.log(
  JSON.stringify({
    messages,
    pairs,
    warmup: warmupMessages ?? Math.min(60_000, messages),
    memory: memory.state,
    memorySkipped: memory.skipped,
    rows: all,
  }),
);
