/**
 * Fairness benchmark (`npm run bench:fairness`): a `tsrocket start` child on loopback; a well-behaved producer
 * sends small sync messages one at a time, first alone, then while `--flooders` connections keep `--inflight`
 * 4 KiB sends outstanding each (from one child process at the lowest CPU priority, `--flood-nice`, standing in
 * for producers on other hosts). Reports the polite producer's p99 under the flood as a ratio
 * to its p99 alone (target ≤ 3 ×), broker RSS (target ≤ 512 MiB throughout, sampled every 250 ms), route-query and
 * heartbeat latencies, the flood's answers by code, and checks that every accepted flood message is stored
 * (sum of the queues' max offsets = SEND_OK answers). Writes bench/results/fairness.json with PASS/MISS.
 */

import { spawn } from 'node:child_process';
import { openSync, readSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Producer } from '../src/client/index.js';
import { setLogLevel } from '../src/common/log.js';
import { RemotingClient } from '../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../src/remoting/codes.js';
import { createRequest } from '../src/remoting/command.js';
import { decodeOffsetResponseHeader, encodeQueueHeader } from '../src/remoting/protocol/offsets.js';
import type { FloodOptions, FloodResult } from './support/flood.js';
import { type BrokerSplitFile, installSplit, stamp } from './support/latency-split.js';
import {
  brokerReady,
  cpuUs,
  freePort,
  pollUntil,
  RssSampler,
  routeReady,
  serverPid,
  spawnStart,
  stopChild,
} from './support/process.js';
import { check, fmtMiB, mib, writeResults } from './support/report.js';
import { fmtSched, type SchedTimes, schedDelta, schedTimes } from './support/schedstat.js';
import { type BenchSide, fmtParts, gcSummary, matchParts, summarizeParts } from './support/split-report.js';
import { fmtTail, type GcPause, type PoliteSend, summarizeTail, type TailSummary } from './support/tail.js';
import { fmtTurns, summarizeTurns, type TurnsFile, type TurnsSummary } from './support/turns.js';
import { fmtWaits, summarizeWaits } from './support/turns-waits.js';
import { createTopic } from './support/wire.js';

