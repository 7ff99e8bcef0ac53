/**
 * Child processes for integration tests: `tsrocket start|namesrv|broker` and the worker scripts of this folder,
 * each with its stdout split into lines (log lines and JSON event lines) that tests wait on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Admin } from '../../src/client/admin/admin.js';

export const cliPath = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const consumerWorkerPath = fileURLToPath(new URL('./consumer-worker.js', import.meta.url));
export const producerWorkerPath = fileURLToPath(new URL('./producer-worker.js', import.meta.url));

/** The default bound of a wait for a line or condition (a start on a machine at load 60 took more than 15 s). */
const startTimeoutMs = 60_000;
const stopTimeoutMs = 5_000;

/** A JSON line printed by a worker: `{"t": kind, …}`. */
export interface WorkerEvent {
  t: string;
  [k: string]: unknown;
}

type Waiter = { test: () => boolean; resolve: () => void };

/** A spawned node process; its stdout lines and JSON events are kept for the test to inspect. */
export class Proc {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly events: WorkerEvent[] = [];
  readonly exited: Promise<number | null>;
  private stderr = '';
  private partial = '';
  private waiters: Waiter[] = [];
  private exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    args: string[],
    logLevel: 'info' | 'error' = 'info',
  ) {
    this.child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSROCKET_LOG_LEVEL: logLevel },
    });
    this.child.stdout?.on('data', (chunk: Buffer) => this.onData(chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code) => {
        this.exitCode = code;
        this.check();
        resolve(code);
      });
    });
    live.add(this);
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  private onData(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      if (line.startsWith('{')) this.events.push(JSON.parse(line) as WorkerEvent);
    }
    this.check();
  }

  private check(): void {
    const ready = this.waiters.filter((w) => w.test());
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  /** Resolves when `cond` holds (re-checked on every output line); rejects on timeout or exit. */
  until(cond: () => boolean, what: string, timeoutMs = startTimeoutMs): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`${this.name}: ${what}: ${why}\n${this.tail()}`));
      const waiter: Waiter = {
        test: () => cond() || !this.running,
        resolve: () => {
          clearTimeout(timer);
          if (cond()) resolve();
          else fail(`process exited with ${this.exitCode}`);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        fail(`timed out after ${timeoutMs} ms`);
      }, timeoutMs);
      if (this.running) this.waiters.push(waiter);
      else waiter.resolve();
    });
  }

  /** Waits for a log line matching `re` and returns its match. */
  async line(re: RegExp, timeoutMs = startTimeoutMs): Promise<RegExpExecArray> {
    let m: RegExpExecArray | null = null;
    await this.until(
      () => {
        for (const l of this.lines) {
          m = re.exec(l);
          if (m !== null) return true;
        }
        return false;
      },
      `waiting for ${re}`,
      timeoutMs,
    );
    return m as unknown as RegExpExecArray;
  }

  eventsOf(kind: string): WorkerEvent[] {
    return this.events.filter((e) => e.t === kind);
  }

  tail(): string {
    return [`--- stdout of ${this.name}`, ...this.lines.slice(-15), `--- stderr`, this.stderr.slice(-1500)].join('\n');
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it does not exit within 5 s. */
  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), stopTimeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    live.delete(this);
  }
}

const live = new Set<Proc>();

/** Stops every process this test file started and still runs. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

export interface Server {
  proc: Proc;
  nameServer: string;
  brokerAddr: string;
}

/** The arguments of `tsrocket start` on loopback (a wildcard bind would register this machine's LAN address). */
export function startArgs(dataDir: string, namesrvPort = 0, brokerPort = 0): string[] {
  return [
    cliPath,
    'start',
    '--data',
    dataDir,
    '--host',
    '127.0.0.1',
    '--namesrv-port',
    String(namesrvPort),
    '--broker-port',
    String(brokerPort),
    // No gRPC endpoint: these systems serve remoting tests (test/proxy starts its own with gRPC on).
    '--no-grpc',
  ];
}

/**
 * `tsrocket start` (NameServer + Broker in one process) on two ports that were free, below the ephemeral range
 * (restartablePort): tests restart it on the same ports after a SIGKILL.
 */
export async function startServer(dataDir: string, brokerConf?: string): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    const args = startArgs(dataDir, await restartablePort(), await restartablePort());
    if (brokerConf !== undefined) args.push('-c', brokerConf);
    const proc = new Proc('tsrocket start', args);
    try {
      // On given ports the NameServer listens last, once the broker has recovered and registered: one bounded wait
      // for the whole start (a busy machine takes a while).
      const m = await proc.line(/tsrocket started .*namesrvAddr=([\d.:]+) brokerAddr=([\d.:]+)/);
      return { proc, nameServer: m[1] as string, brokerAddr: m[2] as string };
    } catch (err) {
      // Another test took a port between the check and the listen: once more on other ports.
      await proc.stop();
      if (attempt >= 3 || !proc.lines.some((l) => l.includes('EADDRINUSE'))) throw err;
    }
  }
}

/** The lowest port of the kernel's ephemeral range: port 0 and outgoing connections draw from it up. */
async function ephemeralLow(): Promise<number> {
  const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '32768');
  const low = Number.parseInt(text, 10);
  return Number.isSafeInteger(low) ? low : 32768;
}

