/**
 * Using more cores (`npm run bench:cores`, not in CI): produce 1 KiB messages and consume them from the backlog
 * with `tsrocket start` (one broker, in the NameServer's process) and `tsrocket start --brokers 2` (two broker
 * processes of one cluster), same client load for both: `--clients` load-generator processes (SDK Producer with
 * `--window` sends in flight each, then one PushConsumer group across them), the same total queue count (split
 * over the brokers), the same message count. Rounds alternate which configuration goes first; the ratios are
 * 2 brokers / 1 broker within each round. CPU per message from /proc for every process: each broker, the
 * NameServer process, and the clients — which share the machine's cores with the brokers (say so with any
 * figure). Writes bench/results/cores.json.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Admin } from '../src/client/admin/admin.js';
import { setLogLevel } from '../src/common/log.js';
import { parseProcStat } from './peers/cpu.js';
import type { CoresClientCommand, CoresClientReport } from './support/cores-client.js';
import { cliPath, freePort, nodeChildPids } from './support/process.js';
import { check, type TargetRow, writeResults } from './support/report.js';

setLogLevel('warn');
const { values: a } = parseArgs({
  options: {
    count: { type: 'string', default: '200000' },
    size: { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '2' },
    window: { type: 'string', default: '128' },
    /** Messages per send request (1 = single sends, which the SDK batches by itself). */
    batch: { type: 'string', default: '1' },
    queues: { type: 'string', default: '16' },
    /** Node flags of the tsrocket start process (its broker processes inherit them), e.g. --cpu-prof. */
    'node-args': { type: 'string', default: '' },
  },
});
const count = Number(a.count);
const bodyBytes = Number(a.size);
const rounds = Number(a.rounds);
const clients = Number(a.clients);
const window = Number(a.window);
const batch = Number(a.batch);
const queuesTotal = Number(a.queues);
const nodeArgs = a['node-args'].split(' ').filter((s) => s.length > 0);
const topic = 'CoresBench';
const clientPath = fileURLToPath(new URL('./support/cores-client.js', import.meta.url));
/** USER_HZ: 100 on every Linux build this runs on (what /proc/<pid>/stat counts in). */
const ticksPerSec = 100;

/** utime + stime of `pid` in µs (0 once it is gone). */
function cpuUs(pid: number): number {
  try {
    const s = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return s === undefined ? 0 : ((s.ticks - s.childTicks) * 1e6) / ticksPerSec;
  } catch {
    return 0;
  }
}

interface System {
  proc: ChildProcess;
  nameServer: string;
  /** Broker process ids (the start process itself for one broker). */
  brokerPids: number[];
  dir: string;
}

async function startSystem(brokers: number): Promise<System> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `tsrocket-cores-${brokers}-`));
  const conf = path.join(dir, 'broker.conf');
  // Smaller segments than the 1 GiB default: a short run does not allocate a huge first file.
  await writeFile(conf, 'mappedFileSizeCommitLog=268435456\n');
  const args = [...nodeArgs, cliPath, 'start', '--host', '127.0.0.1', '--data', path.join(dir, 'data')];
  args.push('--namesrv-port', String(await freePort()), '--broker-port', '0', '--no-grpc', '-c', conf);
  if (brokers > 1) args.push('--brokers', String(brokers));
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TSROCKET_LOG_LEVEL: 'info' },
  });
  // Info lines up to the ready line; later ones (the brokers' too) are read and dropped.
  const ready = await new Promise<string>((resolve, reject) => {
    let text = '';
    let done = false;
    proc.stdout?.on('data', (chunk: Buffer) => {
      if (done) return;
      text += chunk.toString();
      const m = /NameServer listening port=(\d+)/.exec(text);
      if (m !== null && /tsrocket started/.test(text)) {
        done = true;
        resolve(`127.0.0.1:${m[1]}`);
      }
    });
    proc.once('exit', (code) => reject(new Error(`tsrocket start exited with ${code}: ${text.slice(-2000)}`)));
  });
  const pid = proc.pid as number;
  const brokerPids = brokers > 1 ? await nodeChildPids(pid) : [pid];
  if (brokerPids.length !== brokers)
    throw new Error(`expected ${brokers} broker processes, found ${brokerPids.length}`);
  const admin = new Admin({ nameServer: ready, timeoutMs: 10_000 });
  try {
    const perBroker = queuesTotal / brokers;
    await admin.createOrUpdateTopic(
      { cluster: 'DefaultCluster' },
      { topicName: topic, readQueueNums: perBroker, writeQueueNums: perBroker },
    );
    for (let i = 0; i < 200; i++) {
      const route = await admin.topicRoute(topic).catch(() => undefined);
      if (route !== undefined && route.queueDatas.length === brokers) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await admin.close();
  }
  return { proc, nameServer: ready, brokerPids, dir };
}