setLogLevel('warn');
const { values: a } = parseArgs({
  options: {
    flooders: { type: 'string', default: '8' },
    inflight: { type: 'string', default: '2000' },
    'body-bytes': { type: 'string', default: '4096' },
    'polite-bytes': { type: 'string', default: '128' },
    'polite-gap-ms': { type: 'string', default: '10' },
    'alone-s': { type: 'string', default: '5' },
    'flood-s': { type: 'string', default: '10' },
    queues: { type: 'string', default: '8' },
    'flood-nice': { type: 'string', default: '19' },
    /** A broker.conf for the child (e.g. other sendInFlight… settings). */
    config: { type: 'string', short: 'c' },
    /** Node/V8 flags for the broker process, space-separated (e.g. "--single-threaded-gc"), for A/B runs. */
    'node-args': { type: 'string' },
    dir: { type: 'string' },
    /** Split each polite send's latency into client, wire and broker parts (timestamps on both sides; see support/latency-split.ts). */
    split: { type: 'boolean', default: false },
    /** The broker's long-turn probe period (support/turns-preload.ts); 0 turns it off. */
    'turn-probe-ms': { type: 'string', default: '2' },
    /** Period of the sampler naming the broker main thread's kernel waits (support/turns-waits.ts); 0 turns it off. */
    'wait-sample-ms': { type: 'string', default: '2' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (a.help) {
  console.log(`usage: node dist/bench/fairness.js [options]
  --flooders <n>        flooding connections (default 8)
  --inflight <n>        sends outstanding per flooding connection (default 2000)
  --body-bytes <n>      flood message size (default 4096)
  --polite-bytes <n>    polite message size (default 128)
  --polite-gap-ms <ms>  pause between polite sends (default 10)
  --alone-s <s>         polite producer alone (default 5)
  --flood-s <s>         polite producer during the flood (default 10)
  --queues <n>          queues of the flood topic (default 8)
  --flood-nice <n>      nice level of the flooding process (default 19)
  -c, --config <file>   a broker.conf for the child (e.g. commitLogAllocateSegments=false)
  --node-args "<flags>" Node/V8 flags for the broker process
  --dir <path>          where the data dir goes (default os tmpdir)
  --split               split each polite send's latency into client, wire and broker parts
  --turn-probe-ms <ms>  the broker's long-turn probe period, 0 = off (default 2)
  --wait-sample-ms <ms> the kernel-wait sampler's period, 0 = off (default 2)
Target: polite p99 flooded / alone ≤ 3 ×, broker RSS ≤ 512 MiB; results in bench/results/fairness.json.`);
  process.exit(0);
}
const num = (k: keyof typeof a) => Number(a[k]);
const floodTopic = 'FairFlood';
const politeTopic = 'FairPolite';
const rssLimitBytes = 512 * mib;
const ratioTarget = 3;
const probePeriodMs = 50;

const root = await mkdtemp(path.join(path.resolve(a.dir ?? os.tmpdir()), 'tsrocket-fairness-'));
const splitFile = path.join(root, 'split-broker.json');
const splitPreload = `${new URL('./support/split-preload.js', import.meta.url).href}?out=${encodeURIComponent(splitFile)}`;
const turnsFile = path.join(root, 'turns-broker.json');
const turnProbeMs = Number(a['turn-probe-ms']);
const turnsPreload = `${new URL('./support/turns-preload.js', import.meta.url).href}?out=${encodeURIComponent(turnsFile)}&probeMs=${turnProbeMs}&waitMs=${Number(a['wait-sample-ms'])}`;
const nodeArgs = [
  ...(a['node-args'] ?? '').split(' ').filter((x) => x !== ''),
  ...(a.split ? ['--import', splitPreload] : []),
  ...(turnProbeMs > 0 ? ['--import', turnsPreload] : []),
];
/** Epoch ms at the start and end of the measured phases, to split the broker's long turns by phase. */
const phaseMs = { alone: [0, 0], flooded: [0, 0] };
let resultsFile: string | undefined;
/** The polite sends per phase, for the tail's parts. */
const politeSends = { alone: [] as PoliteSend[], flooded: [] as PoliteSend[] };
const split = a.split ? installSplit() : undefined;
const benchSides = { alone: [] as BenchSide[], flooded: [] as BenchSide[] };
const broker = spawnStart({
  dataDir: path.join(root, 'data'),
  logFile: path.join(root, 'broker.log'),
  namesrvPort: await freePort(),
  brokerPort: await freePort(),
  ...(nodeArgs.length === 0 ? {} : { nodeArgs }),
  ...(a.config === undefined ? {} : { configFile: path.resolve(a.config) }),
});
let rss = new RssSampler(broker.pid);
const rc = new RemotingClient({ requestTimeoutMsDefault: 30_000 });
const probes = new RemotingClient({ requestTimeoutMsDefault: 30_000 });
const producer = new Producer({ nameServer: broker.namesrvAddr, sendTimeoutMs: 30_000, retryTimesWhenSendFailed: 0 });

interface Latencies {
  ms: number[];
  /** Per send: epoch ms at its call and this process's event-loop run-queue wait during it (for the tail's parts). */
  sends: PoliteSend[];
  failed: number;
  firstFailure: string | undefined;
}
const latencies = (): Latencies => ({ ms: [], sends: [], failed: 0, firstFailure: undefined });

/** This process's event-loop thread's run-queue wait so far, ms (/proc/thread-self/schedstat; 0 elsewhere). */
const benchSchedFd = (() => {
  try {
    return openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return undefined;
  }
})();
const benchSchedBuf = Buffer.alloc(128);
function benchWaitMs(): number {
  if (benchSchedFd === undefined) return 0;
  const n = readSync(benchSchedFd, benchSchedBuf, 0, benchSchedBuf.length, 0);
  return Number(benchSchedBuf.toString('latin1', 0, n).split(' ')[1]) / 1e6;
}
/** This process's GC pauses (the polite producer's side of the tail). */
const benchGc: GcPause[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    benchGc.push([
      performance.timeOrigin + e.startTime,
      e.duration,
      (e as { detail?: { kind?: number } }).detail?.kind ?? 0,
    ]);
  }
}).observe({ entryTypes: ['gc'] });

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}
const summary = (l: Latencies) => ({
  n: l.ms.length,
  failed: l.failed,
  firstFailure: l.firstFailure,
  p50Ms: pct(l.ms, 50),
  p99Ms: pct(l.ms, 99),
  maxMs: pct(l.ms, 100),
});
const fmt = (l: Latencies) => {
  const s = summary(l);
  return `n=${s.n} p50 ${s.p50Ms.toFixed(2)} ms, p99 ${s.p99Ms.toFixed(2)} ms, max ${s.maxMs.toFixed(2)} ms, failed ${s.failed}`;
};

/** Runs `op` every `gapMs` (one at a time) until `untilMs`, recording each latency. */
async function timedLoop(untilMs: number, gapMs: number, out: Latencies, op: () => Promise<void>): Promise<void> {
  while (performance.now() < untilMs) {
    const w0 = benchWaitMs();
    const t0 = performance.now();
    try {
      await op();
      const ms = performance.now() - t0;
      out.ms.push(ms);
      out.sends.push({ atMs: performance.timeOrigin + t0, ms, benchWaitMs: benchWaitMs() - w0 });
    } catch (err) {
      out.failed++;
      out.firstFailure ??= (err as Error).message;
    }
    await sleep(gapMs);
  }
}

const heartbeatBody = Buffer.from(
  JSON.stringify({
    clientID: 'fairness-probe@1',
    producerDataSet: [{ groupName: 'fairness_probe' }],
    consumerDataSet: [],
  }),
);
async function expectOk(addr: string, code: number, fields: Record<string, string> | undefined, body?: Buffer) {
  const resp = await probes.invoke(addr, createRequest(code, fields, body));
  if (resp.code !== ResponseCode.SUCCESS) throw new Error(`code ${resp.code}: ${resp.remark}`);
}

/** The polite producer, route queries to the NameServer and heartbeats to the broker, side by side. */
async function measure(ms: number, sides?: BenchSide[]) {
  const until = performance.now() + ms;
  const polite = latencies();
  const route = latencies();
  const heartbeat = latencies();
  const body = Buffer.alloc(num('polite-bytes'), 0x70);
  await Promise.all([
    timedLoop(until, num('polite-gap-ms'), polite, async () => {
      const call = split === undefined ? undefined : stamp();
      await producer.send({ topic: politeTopic, body });
      if (call !== undefined) sides?.push({ call, done: stamp() });
    }),
    timedLoop(until, probePeriodMs, route, () =>
      expectOk(broker.namesrvAddr, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: politeTopic }),
    ),
    timedLoop(until, probePeriodMs, heartbeat, () =>
      expectOk(broker.brokerAddr, RequestCode.HEART_BEAT, undefined, heartbeatBody),
    ),
  ]);
  return { polite, route, heartbeat };
}

