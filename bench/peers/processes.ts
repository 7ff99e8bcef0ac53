/**
 * Servers the harness starts: child processes in their own process group, logs to a file, ready when a TCP port
 * on 127.0.0.1 accepts; all killed when the harness ends, also on Ctrl-C, SIGTERM or an uncaught error.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CgroupPaths,
  memoryStateLabel,
  ownMemoryCgroup,
  probeCgroup,
  ServerMemoryCgroup,
} from './memory-cgroup.js';

const live = new Set<ChildProcess>();
const stopGraceMs = 10_000;

/** A free port on 127.0.0.1 (bound then released, so another process could still take it: good enough here). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child !== undefined && child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`port ${port} not open after ${timeoutMs} ms`);
}

export interface Spawned {
  child: ChildProcess;
  /** The server's memory cgroup when the run holds servers' page cache to a budget (setServerPageCache). */
  memory?: ServerMemoryCgroup;
  stop(): Promise<void>;
}

let pageCache: { where: CgroupPaths; budgetMiB: number } | undefined;
let cgroupSeq = 0;
const cgroups = new Set<ServerMemoryCgroup>();
const cgroupOfPid = new Map<number, ServerMemoryCgroup>();

/**
 * `budgetMiB`: every server spawned from now on runs in a memory cgroup of its own with that page-cache budget,
 * filled before it starts (memory-cgroup.ts); undefined: no cgroup. Returns the state the run measures, and why
 * when a budget was asked for but no cgroup can be made here (then the servers run without one).
 */
export function setServerPageCache(budgetMiB: number | undefined): { state: string; skipped?: string } {
  pageCache = undefined;
  if (budgetMiB === undefined) return { state: memoryStateLabel(undefined) };
  const where =
    process.platform === 'linux' ? ownMemoryCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8')) : 'not Linux';
  const why = typeof where === 'string' ? where : probeCgroup(where);
  if (why !== undefined || typeof where === 'string') {
    return { state: memoryStateLabel(undefined), skipped: `--page-cache ${budgetMiB}: skipped, ${why}` };
  }
  pageCache = { where, budgetMiB };
  return { state: memoryStateLabel(budgetMiB) };
}

/** The memory cgroup of a server spawned here (by its pid), if it has one. */
export function memoryCgroupOf(pid: number | undefined): ServerMemoryCgroup | undefined {
  return pid === undefined ? undefined : cgroupOfPid.get(pid);
}

/**
 * Starts `cmd` in its own process group with stdout/stderr appended to `logFile` (inside a memory cgroup of its own
 * when setServerPageCache set a budget).
 */
export function spawnServer(cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): Spawned {
  let memory: ServerMemoryCgroup | undefined;
  if (pageCache !== undefined) {
    const cg = ServerMemoryCgroup.create(
      pageCache.where,
      `tsrocket-bench-${process.pid}-${cgroupSeq++}`,
      pageCache.budgetMiB,
    );
    if (typeof cg === 'string') throw new Error(cg);
    memory = cg;
    cgroups.add(cg);
    ({ cmd, args } = cg.wrap(cmd, args));
  }
  const log = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', log, log], env: { ...process.env, ...env } });
  fs.closeSync(log);
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (memory !== undefined && child.pid !== undefined) {
    cgroupOfPid.set(child.pid, memory);
    memory.follow();
  }
  const removeCgroup = () => {
    if (memory === undefined) return;
    memory.remove();
    cgroups.delete(memory);
    if (child.pid !== undefined) cgroupOfPid.delete(child.pid);
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) {
      removeCgroup();
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    killGroup(child, 'SIGTERM');
    const t = setTimeout(() => killGroup(child, 'SIGKILL'), stopGraceMs);
    await exited;
    clearTimeout(t);
    // Helpers the server forked into its group (Erlang's erl_child_setup) go too.
    killGroup(child, 'SIGKILL');
    removeCgroup();
  };
  return { child, memory, stop };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Kills every server still running, synchronously (usable from 'exit'). */
export function killAllNow(): void {
  for (const child of live) killGroup(child, 'SIGKILL');
  live.clear();
  for (const cg of cgroups) cg.remove();
  cgroups.clear();
}

/** Makes sure no server outlives the harness. */
export function installExitHandlers(): void {
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping servers\n`);
      killAllNow();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`uncaught: ${err.stack ?? err}\n`);
    killAllNow();
    process.exit(1);
  });
}

/** Whether `file` is an executable on PATH or an absolute path. */
export function findExecutable(name: string, extraDirs: readonly string[] = []): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), ...extraDirs, '/usr/sbin', '/usr/lib/rabbitmq/bin'];
  for (const d of dirs) {
    const p = `${d}/${name}`;
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}
