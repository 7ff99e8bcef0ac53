/**
 * A `tsrocket` child process for benchmarks: free ports, spawn with logs to a file, readiness polling over the
 * real wire (route request to the NameServer, a request to the broker), RSS and disk-read sampling from /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';

/** dist/src/cli/main.js, next to this compiled file's dist/bench/support/. */
export const cliPath = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const pollIntervalMs = 5;
const probeTimeoutMs = 1000;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface TsrocketChild {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly namesrvAddr: string;
  readonly brokerAddr: string;
  /** Resolves with the exit code or signal name when the process is gone. */
  readonly exited: Promise<string>;
  /** performance.now() just before spawn(). */
  readonly spawnedAt: number;
}

export interface SpawnOptions {
  dataDir: string;
  logFile: string;
  namesrvPort: number;
  brokerPort: number;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  configFile?: string;
  /** gRPC endpoint port (default: `start`'s own choice, 8081). */
  grpcPort?: number;
}

/** Spawns `node dist/src/cli/main.js start` (NameServer + Broker in one process). */
export function spawnStart(o: SpawnOptions): TsrocketChild {
  const args = [
    ...(o.nodeArgs ?? []),
    cliPath,
    'start',
    '--host',
    '127.0.0.1',
    '--data',
    o.dataDir,
    '--namesrv-port',
    String(o.namesrvPort),
    '--broker-port',
    String(o.brokerPort),
  ];
  if (o.configFile !== undefined) args.push('-c', o.configFile);
  if (o.grpcPort !== undefined) args.push('--grpc-port', String(o.grpcPort));
  const log = createWriteStream(o.logFile, { flags: 'a' });
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? String(code))),
  );
  if (child.pid === undefined) throw new Error('spawn of tsrocket start failed');
  return {
    child,
    pid: child.pid,
    namesrvAddr: `127.0.0.1:${o.namesrvPort}`,
    brokerAddr: `127.0.0.1:${o.brokerPort}`,
    exited,
    spawnedAt,
  };
}

/** Sends `signal` and waits for the exit (SIGKILL after `graceMs` if it does not go). */
export async function stopChild(c: TsrocketChild, signal: NodeJS.Signals, graceMs = 20_000): Promise<string> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return c.exited;
  c.child.kill(signal);
  const timer = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
  try {
    return await c.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the NameServer answers a route of `topic` with SUCCESS (i.e. a broker registered it). */
export async function routeReady(rc: RemotingClient, namesrvAddr: string, topic: string): Promise<boolean> {
  try {
    const resp = await rc.invoke(
      namesrvAddr,
      createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }),
      probeTimeoutMs,
    );
    return resp.code === ResponseCode.SUCCESS;
  } catch {
    rc.closeConnection(namesrvAddr);
    return false;
  }
}

/** Whether the broker answers GET_MAX_OFFSET of `topic`:0 with SUCCESS. */
export async function brokerReady(rc: RemotingClient, brokerAddr: string, topic: string): Promise<boolean> {
  try {
    const resp = await rc.invoke(
      brokerAddr,
      createRequest(RequestCode.GET_MAX_OFFSET, { topic, queueId: 0 }),
      probeTimeoutMs,
    );
    return resp.code === ResponseCode.SUCCESS;
  } catch {
    rc.closeConnection(brokerAddr);
    return false;
  }
}

/** Polls `probe` until it is true; resolves with performance.now() of success, throws after `timeoutMs`. */
export async function pollUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await probe()) return performance.now();
    if (performance.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms`);
    await sleep(pollIntervalMs);
  }
}

/**
 * The pid serving for a `tsrocket` child: the child itself, or the process it re-ran itself as (broker.conf
 * nodeFlags: the first process stays as a launcher with one Node child). Children that are not Node (the store's
 * block allocation helper, a `sh`) do not count.
 */
export async function serverPid(pid: number): Promise<number> {
  const kids = await nodeChildPids(pid);
  return kids.length === 1 ? (kids[0] as number) : pid;
}

/** The children of `pid` that run Node (as this process does). */
export async function nodeChildPids(pid: number): Promise<number[]> {
  let kids: number[];
  try {
    kids = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8'))
      .trim()
      .split(/\s+/)
      .filter((s) => s.length > 0)
      .map(Number);
  } catch {
    return [];
  }
  const node: number[] = [];
  for (const kid of kids) {
    try {
      if ((await readlink(`/proc/${kid}/exe`)) === process.execPath) node.push(kid);
    } catch {
      // gone, or not ours to read
    }
  }
  return node;
}

/** VmRSS of `pid` in bytes, undefined once the process is gone. */
export async function rssBytes(pid: number): Promise<number | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(text);
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Bytes `pid` made the block layer read (read_bytes in /proc/<pid>/io): page-cache hits do not count. */
export async function diskReadBytes(pid: number): Promise<number | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/io`, 'utf8');
    const m = /read_bytes:\s+(\d+)/.exec(text);
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** CPU µs (utime + stime, /proc/<pid>/stat) `pid` used so far, undefined once it is gone. */
export async function cpuUs(pid: number): Promise<number | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are fields 14 and 15.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / clockTicksPerSec : undefined;
  } catch {
    return undefined;
  }
}
/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const clockTicksPerSec = 100;

/** Samples a process's RSS once a second; keeps the max and a per-phase max. */
export class RssSampler {
  maxBytes = 0;
  samples = 0;
  private phaseMax = new Map<string, number>();
  private phase = 'start';
  private timer: NodeJS.Timeout | undefined;

  constructor(private pid: number) {}

  start(intervalMs = 1000): void {
    const tick = () => void this.sample();
    void this.sample();
    this.timer = setInterval(tick, intervalMs);
  }

  /** Names the phase later samples belong to (sampled once now). */
  enter(phase: string): void {
    this.phase = phase;
    void this.sample();
  }

  async sample(): Promise<void> {
    const rss = await rssBytes(this.pid);
    if (rss === undefined) return;
    this.samples++;
    this.maxBytes = Math.max(this.maxBytes, rss);
    this.phaseMax.set(this.phase, Math.max(this.phaseMax.get(this.phase) ?? 0, rss));
  }

  byPhase(): Record<string, number> {
    return Object.fromEntries(this.phaseMax);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}