/** Starts the flood child (lowest CPU priority); `done` resolves with one FloodResult per flooder. */
function startFlood(o: FloodOptions & { flooders: number }): { pid: number | undefined; done: Promise<FloodResult[]> } {
  const child = spawn(
    process.execPath,
    [new URL('./support/flood-child.js', import.meta.url).pathname, JSON.stringify(o)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (child.pid !== undefined) os.setPriority(child.pid, num('flood-nice'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<FloodResult[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        resolve(JSON.parse(out) as FloodResult[]);
      } catch {
        reject(new Error(`flood child exited with ${code} and printed ${JSON.stringify(out.slice(0, 200))}`));
      }
    });
  });
  return { pid: child.pid, done };
}

/** CPU and run-queue wait of the broker, this process (the polite producer) and the flood child over a phase. */
async function schedNow(pids: { broker: number; flood?: number | undefined }) {
  return {
    broker: await schedTimes(pids.broker),
    polite: await schedTimes(process.pid),
    flood: pids.flood === undefined ? undefined : await schedTimes(pids.flood),
  };
}
type SchedNow = Awaited<ReturnType<typeof schedNow>>;
function schedPhase(before: SchedNow, after: SchedNow): Record<keyof SchedNow, SchedTimes | undefined> {
  return {
    broker: schedDelta(before.broker, after.broker),
    polite: schedDelta(before.polite, after.polite),
    flood: schedDelta(before.flood, after.flood),
  };
}

