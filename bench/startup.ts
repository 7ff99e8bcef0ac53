/**
 * Start-up benchmark (`npm run bench:startup`):
 *  1. empty store: spawn `tsrocket start` → NameServer answers a route (the broker registered) and the broker
 *     answers a request; target < 0.5 s (median of `--runs`);
 *  2. restart after a crash: a `--log-gib` GiB CommitLog (default 10, filled in-process through the store API),
 *     one last message sent over the wire, SIGKILL, restart → the broker serves a pull of that message;
 *     target < 10 s. The page cache survives a process crash; the same restart after a cache drop (a machine
 *     crash) is measured too and reported beside it.
 * Writes bench/results/startup.json with PASS/MISS per target.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Producer } from '../src/client/index.js';
import { setLogLevel } from '../src/common/log.js';
import { RemotingClient } from '../src/remoting/client.js';
import { ResponseCode } from '../src/remoting/codes.js';
import { dropCaches, freeBytes } from './support/disk.js';
import { fillStore } from './support/fill-store.js';
import {
  brokerReady,
  freePort,
  pollUntil,
  routeReady,
  spawnStart,
  stopChild,
  type TsrocketChild,
} from './support/process.js';
import { check, fmtMiB, mib, writeResults } from './support/report.js';
import { createTopic, pullRaw } from './support/wire.js';

setLogLevel('warn');
const { values: a } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'log-gib': { type: 'string', default: '10' },
    'body-bytes': { type: 'string', default: '1024' },
    queues: { type: 'string', default: '8' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'cpu-prof-dir': { type: 'string' },
  },
});
const topic = 'StartupBench';
const group = 'startup_bench_reader';
const emptyTargetMs = 500;
const crashTargetMs = 10_000;
const readyTimeoutMs = 120_000;
const gib = 1024 * mib;

const parent = path.resolve(a.dir ?? os.tmpdir());
await mkdir(parent, { recursive: true });
const root = await mkdtemp(path.join(parent, 'tsrocket-startup-'));
const rc = new RemotingClient({ requestTimeoutMsDefault: 5000 });
const children: TsrocketChild[] = [];
const profArgs =
  a['cpu-prof-dir'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(a['cpu-prof-dir'])];

async function spawn(dataDir: string, nodeArgs: string[] = []): Promise<TsrocketChild> {
  const c = spawnStart({
    dataDir,
    logFile: path.join(root, 'tsrocket.log'),
    namesrvPort: await freePort(),
    brokerPort: await freePort(),
    nodeArgs,
  });
  children.push(c);
  return c;
}

/** ms from spawn until the NameServer routes TBW102 (broker registered) and the broker answers. */
async function readyMs(c: TsrocketChild): Promise<number> {
  const [ns, br] = await Promise.all([
    pollUntil(() => routeReady(rc, c.namesrvAddr, 'TBW102'), readyTimeoutMs, 'namesrv'),
    pollUntil(() => brokerReady(rc, c.brokerAddr, 'TBW102'), readyTimeoutMs, 'broker'),
  ]);
  return Math.max(ns, br) - c.spawnedAt;
}

/** ms from spawn until a pull at `offset` of `queueId` returns the record carrying `marker`. */
async function pullReadyMs(c: TsrocketChild, queueId: number, offset: bigint, marker: Buffer): Promise<number> {
  const at = await pollUntil(
    async () => {
      try {
        const r = await pullRaw(rc, c.brokerAddr, { group, topic, queueId, offset, maxMsgNums: 1 });
        return r.code === ResponseCode.SUCCESS && r.body !== undefined && r.body.includes(marker);
      } catch {
        rc.closeConnection(c.brokerAddr);
        return false;
      }
    },
    readyTimeoutMs,
    'pull of the last message',
  );
  return at - c.spawnedAt;
}

