/**
 * `npm run bench:peers`: the same workloads against tsrocket, NATS JetStream, RabbitMQ and Redis Streams in one
 * run, each in its idiomatic and its best client modes, each server started here on 127.0.0.1 with its own temp
 * dir, plus the machine's limits; `--runs n` repeats the whole run. Writes bench/results/peers.json and peers.svg
 * and prints tables (rate and CPU per message), ratios and PASS/MISS per target.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setLogLevel } from '../../src/common/log.js';
import { measureHardware } from './hardware.js';
import { natsPeer } from './nats.js';
import { type HarnessOptions, parseOptions, usage } from './options.js';
import type { Peer } from './peer.js';
import { installExitHandlers, setServerPageCache } from './processes.js';
import { rabbitmqPeer } from './rabbitmq.js';
import { redisPeer } from './redis.js';
import { renderReport, renderSummary } from './report.js';
import type { HardwareLimits, Measurement, SkippedPeer } from './results.js';
import { renderChart } from './svg.js';
import {
  evaluateTargets,
  hardwareRatios,
  peerRatios,
  type Ratio,
  summarizeTargets,
  type TargetResult,
} from './targets.js';
import { type TsrocketSession, tsrocketPeer } from './tsrocket.js';
import { runAsyncExtras, runSyncFlush } from './tsrocket-extra.js';
import { runCommon } from './workloads.js';

const allPeers: Peer[] = [tsrocketPeer, natsPeer, rabbitmqPeer, redisPeer];
const note = (line: string) => process.stdout.write(`  ${line}\n`);
/** The memory state every server writes into (setServerPageCache), named in each row. */
let memoryState = '';

function installMissing(peers: readonly Peer[]): void {
  const pkgs = peers.filter((p) => p.unavailable() !== undefined).flatMap((p) => p.aptPackages ?? []);
  if (pkgs.length === 0) return;
  note(`apt-get install -y ${pkgs.join(' ')}`);
  // Package scripts must not start the system services: policy-rc.d 101 forbids it for this install.
  spawnSync('apt-get', ['update'], { stdio: 'inherit' });
  spawnSync('apt-get', ['install', '-y', ...pkgs], { stdio: 'inherit', env: { ...process.env, RUNLEVEL: '1' } });
}

async function runPeer(peer: Peer, opts: HarnessOptions, root: string): Promise<Measurement[]> {
  const dir = await fs.mkdtemp(path.join(root, `${peer.name}-`));
  const t0 = performance.now();
  const started = await peer.start(dir, opts);
  note(`${peer.name} started in ${((performance.now() - t0) / 1000).toFixed(1)} s (${dir})`);
  try {
    const ms = await runCommon(peer.name, started.session, started.serverGroups, opts, note);
    if (peer === tsrocketPeer) {
      ms.push(...(await runAsyncExtras(started.session as TsrocketSession, started.serverGroups, opts, note)));
    }
    return ms.map((m) => ({ memory: memoryState, ...m }));
  } finally {
    await started.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

interface RunResult {
  run: number;
  hardware: HardwareLimits | undefined;
  skipped: SkippedPeer[];
  measurements: Measurement[];
  ratios: Ratio[];
  hardwareRatios: Ratio[];
  targets: TargetResult[];
}

/** One whole run: the machine's limits, then every system one after another, then tsrocket SYNC_FLUSH. */
async function runOnce(run: number, peers: readonly Peer[], opts: HarnessOptions): Promise<RunResult> {
  const root = await fs.mkdtemp(path.join(opts.dir, 'tsrocket-peers-'));
  const measurements: Measurement[] = [];
  const skipped: SkippedPeer[] = [];
  let hw: HardwareLimits | undefined;
  try {
    hw = await measureHardware(root, opts.scale);
    note(
      `hardware: seq write ${hw.seqWriteMiBps.toFixed(0)} MiB/s, fdatasync ${hw.fdatasyncPerSec.toFixed(0)}/s, loopback ${hw.loopbackMiBps.toFixed(0)} MiB/s`,
    );
    for (const peer of peers) {
      const why = peer.unavailable();
      if (why !== undefined) {
        skipped.push({ system: peer.name, reason: `${why} (run with --install)` });
        note(`skip ${peer.name}: ${why}`);
        continue;
      }
      try {
        measurements.push(...(await runPeer(peer, opts, root)));
      } catch (err) {
        skipped.push({ system: peer.name, reason: `failed: ${(err as Error).message}` });
        note(`skip ${peer.name}: ${(err as Error).stack ?? err}`);
      }
    }
    if (opts.peers.includes('tsrocket')) {
      const dir = await fs.mkdtemp(path.join(root, 'tsrocket-sync-'));
      measurements.push(...(await runSyncFlush(dir, opts, note)).map((m) => ({ memory: memoryState, ...m })));
    }
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
  return {
    run,
    hardware: hw,
    skipped,
    measurements,
    ratios: peerRatios(measurements),
    hardwareRatios: hw === undefined ? [] : hardwareRatios(measurements, hw),
    targets: evaluateTargets(measurements, hw),
  };
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2), process.env);
  if (parsed === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const opts = parsed;
  setLogLevel('warn');
  installExitHandlers();
  const peers = allPeers.filter((p) => opts.peers.includes(p.name));
  if (opts.install) installMissing(peers);
  const memory = setServerPageCache(opts.pageCacheMiB);
  memoryState = memory.state;
  if (memory.skipped !== undefined) process.stdout.write(`${memory.skipped}\n`);
  process.stdout.write(`memory state of every server: ${memory.state}\n`);
  process.stdout.write(
    `bench:peers scale ${opts.scale}: ${opts.count} msgs per workload and mode, window ${opts.window} (best modes ${opts.bestWindow}), e2e ${opts.e2eRate}/s × ${opts.e2eSeconds} s, sync ${opts.syncSeconds} s, ${opts.runs} run(s)\n`,
  );
  const runs: RunResult[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    if (opts.runs > 1) process.stdout.write(`run ${run}/${opts.runs}\n`);
    const r = await runOnce(run, peers, opts);
    runs.push(r);
    process.stdout.write(
      `\n${opts.runs > 1 ? `run ${run}:\n` : ''}${renderReport(r.measurements, r.hardware, r.skipped, r.ratios, r.hardwareRatios, r.targets)}`,
    );
  }
  const summary = summarizeTargets(runs.map((r) => r.targets));
  process.stdout.write(`\n${renderSummary(summary)}`);
  await fs.mkdir(opts.out, { recursive: true });
  const result = {
    date: new Date().toISOString(),
    options: opts,
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    memory: { state: memory.state, skipped: memory.skipped },
    peers: peers.map((p) => ({ name: p.name, config: p.config })),
    targets: summary,
    runs,
  };
  await fs.writeFile(path.join(opts.out, 'peers.json'), `${JSON.stringify(result, null, 2)}\n`);
  const last = runs[runs.length - 1]?.measurements ?? [];
  await fs.writeFile(
    path.join(opts.out, 'peers.svg'),
    renderChart(
      last.filter((m) => m.workload !== 'batch-1k-MiB').map((m) => ({ ...m, system: `${m.system} ${m.mode}` })),
      `tsrocket vs peers (scale ${opts.scale}${opts.runs > 1 ? `, run ${opts.runs} of ${opts.runs}` : ''})`,
    ),
  );
  process.stdout.write(`wrote ${path.join(opts.out, 'peers.json')} and peers.svg\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:peers failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