/** CPU µs of the event loop's thread (the main thread, /proc/<pid>/task/<pid>/stat) of `pid`. */
async function mainThreadCpuUs(pid: number): Promise<number | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    // USER_HZ is 100 on every Linux this runs on.
    return Number.isFinite(ticks) ? ticks * 1e4 : undefined;
  } catch {
    return undefined;
  }
}

/** The serving process's CPU (all threads, and the event loop's thread alone), µs. */
async function cpuNow(pid: number): Promise<{ allUs: number; mainUs: number }> {
  return { allUs: (await cpuUs(pid)) ?? Number.NaN, mainUs: (await mainThreadCpuUs(pid)) ?? Number.NaN };
}

async function storedMessages(topic: string, queues: number): Promise<number> {
  let total = 0n;
  for (let queueId = 0; queueId < queues; queueId++) {
    const resp = await rc.invoke(
      broker.brokerAddr,
      createRequest(RequestCode.GET_MAX_OFFSET, encodeQueueHeader({ topic, queueId })),
    );
    total += decodeOffsetResponseHeader(resp) ?? 0n;
  }
  return Number(total);
}

try {
  await pollUntil(() => routeReady(rc, broker.namesrvAddr, 'TBW102'), 30_000, 'namesrv route');
  await pollUntil(() => brokerReady(rc, broker.brokerAddr, 'TBW102'), 30_000, 'broker');
  // The broker's own process (with nodeFlags, the child of a launcher).
  const servingPid = await serverPid(broker.pid);
  rss = new RssSampler(servingPid);
  rss.start(250);
  await createTopic(rc, broker.brokerAddr, floodTopic, num('queues'));
  await createTopic(rc, broker.brokerAddr, politeTopic, 4);
  await pollUntil(() => routeReady(rc, broker.namesrvAddr, politeTopic), 60_000, `route of ${politeTopic}`);
  await producer.start();
  await measure(1000); // warm-up: connections, route cache, JIT

  const loadBefore = os.loadavg()[0] as number;
  rss.enter('alone');
  const schedAloneBefore = await schedNow({ broker: servingPid });
  phaseMs.alone[0] = Date.now();
  const alone = await measure(num('alone-s') * 1000, benchSides.alone);
  phaseMs.alone[1] = Date.now();
  const schedAlone = schedPhase(schedAloneBefore, await schedNow({ broker: servingPid }));
  politeSends.alone = alone.polite.sends;
  console.log(`alone:      polite send ${fmt(alone.polite)}`);

  rss.enter('flood');
  const floodMs = num('flood-s') * 1000;
  const untilMs = Date.now() + floodMs;
  const cpuBefore = await cpuNow(servingPid);
  const flooding = startFlood({
    flooders: num('flooders'),
    brokerAddr: broker.brokerAddr,
    topic: floodTopic,
    queues: num('queues'),
    bodyBytes: num('body-bytes'),
    inflight: num('inflight'),
    untilMs,
    producerGroup: 'flood',
  });
  await sleep(500); // let the flood build up before measuring
  const schedFloodBefore = await schedNow({ broker: servingPid, flood: flooding.pid });
  phaseMs.flooded[0] = Date.now();
  const flooded = await measure(floodMs - 1000, benchSides.flooded);
  phaseMs.flooded[1] = Date.now();
  const schedFlood = schedPhase(schedFloodBefore, await schedNow({ broker: servingPid, flood: flooding.pid }));
  politeSends.flooded = flooded.polite.sends;
  const results = await flooding.done;
  const cpuAfter = await cpuNow(servingPid);
  rss.enter('after');
  await rss.sample();
  console.log(`flooded:    polite send ${fmt(flooded.polite)}`);
  console.log(`route query alone ${fmt(alone.route)}; flooded ${fmt(flooded.route)}`);
  console.log(`heartbeat   alone ${fmt(alone.heartbeat)}; flooded ${fmt(flooded.heartbeat)}`);
  const total = results.reduce(
    (t, r) => ({ ok: t.ok + r.ok, busy: t.busy + r.busy, other: t.other + r.other, errors: t.errors + r.errors }),
    { ok: 0, busy: 0, other: 0, errors: 0 },
  );
  const stored = await storedMessages(floodTopic, num('queues'));
  console.log(
    `flood: ${total.ok} SEND_OK, ${total.busy} SYSTEM_BUSY, ${total.other} other, ${total.errors} transport errors; ` +
      `${stored} stored; first busy remark: ${results.find((r) => r.firstBusyRemark)?.firstBusyRemark ?? '-'}`,
  );

  // What the flood cost the broker: a shorter turn trades some of this for the polite requests' wait.
  const floodCpu = {
    allS: (cpuAfter.allUs - cpuBefore.allUs) / 1e6,
    mainThreadS: (cpuAfter.mainUs - cpuBefore.mainUs) / 1e6,
    usPerSend: (cpuAfter.allUs - cpuBefore.allUs) / Math.max(1, total.ok),
    mainThreadUsPerSend: (cpuAfter.mainUs - cpuBefore.mainUs) / Math.max(1, total.ok),
  };
  console.log(
    `broker CPU during the flood: ${floodCpu.allS.toFixed(2)} s (event-loop thread ${floodCpu.mainThreadS.toFixed(2)} s), ` +
      `${floodCpu.usPerSend.toFixed(1)} µs (${floodCpu.mainThreadUsPerSend.toFixed(1)} µs) per accepted flood send`,
  );
  // Time runnable but not running: the share of the tail that is the CPU scheduler's, not the broker's turn.
  for (const [name, d] of Object.entries(schedFlood)) {
    const aloneD = schedAlone[name as keyof SchedNow];
    console.log(
      `sched ${name.padEnd(6)} alone: ${aloneD === undefined ? '-' : fmtSched(aloneD)}; flooded: ${fmtSched(d)}`,
    );
  }
  // A shared machine's load moves these figures more than the broker does: say what it was.
  const loadAfter = os.loadavg()[0] as number;
  console.log(`load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`);
  const p99Alone = summary(alone.polite).p99Ms;
  const p99Flood = summary(flooded.polite).p99Ms;
  const ratio = p99Flood / p99Alone;
  const rows = [
    check(
      'polite p99 flooded / alone',
      `${ratio.toFixed(2)} × (${p99Flood.toFixed(2)} / ${p99Alone.toFixed(2)} ms)`,
      `<= ${ratioTarget} ×`,
      ratio <= ratioTarget && flooded.polite.failed === 0,
    ),
    check('broker RSS max', fmtMiB(rss.maxBytes), '<= 512 MiB', rss.maxBytes <= rssLimitBytes),
    check('accepted flood messages stored', `${stored} / ${total.ok}`, 'all', stored === total.ok),
  ];
  const file = await writeResults('fairness', rows, {
    params: a,
    loadAverage1m: { before: loadBefore, after: loadAfter },
    alone: { polite: summary(alone.polite), route: summary(alone.route), heartbeat: summary(alone.heartbeat) },
    flooded: { polite: summary(flooded.polite), route: summary(flooded.route), heartbeat: summary(flooded.heartbeat) },
    flood: { ...total, stored, perFlooder: results, brokerCpu: floodCpu },
    rss: { maxBytes: rss.maxBytes, samples: rss.samples, byPhase: rss.byPhase() },
    sched: { alone: schedAlone, flooded: schedFlood },
  });
  console.log(`wrote ${file}`);
  resultsFile = file;
} finally {
  rss.stop();
  await producer.shutdown().catch(() => undefined);
  await rc.close();
  await probes.close();
  await stopChild(broker, 'SIGTERM');
  if (split !== undefined) await reportSplit(split.client);
  if (turnProbeMs > 0) await reportTurns(politeSends);
  await rm(root, { recursive: true, force: true });
}
process.exit(0);

