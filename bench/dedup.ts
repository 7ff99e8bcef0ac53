/**
 * Producer de-duplication A/B (`npm run bench:dedup`): what the send path of a topic WITHOUT de-duplication pays
 * for the feature, and what a de-duplicated topic costs. In one process, a broker over a memory store (no disk: the
 * send path's CPU alone) and one loopback connection keeping `--window` SEND_MESSAGE_V2 in flight, 128-byte bodies,
 * a fresh UNIQ_KEY each, for `--seconds` per round.
 *
 * `--base-dist <dir>`: the `dist/` of a build without the feature (e.g. the commit before it, built elsewhere).
 * Rounds then alternate base / new on a plain topic, so machine load hits both alike; the new build also runs a
 * de-duplicated topic. Reports msg/s and process CPU µs per message (client and broker), medians per build.
 * Writes bench/results/dedup.json.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setLogLevel } from '../src/common/log.js';
import { encodeProperties } from '../src/common/properties.js';
import { RemotingClient } from '../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../src/remoting/codes.js';
import { createRequest } from '../src/remoting/command.js';
import { check, writeResults } from './support/report.js';

setLogLevel('warn');
const { values: a } = parseArgs({
  options: {
    'base-dist': { type: 'string' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '4' },
    window: { type: 'string', default: '64' },
  },
});
const seconds = Number(a.seconds);
const rounds = Number(a.rounds);
const window = Number(a.window);
const newDist = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

interface Target {
  name: string;
  addr: string;
  close: () => Promise<void>;
}

/** A broker of the build under `dist` (its own module graph), memory store, on an ephemeral loopback port. */
async function startBroker(name: string, dist: string, dir: string): Promise<Target> {
  const load = (p: string) => import(pathToFileURL(path.join(dist, p)).href);
  const { Broker } = await load('src/broker/broker.js');
  const { createMessageStore } = await load('src/store/index.js');
  const store = createMessageStore({ storePathRootDir: dir }, { kind: 'memory' });
  const broker = new Broker(
    { listenPort: 0, listenHost: '127.0.0.1', namesrvAddr: '', storePathRootDir: dir },
    {},
    { store },
  );
  await broker.start();
  return { name, addr: `127.0.0.1:${broker.port}`, close: () => broker.close() };
}

const rc = new RemotingClient();

async function createTopic(addr: string, topic: string, attributes?: string): Promise<void> {
  const fields: Record<string, string | number> = { topic, readQueueNums: 4, writeQueueNums: 4, perm: 6 };
  if (attributes !== undefined) fields['attributes'] = attributes;
  const r = await rc.invoke(addr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, fields), 5000);
  if (r.code !== ResponseCode.SUCCESS) throw new Error(`create ${topic}: ${r.remark}`);
}

let seq = 0;
const body = Buffer.alloc(128, 0x61);

/** Sends for `seconds` with `window` in flight; msg/s and CPU µs per message of this process. */
async function round(addr: string, topic: string): Promise<{ msgPerSec: number; cpuUsPerMsg: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  const one = async (): Promise<void> => {
    while (performance.now() < end) {
      const fields = {
        a: 'PID_bench',
        b: topic,
        c: 'TBW102',
        d: 4,
        e: -1,
        f: 0,
        g: Date.now(),
        h: 0,
        i: encodeProperties({ WAIT: 'true', UNIQ_KEY: `BENCH${process.pid}-${seq++}` }),
        j: 0,
        k: false,
      };
      const r = await rc.invoke(addr, createRequest(RequestCode.SEND_MESSAGE_V2, fields, body), 10_000);
      if (r.code !== ResponseCode.SUCCESS) throw new Error(`send: ${r.code} ${r.remark}`);
      sent++;
    }
  };
  await Promise.all(Array.from({ length: window }, one));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { msgPerSec: (sent * 1000) / ms, cpuUsPerMsg: (cpu.user + cpu.system) / sent };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length === 0 ? Number.NaN : (s[(s.length - 1) >> 1] as number);
};

const root = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-dedup-bench-'));
const targets: Target[] = [];
try {
  const fresh = await startBroker('new', newDist, path.join(root, 'new'));
  targets.push(fresh);
  await createTopic(fresh.addr, 'BenchPlain');
  await createTopic(fresh.addr, 'BenchDedup', '+dedup.window.ms=600000');
  let base: Target | undefined;
  if (a['base-dist'] !== undefined) {
    base = await startBroker('base', path.resolve(a['base-dist']), path.join(root, 'base'));
    targets.push(base);
    await createTopic(base.addr, 'BenchPlain');
  }
  // Warm-up: JIT both paths before measuring.
  await round(fresh.addr, 'BenchPlain');
  await round(fresh.addr, 'BenchDedup');
  if (base !== undefined) await round(base.addr, 'BenchPlain');

  const runs: Array<{ build: string; topic: string; msgPerSec: number; cpuUsPerMsg: number; loadavg1: number }> = [];
  const measure = async (build: string, addr: string, topic: string) => {
    const r = await round(addr, topic);
    runs.push({ build, topic, ...r, loadavg1: os.loadavg()[0] as number });
    console.log(
      `${build.padEnd(4)} ${topic.padEnd(10)} ${r.msgPerSec.toFixed(0)} msg/s  ${r.cpuUsPerMsg.toFixed(1)} µs/msg`,
    );
  };
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ['base', 'new'] : ['new', 'base'];
    for (const b of order) {
      if (b === 'base' && base !== undefined) await measure('base', base.addr, 'BenchPlain');
      if (b === 'new') await measure('new', fresh.addr, 'BenchPlain');
    }
    await measure('new', fresh.addr, 'BenchDedup');
  }
  const pick = (build: string, topic: string) => runs.filter((r) => r.build === build && r.topic === topic);
  const summary = (rs: typeof runs) => ({
    msgPerSec: median(rs.map((r) => r.msgPerSec)),
    cpuUsPerMsg: median(rs.map((r) => r.cpuUsPerMsg)),
  });
  const plainNew = summary(pick('new', 'BenchPlain'));
  const plainBase = summary(pick('base', 'BenchPlain'));
  const dedup = summary(pick('new', 'BenchDedup'));
  const rows = [
    check(
      'plain topic: new / base CPU per message',
      base === undefined ? 'no --base-dist' : `${(plainNew.cpuUsPerMsg / plainBase.cpuUsPerMsg).toFixed(3)}`,
      '≤ 1.05 (within noise)',
      base !== undefined && plainNew.cpuUsPerMsg <= plainBase.cpuUsPerMsg * 1.05,
    ),
    check(
      'de-duplicated topic: CPU per message vs plain (new build)',
      `${(dedup.cpuUsPerMsg / plainNew.cpuUsPerMsg).toFixed(3)}`,
      'informational',
      true,
    ),
  ];
  console.log({ plainBase, plainNew, dedup });
  const file = await writeResults('dedup', rows, {
    config: { seconds, rounds, window, bodyBytes: body.length, store: 'memory' },
    plainBase,
    plainNew,
    dedup,
    runs,
  });
  console.log(`results: ${file}`);
} finally {
  await rc.close();
  for (const t of targets) await t.close();
  await rm(root, { recursive: true, force: true });
}