/**
 * A loopback port that was free a moment ago, below the ephemeral range; 0 where that range leaves no room. A
 * server restarted on its ports after a SIGKILL needs them free again: a port that port 0 gave comes from the
 * ephemeral range, where on a busy machine any outgoing connection may take it meanwhile (the restart then failed
 * with EADDRINUSE).
 */
export async function restartablePort(): Promise<number> {
  const from = 10_000;
  const low = await ephemeralLow();
  if (low - from < 1000) return 0;
  for (let i = 0; i < 100; i++) {
    const port = from + Math.floor(Math.random() * (low - from));
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free loopback port found in ${from}..${low - 1}`);
}

/** `tsrocket namesrv` on an ephemeral port; resolves to its process and address. */
export async function startNamesrv(dataDir: string): Promise<{ proc: Proc; addr: string }> {
  const proc = new Proc('tsrocket namesrv', [
    cliPath,
    'namesrv',
    '--port',
    '0',
    '--kv-config',
    join(dataDir, 'kvConfig.json'),
  ]);
  const m = await proc.line(/NameServer listening port=(\d+)/);
  return { proc, addr: `127.0.0.1:${m[1]}` };
}

/** `tsrocket broker -c conf`; `port` 0 picks a free one. Resolves once it serves and registered. */
export async function startBroker(
  conf: string,
  namesrv: string,
  dataDir: string,
  port: number,
): Promise<{ proc: Proc; addr: string }> {
  const proc = new Proc('tsrocket broker', [
    cliPath,
    'broker',
    '-c',
    conf,
    '-n',
    namesrv,
    '--port',
    String(port),
    '--no-grpc',
    '--data',
    dataDir,
  ]);
  const m = await proc.line(/broker serving port=(\d+)/);
  return { proc, addr: `127.0.0.1:${m[1]}` };
}

/** Writes a broker.conf (key=value) into `dir` and returns its path. */
export async function writeBrokerConf(dir: string, keys: Record<string, string | number>): Promise<string> {
  const file = join(dir, 'broker.conf');
  const text = Object.entries(keys)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  await writeFile(file, `${text}\n`);
  return file;
}

/** Creates `topic` with `queues` queues on `brokerAddr` and waits until the NameServer routes it. */
export async function createTopic(
  nameServer: string,
  brokerAddr: string,
  topic: string,
  queues: number,
): Promise<void> {
  const admin = new Admin({ nameServer, timeoutMs: 5000 });
  try {
    await admin.createOrUpdateTopic(
      { brokerAddr },
      { topicName: topic, readQueueNums: queues, writeQueueNums: queues },
    );
    for (let i = 0; i < 100; i++) {
      const route = await admin.topicRoute(topic).catch(() => undefined);
      const q = route?.queueDatas[0];
      if (q !== undefined && q.readQueueNums === queues) return;
      await sleep(50);
    }
    throw new Error(`topic ${topic} never showed up in the NameServer route`);
  } finally {
    await admin.close();
  }
}

/** GET_BROKER_RUNTIME_INFO as a key → value table. */
export async function runtimeInfo(nameServer: string, brokerAddr: string): Promise<Record<string, string>> {
  const admin = new Admin({ nameServer, timeoutMs: 5000 });
  try {
    return await admin.brokerRuntimeInfo(brokerAddr);
  } finally {
    await admin.close();
  }
}

/** What consumer-worker.ts takes as its one JSON argument. */
export interface ConsumerWorkerConfig {
  nameServer: string;
  topic: string;
  group: string;
  messageModel: 'CLUSTERING' | 'BROADCASTING';
  /** Broadcasting offsets directory. */
  offsetStoreDir?: string;
}

export function spawnConsumer(name: string, config: ConsumerWorkerConfig): Proc {
  return new Proc(name, [consumerWorkerPath, JSON.stringify(config)], 'error');
}

/** What producer-worker.ts takes as its one JSON argument. */
export interface ProducerWorkerConfig {
  nameServer: string;
  topic: string;
  /** Messages to send, then exit; 0 = until SIGTERM. */
  count: number;
  /** Pause between sends (ms). */
  intervalMs: number;
}

export function spawnProducer(name: string, config: ProducerWorkerConfig): Proc {
  return new Proc(name, [producerWorkerPath, JSON.stringify(config)], 'error');
}

/** The latest queue assignment a consumer worker reported (queue ids of the main topic). */
export function assignment(p: Proc): number[] {
  const last = p.eventsOf('assigned').at(-1);
  return (last?.['queues'] as number[] | undefined) ?? [];
}

/** msgIds a consumer worker reported consuming, with repeats. */
export function consumedIds(p: Proc): string[] {
  return p.eventsOf('msg').map((e) => e['id'] as string);
}

/** msgIds a producer worker reported acked. */
export function ackedIds(p: Proc): string[] {
  return p.eventsOf('ack').map((e) => e['id'] as string);
}

/** A fresh temp dir; `cleanup` removes it. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `tsrocket-it-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Polls `cond` every 20 ms until true or `timeoutMs` passes (then throws with `what`). */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