/** The broker's long event-loop turns per phase (it wrote them when it stopped), added to fairness.json. */
async function reportTurns(sends: Record<'alone' | 'flooded', PoliteSend[]>): Promise<void> {
  let f: TurnsFile;
  try {
    f = JSON.parse(await readFile(turnsFile, 'utf8')) as TurnsFile;
  } catch (err) {
    console.log(`turns: no broker-side records (${(err as Error).message})`);
    return;
  }
  const out: Record<string, TurnsSummary> = {};
  const waits: Record<string, [string, number][]> = {};
  const tails: Record<string, TailSummary> = {};
  for (const phase of ['alone', 'flooded'] as const) {
    const [from, to] = phaseMs[phase] as [number, number];
    out[phase] = summarizeTurns(f, from, to);
    console.log(`broker turns ${phase.padEnd(7)}: ${fmtTurns(out[phase])}`);
    if (f.waits !== undefined) {
      waits[phase] = summarizeWaits(f.waits, from, to);
      console.log(`broker main thread in kernel waits ${phase.padEnd(7)} (ms, sampled): ${fmtWaits(waits[phase])}`);
    }
  }
  for (const phase of ['alone', 'flooded'] as const) {
    const t = summarizeTail(sends[phase], f.turns, f.waits, f.gc ?? [], benchGc, num('polite-gap-ms'));
    tails[phase] = t;
    const [l0, ...rest] = fmtTail(t, phaseMs[phase][0] as number);
    console.log(`polite tail ${phase.padEnd(7)}: ${l0}`);
    for (const l of rest) console.log(l);
  }
  const file = resultsFile;
  if (file === undefined) return;
  try {
    const results = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    results.brokerTurns = { probeMs: f.probeMs, ...out };
    if (f.waits !== undefined) results.brokerKernelWaitsMs = { periodMs: f.waits.periodMs, ...waits };
    results.politeTail = tails;
    await writeFile(file, JSON.stringify(results, null, 2));
  } catch (err) {
    console.log(`turns: fairness.json not updated (${(err as Error).message})`);
  }
}