/** The broker's own "store recovered" log line fields from the last start. */
async function lastRecoveryLine(): Promise<string> {
  const text = await readFile(path.join(root, 'tsrocket.log'), 'utf8').catch(() => '');
  const lines = text.split('\n').filter((l) => l.includes('store recovered'));
  return (lines.pop() ?? '').replace(/^.*store recovered\s*/, '');
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;

try {
  // 1. Empty store.
  const emptyRuns: number[] = [];
  for (let i = 0; i < Number(a.runs); i++) {
    const c = await spawn(path.join(root, `empty-${i}`));
    emptyRuns.push(await readyMs(c));
    await stopChild(c, 'SIGTERM');
  }
  console.log(`empty start: ${emptyRuns.map((ms) => ms.toFixed(0)).join(', ')} ms`);

  // 2. Crash restart with a big log.
  const logBytes = Math.round(Number(a['log-gib']) * gib);
  const free = freeBytes(parent) ?? 0;
  if (logBytes * 1.1 + 2 * gib > free)
    throw new Error(`need ~${fmtMiB(logBytes * 1.1)} free under ${parent}, have ${fmtMiB(free)}`);
  const dataDir = path.join(root, 'big');
  let c = await spawn(dataDir);
  await readyMs(c);
  await createTopic(rc, c.brokerAddr, topic, Number(a.queues));
  await stopChild(c, 'SIGTERM');
  const fill = await fillStore({
    storePathRootDir: path.join(dataDir, 'broker'),
    topic,
    queues: Number(a.queues),
    bodyBytes: Number(a['body-bytes']),
    targetBytes: logBytes,
    onProgress: (b) => console.log(`fill: ${fmtMiB(b)}`),
  });
  const fillMiBps = fill.logBytes / mib / (fill.ms / 1000);
  console.log(`filled ${fmtMiB(fill.logBytes)} (${fill.messages} msgs) at ${fillMiBps.toFixed(0)} MiB/s`);

  c = await spawn(dataDir);
  const cleanMs = await readyMs(c);
  const cleanRecovery = await lastRecoveryLine();
  console.log(`clean start on the big log: ${cleanMs.toFixed(0)} ms (${cleanRecovery})`);
  await pollUntil(() => routeReady(rc, c.namesrvAddr, topic), readyTimeoutMs, `route of ${topic}`);
  const producer = new Producer({ nameServer: c.namesrvAddr, retryTimesWhenSendFailed: 0 });
  await producer.start();
  const marker = Buffer.from(`last-${process.pid}-${Date.now()}`);
  const sent = await producer.send({ topic, body: marker });
  await producer.shutdown();
  const { queueId } = sent.messageQueue;
  c.child.kill('SIGKILL');
  await c.exited;

  c = await spawn(dataDir, profArgs);
  const crashMs = await pullReadyMs(c, queueId, sent.queueOffset, marker);
  const crashRecovery = await lastRecoveryLine();
  console.log(`crash restart → pull of the last message: ${crashMs.toFixed(0)} ms (${crashRecovery})`);

  // Same again with the page cache dropped, as after a machine crash.
  c.child.kill('SIGKILL');
  await c.exited;
  const dropped = await dropCaches();
  c = await spawn(dataDir);
  const coldMs = await pullReadyMs(c, queueId, sent.queueOffset, marker);
  const coldRecovery = await lastRecoveryLine();
  console.log(`crash restart, cold cache (dropped=${dropped}): ${coldMs.toFixed(0)} ms (${coldRecovery})`);
  await stopChild(c, 'SIGTERM');

  const rows = [
    check(
      'empty start → namesrv + broker answer',
      `${median(emptyRuns).toFixed(0)} ms median of ${emptyRuns.length} (max ${Math.max(...emptyRuns).toFixed(0)})`,
      '< 500 ms',
      median(emptyRuns) < emptyTargetMs,
    ),
    check(
      `crash restart (${a['log-gib']} GiB log) → pull of last message`,
      `${crashMs.toFixed(0)} ms (cold cache ${coldMs.toFixed(0)} ms)`,
      '< 10000 ms',
      crashMs < crashTargetMs,
    ),
  ];
  const file = await writeResults('startup', rows, {
    params: a,
    emptyStartMs: emptyRuns,
    fill: { ...fill, mibPerSec: fillMiBps },
    cleanStartBigLogMs: cleanMs,
    cleanRecovery,
    crashRestartMs: crashMs,
    crashRecovery,
    crashRestartColdCacheMs: coldMs,
    coldCacheDropped: dropped,
    coldRecovery,
  });
  console.log(`wrote ${file}`);
} finally {
  for (const c of children) await stopChild(c, 'SIGKILL');
  await rc.close();
  if (!a.keep) await rm(root, { recursive: true, force: true });
  else console.log(`kept ${root}`);
}
process.exit(0);
