/**
 * New paths benchmark (`npm run bench:paths`, issue 15): one `tsrocket start` child (timerPrecisionMs 100) and, in
 * the same run, each new path as a ratio to its plain path, rounds alternated (plain, new, plain, new…) so the
 * machine's load hits both alike; the best round of each side is compared, per-round ratios are printed too.
 *  - timer (deliverTimeMs 1 s ahead) and delay level 1 (1 s): delivered per second from the first due instant to
 *    the last delivery at the consumer, vs plain sends per second (same Producer, 1 KiB, window); p99 lateness
 *    at the consumer; none early. Targets ≥ 50 % and ≤ 200 ms.
 *  - transactional send (TransactionProducer, executeLocal → COMMIT) vs plain sends; every committed message
 *    delivered. Target ≥ 33 %.
 * Writes bench/results/paths.json with PASS/MISS rows.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setLogLevel } from '../src/common/log.js';
import { RemotingClient } from '../src/remoting/client.js';
import { PathTopic, type TimedPath, TimedPaths, type TimedRun } from './support/paths-timed.js';
import { brokerReady, freePort, pollUntil, routeReady, spawnStart, stopChild } from './support/process.js';
import { check, type TargetRow, writeResults } from './support/report.js';
import { createTopic } from './support/wire.js';

setLogLevel('warn');
const { values: a } = parseArgs({
  options: {
    messages: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '2' },
    window: { type: 'string', default: '64' },
    'body-bytes': { type: 'string', default: '1024' },
    queues: { type: 'string', default: '8' },
    only: { type: 'string' },
    'node-args': { type: 'string' },
    dir: { type: 'string' },
  },
});
const rounds = Number(a.rounds);
const queues = Number(a.queues);
const only = a.only?.split(',');
const wanted = (name: string) => only === undefined || only.includes(name);
const targets = { timer: 0.5, lateMs: 200, transaction: 1 / 3 } as const;

const root = await mkdtemp(path.join(path.resolve(a.dir ?? os.tmpdir()), 'tsrocket-paths-'));
const conf = path.join(root, 'broker.conf');
await writeFile(conf, 'timerPrecisionMs=100\n');
const broker = spawnStart({
  dataDir: path.join(root, 'data'),
  logFile: path.join(root, 'broker.log'),
  namesrvPort: await freePort(),
  brokerPort: await freePort(),
  grpcPort: await freePort(),
  configFile: conf,
  nodeArgs: a['node-args']?.split(' ').filter((x) => x !== ''),
});
const rc = new RemotingClient({ requestTimeoutMsDefault: 5000 });
const rows: TargetRow[] = [];
const details: Record<string, unknown> = {
  config: { messages: Number(a.messages), rounds, window: Number(a.window), bodyBytes: Number(a['body-bytes']) },
};
const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

function printRun(r: TimedRun): void {
  const late =
    r.lateMsP99 === undefined ? '' : `, lateness p50 ${r.lateMsP50} p99 ${r.lateMsP99} max ${r.lateMsMax} ms`;
  console.log(
    `${r.path.padEnd(11)} round ${r.round}: sent ${r.messages} (${r.failed} failed) at ${r.sendPerSec}/s, ` +
      `delivered ${r.delivered} at ${r.deliveredPerSec}/s${late}, early ${r.early}, ` +
      `broker ${r.brokerCpuUsPerMsg} CPU-µs/msg; load ${load()}`,
  );
}

/** The best delivered rate (delayed paths) or send rate (others) of `p`'s runs. */
function bestRate(runs: TimedRun[], p: TimedPath): number {
  const delayed = p === 'timer' || p === 'delay';
  return Math.max(...runs.filter((r) => r.path === p).map((r) => (delayed ? r.deliveredPerSec : r.sendPerSec)));
}

/** Rows of one new path against both plain baselines (best round of each). */
function timedRows(runs: TimedRun[], p: Exclude<TimedPath, 'plain' | 'single'>): TargetRow[] {
  const mine = runs.filter((r) => r.path === p);
  const rate = bestRate(runs, p);
  const goal = p === 'transaction' ? targets.transaction : targets.timer;
  const what = {
    timer: 'timer (deliverTimeMs) delivery',
    delay: 'delay level 1 delivery',
    transaction: 'transactional send (half + COMMIT)',
  }[p];
  const lost = mine.reduce((n, r) => n + (r.messages - Math.min(r.messages, r.delivered)), 0);
  const out = (['single', 'plain'] as const).map((base) => {
    const ratio = rate / bestRate(runs, base);
    const label = base === 'single' ? 'plain single sends' : 'plain sends, auto-batched';
    return check(
      `${what} vs ${label}`,
      `${pct(ratio)} (${rate} vs ${bestRate(runs, base)} msg/s)`,
      `≥ ${pct(goal)}`,
      ratio >= goal,
    );
  });
  if (p === 'transaction') {
    out.push(check('committed transactional messages delivered', `${lost} missing`, '0 missing', lost === 0));
    return out;
  }
  const p99 = Math.max(...mine.map((r) => r.lateMsP99 ?? Number.NaN));
  const early = mine.reduce((n, r) => n + r.early, 0);
  out.push(
    check(
      `${what}: p99 lateness at the consumer (worst round)`,
      `${p99} ms`,
      `≤ ${targets.lateMs} ms`,
      p99 <= targets.lateMs,
    ),
    check(`${what}: early or missing`, `${early} early, ${lost} missing`, '0', early === 0 && lost === 0),
  );
  return out;
}

/**
 * Each round runs, for every new path, plain (auto-batched), plain single sends, then the path; a warm-up round
 * of a quarter of the messages comes first (not counted: the first sends run before the JIT warmed up).
 */
async function timedPaths(paths: Exclude<TimedPath, 'plain' | 'single'>[]): Promise<void> {
  const o = {
    namesrvAddr: broker.namesrvAddr,
    brokerPid: broker.pid,
    messages: Number(a.messages),
    window: Number(a.window),
    bodyBytes: Number(a['body-bytes']),
    drainMsMax: 60_000,
  };
  const t = new TimedPaths(o);
  await t.start();
  const runs: TimedRun[] = [];
  try {
    await t.warmUp(30_000);
    for (let round = 0; round <= rounds; round++) {
      t.messages = round === 0 ? Math.ceil(o.messages / 4) : o.messages;
      for (const p of paths) {
        for (const q of ['plain', 'single', p] as const) {
          const r = await t.run(q, round);
          printRun(r);
          if (round > 0) runs.push(r);
        }
      }
    }
  } finally {
    await t.shutdown();
  }
  details['timed'] = runs;
  for (const p of paths) rows.push(...timedRows(runs, p));
}

try {
  await pollUntil(() => routeReady(rc, broker.namesrvAddr, 'TBW102'), 60_000, 'namesrv route');
  await pollUntil(() => brokerReady(rc, broker.brokerAddr, 'TBW102'), 60_000, 'broker');
  for (const t of Object.values(PathTopic)) await createTopic(rc, broker.brokerAddr, t, queues);
  for (const t of Object.values(PathTopic)) await pollUntil(() => routeReady(rc, broker.namesrvAddr, t), 60_000, t);
  const timed = (['timer', 'delay', 'transaction'] as const).filter(wanted);
  if (timed.length > 0) await timedPaths(timed);
  const file = await writeResults('paths', rows, { ...details, loadAverageAtEnd: os.loadavg() });
  console.log(`results: ${file}`);
} finally {
  await rc.close();
  await stopChild(broker, 'SIGTERM');
  await rm(root, { recursive: true, force: true });
}