async function stopSystem(s: System): Promise<void> {
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await exited;
  await rm(s.dir, { recursive: true, force: true });
}

class Client {
  readonly proc: ChildProcess;
  private waiters: Array<(r: CoresClientReport) => boolean> = [];
  last: Extract<CoresClientReport, { t: 'consumed' }> = { t: 'consumed', received: 0, firstAtMs: 0, lastAtMs: 0 };

  constructor() {
    this.proc = fork(clientPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    this.proc.on('message', (raw) => {
      const r = raw as CoresClientReport;
      if (r.t === 'consumed') this.last = r;
      this.waiters = this.waiters.filter((w) => !w(r));
    });
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  send(c: CoresClientCommand): void {
    this.proc.send(c);
  }

  next<T extends CoresClientReport['t']>(t: T): Promise<Extract<CoresClientReport, { t: T }>> {
    return new Promise((resolve) => {
      this.waiters.push((r) => {
        if (r.t !== t) return false;
        resolve(r as Extract<CoresClientReport, { t: T }>);
        return true;
      });
    });
  }
}

interface Phase {
  msgsPerSec: number;
  ms: number;
  messages: number;
  /** CPU µs per message of each broker process, of the NameServer-only start process (2 brokers), of the clients. */
  brokerCpuUsPerMsg: number[];
  /** Cores each broker process kept busy (CPU time / wall time): 1.0 = its event loop's whole core. */
  brokerCores: number[];
  namesrvCpuUsPerMsg: number | null;
  clientCpuUsPerMsg: number;
  /** Consume: each client process's count and first/last delivery, ms after the consumers were told to start. */
  perClient?: Array<{ received: number; firstMs: number; lastMs: number }>;
}

interface Run {
  brokers: number;
  round: number;
  produce: Phase;
  consume: Phase;
}

function cpuSnapshot(s: System, cs: readonly Client[]) {
  const namesrv = s.brokerPids.includes(s.proc.pid as number) ? undefined : (s.proc.pid as number);
  return {
    brokers: s.brokerPids.map(cpuUs),
    namesrv: namesrv === undefined ? null : cpuUs(namesrv),
    clients: cs.reduce((sum, c) => sum + cpuUs(c.pid), 0),
  };
}

/** `ms`: the phase's measured span; `cpuWindowMs`: the wall time between the two CPU snapshots. */
function phaseOf(
  before: ReturnType<typeof cpuSnapshot>,
  after: ReturnType<typeof cpuSnapshot>,
  n: number,
  ms: number,
  cpuWindowMs: number,
): Phase {
  const per = (us: number) => Math.round((us / n) * 100) / 100;
  return {
    msgsPerSec: Math.round((n * 1000) / ms),
    ms: Math.round(ms),
    messages: n,
    brokerCpuUsPerMsg: after.brokers.map((b, i) => per(b - (before.brokers[i] ?? 0))),
    brokerCores: after.brokers.map(
      (b, i) => Math.round(((b - (before.brokers[i] ?? 0)) / (cpuWindowMs * 1000)) * 100) / 100,
    ),
    namesrvCpuUsPerMsg: after.namesrv === null ? null : per(after.namesrv - (before.namesrv ?? 0)),
    clientCpuUsPerMsg: per(after.clients - before.clients),
  };
}

async function runOne(brokers: number, round: number): Promise<Run> {
  const s = await startSystem(brokers);
  const cs = Array.from({ length: clients }, () => new Client());
  try {
    const share = Math.floor(count / clients);
    let before = cpuSnapshot(s, cs);
    const t0 = performance.now();
    const produced = await Promise.all(
      cs.map((c) => {
        const done = c.next('produced');
        c.send({ t: 'produce', nameServer: s.nameServer, topic, count: share, bodyBytes, window, batch });
        return done;
      }),
    );
    const produceMs = performance.now() - t0;
    for (const p of produced) if (p.error !== undefined) throw new Error(`produce failed: ${p.error}`);
    const stored = produced.reduce((sum, p) => sum + p.acked, 0);
    const produce = phaseOf(before, cpuSnapshot(s, cs), share * clients, produceMs, produceMs);

    before = cpuSnapshot(s, cs);
    const t1 = performance.now();
    const group = `bench_cores_${brokers}_${round}`;
    for (const c of cs) c.send({ t: 'consume', nameServer: s.nameServer, topic, group });
    const deadline = performance.now() + 120_000;
    while (cs.reduce((sum, c) => sum + c.last.received, 0) < stored && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const after = cpuSnapshot(s, cs);
    const cpuWindowMs = performance.now() - t1;
    const stops = cs.map((c) => c.next('stopped'));
    for (const c of cs) c.send({ t: 'stop' });
    await Promise.all(stops);
    const received = cs.reduce((sum, c) => sum + c.last.received, 0);
    if (received < stored) throw new Error(`consumed ${received} of ${stored} within 120 s`);
    const first = Math.min(...cs.map((c) => c.last.firstAtMs).filter((t) => t > 0));
    const last = Math.max(...cs.map((c) => c.last.lastAtMs));
    const consume = phaseOf(before, after, received, Math.max(1, last - first), cpuWindowMs);
    const since = (t: number) => Math.round(t - (performance.timeOrigin + t1));
    consume.perClient = cs.map((c) => ({
      received: c.last.received,
      firstMs: since(c.last.firstAtMs),
      lastMs: since(c.last.lastAtMs),
    }));
    return { brokers, round, produce, consume };
  } finally {
    for (const c of cs) if (c.proc.exitCode === null) c.proc.kill('SIGTERM');
    await stopSystem(s);
  }
}

function line(r: Run, kind: 'produce' | 'consume'): string {
  const p = r[kind];
  const brokerCpu = p.brokerCpuUsPerMsg
    .map((b, i) => `${b.toFixed(2)} (${p.brokerCores[i]?.toFixed(2)} core)`)
    .join(' + ');
  const ns = p.namesrvCpuUsPerMsg === null ? '' : ` (namesrv ${p.namesrvCpuUsPerMsg.toFixed(2)})`;
  const sum = p.brokerCpuUsPerMsg.length > 1 ? ` = ${brokersCpu(p).toFixed(2)}` : '';
  return `${kind.padEnd(8)} ${String(r.brokers).padStart(7)}  ${String(p.msgsPerSec).padStart(8)}  ${(p.ms / 1000).toFixed(1).padStart(6)}  ${brokerCpu}${sum}${ns}  client ${p.clientCpuUsPerMsg.toFixed(2)}`;
}

/** Broker CPU µs per message, all broker processes together. */
function brokersCpu(p: Phase): number {
  return p.brokerCpuUsPerMsg.reduce((x, y) => x + y, 0);
}

/**
 * What the broker processes could carry with a core each and nothing else on it (msgs/s): every broker's event
 * loop is one thread, so `brokers` cores / broker CPU per message. Derived from measured CPU, not measured.
 */
function ceiling(r: Run, kind: 'produce' | 'consume'): number {
  return (r.brokers * 1e6) / brokersCpu(r[kind]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const cpus = os.cpus().length;
  process.stdout.write(
    `bench:cores: ${count} × ${bodyBytes} B per run, ${clients} client processes × window ${window}, ${queuesTotal} queues in all, ${rounds} round(s), ${cpus} CPUs, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const runs: Run[] = [];
  const ratios = { produce: [] as number[], consume: [] as number[] };
  const ceilingRatios = { produce: [] as number[], consume: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [1, 2] : [2, 1];
    const got = new Map<number, Run>();
    for (const brokers of order) {
      const r = await runOne(brokers, round);
      got.set(brokers, r);
      runs.push(r);
      const perClient = (r.consume.perClient ?? []).map((c) => `${c.received} in ${c.firstMs}–${c.lastMs} ms`);
      process.stdout.write(
        `round ${round + 1} ${line(r, 'produce')}\nround ${round + 1} ${line(r, 'consume')}\n` +
          `round ${round + 1} consumers: ${perClient.join(', ')}\n`,
      );
    }
    const one = got.get(1) as Run;
    const two = got.get(2) as Run;
    ratios.produce.push(two.produce.msgsPerSec / one.produce.msgsPerSec);
    ratios.consume.push(two.consume.msgsPerSec / one.consume.msgsPerSec);
    ceilingRatios.produce.push(ceiling(two, 'produce') / ceiling(one, 'produce'));
    ceilingRatios.consume.push(ceiling(two, 'consume') / ceiling(one, 'consume'));
    process.stdout.write(
      `round ${round + 1} ratio 2/1 brokers: produce ${ratios.produce.at(-1)?.toFixed(2)} ×, consume ${ratios.consume.at(-1)?.toFixed(2)} × (broker-thread ceiling: produce ${ceilingRatios.produce.at(-1)?.toFixed(2)} ×, consume ${ceilingRatios.consume.at(-1)?.toFixed(2)} ×), load ${os.loadavg()[0]?.toFixed(2)}\n`,
    );
  }
  process.stdout.write(
    '\nkind      brokers  msgs/s    s       broker CPU µs/msg (cores busy), each        client CPU µs/msg\n' +
      `${runs.flatMap((r) => [line(r, 'produce'), line(r, 'consume')]).join('\n')}\n` +
      `client and brokers share this machine's ${cpus} cores; CPU per message from /proc (utime + stime), each broker's\n` +
      'over every message of the run (the sum is what the broker tier spends per message); core = CPU time / wall time.\n' +
      'broker-thread ceiling = brokers × 1e6 / broker CPU µs per message: the rate with a free core per broker (derived).\n',
  );
  const p = median(ratios.produce);
  const c = median(ratios.consume);
  const pc = median(ceilingRatios.produce);
  const cc = median(ceilingRatios.consume);
  const rows: TargetRow[] = [
    // Measured on this machine, the clients on the same cores as the brokers: what a 2-core host gains.
    check('produce 1 KiB: 2 brokers vs 1, msgs/s (median of rounds)', `${p.toFixed(2)} ×`, '≥ 1.1 ×', p >= 1.1),
    check('consume from backlog: 2 brokers vs 1, msgs/s (median)', `${c.toFixed(2)} ×`, '≥ 1.1 ×', c >= 1.1),
    // Derived from the brokers' CPU per message: what a host with a free core per broker gains.
    check('produce broker-thread ceiling: 2 brokers vs 1 (derived)', `${pc.toFixed(2)} ×`, '≥ 1.5 ×', pc >= 1.5),
    check('consume broker-thread ceiling: 2 brokers vs 1 (derived)', `${cc.toFixed(2)} ×`, '≥ 1.5 ×', cc >= 1.5),
  ];
  const file = await writeResults('cores', rows, {
    params: { count, bodyBytes, rounds, clients, window, batch, queuesTotal, nodeArgs },
    ratios,
    ceilingRatios,
    runs,
  });
  process.stdout.write(`results: ${file}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:cores failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