/** The parts of the polite sends' latency, alone and flooded (the broker wrote its side when it stopped). */
async function reportSplit(client: Parameters<typeof matchParts>[1]): Promise<void> {
  let brokerSide: BrokerSplitFile;
  try {
    brokerSide = JSON.parse(await readFile(splitFile, 'utf8')) as BrokerSplitFile;
  } catch (err) {
    console.log(`split: no broker-side records (${(err as Error).message})`);
    return;
  }
  const out: Record<string, unknown> = {};
  for (const phase of ['alone', 'flooded'] as const) {
    const sides = benchSides[phase];
    const s = summarizeParts(matchParts(sides, client, brokerSide.sends));
    const gc = gcSummary(brokerSide.gc, sides[0]?.call[0] ?? 0, sides.at(-1)?.done[0] ?? 0);
    out[phase] = { ...s, brokerGc: gc };
    const gcText = Object.entries(gc)
      .map(
        ([k, g]) =>
          `${k} ${g.n} × p50 ${g.p50Ms.toFixed(2)} ms, max ${g.maxMs.toFixed(1)} ms, total ${g.totalMs.toFixed(0)} ms`,
      )
      .join('; ');
    console.log(`split ${phase} (${s.n} sends matched); broker GC pauses: ${gcText || 'none'}`);
    console.log(`  ${fmtParts('around the median', s.median)}`);
    console.log(`  ${fmtParts(`slowest ${s.tailN}`, s.tail)}`);
  }
  const file = path.resolve('bench/results/fairness-split.json');
  await writeFile(file, JSON.stringify(out, null, 2));
  console.log(`wrote ${file}`);
}
