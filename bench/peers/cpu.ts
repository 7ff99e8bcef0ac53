/**
 * CPU per message: the server processes' utime+stime read from /proc (every process in the servers' process
 * groups, reaped children included: RabbitMQ's beam and its helpers count) and this load generator's own
 * process.cpuUsage(), plus an external load tool's CPU when one ran.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

let ticksPerSecCache: number | undefined;

function ticksPerSec(): number {
  if (ticksPerSecCache === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim();
    const n = Number(out);
    ticksPerSecCache = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return ticksPerSecCache;
}

export interface ProcStat {
  pgrp: number;
  /** utime + stime + cutime + cstime, clock ticks. */
  ticks: number;
  /** cutime + cstime: reaped children only, clock ticks. */
  childTicks: number;
}

/** Parses one /proc/<pid>/stat line (the command name may hold spaces and parentheses). */
export function parseProcStat(line: string): ProcStat | undefined {
  const close = line.lastIndexOf(')');
  if (close < 0) return undefined;
  // Fields after the name, from field 3 (state): pgrp is field 5, utime..cstime fields 14..17.
  const f = line.slice(close + 2).split(' ');
  const num = (field: number) => Number(f[field - 3]);
  const [pgrp, ut, st, cut, cst] = [num(5), num(14), num(15), num(16), num(17)];
  if (![pgrp, ut, st, cut, cst].every(Number.isFinite)) return undefined;
  return { pgrp, ticks: ut + st + cut + cst, childTicks: cut + cst };
}

/** Calls `fn` with each live process's id and /proc/<pid>/stat line (a process that exits meanwhile is skipped). */
function forEachProcessStat(fn: (pid: string, stat: string) => void): void {
  for (const entry of fs.readdirSync('/proc')) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    fn(entry, text);
  }
}

/** CPU µs used so far by every live process whose process group is in `groups`. */
export function groupCpuUs(groups: readonly number[]): number {
  if (groups.length === 0) return 0;
  let ticks = 0;
  forEachProcessStat((_pid, text) => {
    const s = parseProcStat(text);
    if (s !== undefined && groups.includes(s.pgrp)) ticks += s.ticks;
  });
  return (ticks * 1e6) / ticksPerSec();
}

/** CPU µs of this process's reaped children (an external load tool that ran to its end). */
export function reapedChildrenCpuUs(): number {
  const s = parseProcStat(fs.readFileSync('/proc/self/stat', 'utf8'));
  return s === undefined ? 0 : (s.childTicks * 1e6) / ticksPerSec();
}

export interface CpuPerMessage {
  serverCpuUsPerMsg: number;
  clientCpuUsPerMsg: number;
}

/** Snapshot now; `perMessage(n)` gives the CPU spent since, per message. */
export class CpuProbe {
  private readonly server0: number;
  private readonly client0 = process.cpuUsage();

  constructor(private readonly groups: readonly number[]) {
    this.server0 = groupCpuUs(groups);
  }

  /** `externalClientUs`: CPU of a load tool that ran as a child process (0 when none). */
  perMessage(messages: number, externalClientUs = 0): CpuPerMessage {
    const server = groupCpuUs(this.groups) - this.server0;
    const c = process.cpuUsage(this.client0);
    const n = Math.max(1, messages);
    return { serverCpuUsPerMsg: server / n, clientCpuUsPerMsg: (c.user + c.system + externalClientUs) / n };
  }
}

/**
 * utime+stime ticks of each kernel thread (pid → ticks; children of kthreadd: the flusher and end-of-I/O kworkers,
 * kswapd), machine-wide: the writeback and extent conversion a broker's writes cause run there, outside its own
 * counters. Per thread, since kworkers come and go: see kernelThreadTicksBetween.
 */
export function kernelThreadTicks(): Map<number, number> {
  const ticks = new Map<number, number>();
  forEachProcessStat((pid, text) => {
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // Field 4 (ppid) is f[1]; utime, stime are fields 14, 15.
    if (f[1] === '2' || pid === '2') ticks.set(Number(pid), Number(f[11]) + Number(f[12]));
  });
  return ticks;
}

/**
 * Ticks the kernel threads used between two kernelThreadTicks samples: a thread that started meanwhile counts from
 * 0, one that ended meanwhile is left out (a sum over the threads alive at each sample went negative when a busy
 * kworker ended in between).
 */
export function kernelThreadTicksBetween(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): number {
  let ticks = 0;
  for (const [pid, t] of after) ticks += Math.max(0, t - (before.get(pid) ?? 0));
  return ticks;
}

/** utime+stime ticks (10 ms) of the main thread and of all other threads of `pid`. */
export function threadTicks(pid: number): { main: number; helpers: number } {
  const t = threadUserSystemTicks(pid);
  return { main: t.mainUser + t.mainSystem, helpers: t.helpersUser + t.helpersSystem };
}

/** utime / stime ticks (10 ms) of the main thread and of all other threads of `pid` (Node 20 names no thread). */
export function threadUserSystemTicks(pid: number): {
  mainUser: number;
  mainSystem: number;
  helpersUser: number;
  helpersSystem: number;
} {
  const out = { mainUser: 0, mainSystem: 0, helpersUser: 0, helpersSystem: 0 };
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (tid === String(pid)) {
      out.mainUser += Number(f[11]);
      out.mainSystem += Number(f[12]);
    } else {
      out.helpersUser += Number(f[11]);
      out.helpersSystem += Number(f[12]);
    }
  }
  return out;
}
