/**
 * Where a process's time went, from /proc/<pid>/task/<tid>/schedstat (Linux): nanoseconds on the CPU and
 * nanoseconds runnable but waiting for one (the run queue). A latency tail that the process's own work does not
 * explain is its threads waiting for a core.
 */
import { readdir, readFile } from 'node:fs/promises';

export interface SchedTimes {
  /** On-CPU ms, all threads. */
  cpuMs: number;
  /** Runnable-but-waiting ms, all threads. */
  waitMs: number;
  /** The same for the main thread (tid = pid) alone: a Node process's event loop. */
  mainCpuMs: number;
  mainWaitMs: number;
}

async function threadTimes(pid: number, tid: string): Promise<[number, number] | undefined> {
  try {
    const f = (await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')).split(' ');
    return [Number(f[0]) / 1e6, Number(f[1]) / 1e6];
  } catch {
    return undefined; // the thread ended
  }
}

/** The process's times so far (undefined when /proc has no such process, e.g. not Linux). */
export async function schedTimes(pid: number): Promise<SchedTimes | undefined> {
  let tids: string[];
  try {
    tids = await readdir(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  const out: SchedTimes = { cpuMs: 0, waitMs: 0, mainCpuMs: 0, mainWaitMs: 0 };
  for (const tid of tids) {
    const t = await threadTimes(pid, tid);
    if (t === undefined) continue;
    out.cpuMs += t[0];
    out.waitMs += t[1];
    if (tid === String(pid)) {
      out.mainCpuMs = t[0];
      out.mainWaitMs = t[1];
    }
  }
  return out;
}

/** after − before, field by field (threads that ended in between drop out of `after`: a lower bound). */
export function schedDelta(before: SchedTimes | undefined, after: SchedTimes | undefined): SchedTimes | undefined {
  if (before === undefined || after === undefined) return undefined;
  return {
    cpuMs: after.cpuMs - before.cpuMs,
    waitMs: after.waitMs - before.waitMs,
    mainCpuMs: after.mainCpuMs - before.mainCpuMs,
    mainWaitMs: after.mainWaitMs - before.mainWaitMs,
  };
}

/** "cpu 1234 ms, waited 56 ms (event loop 1000 / 40 ms)". */
export function fmtSched(s: SchedTimes | undefined): string {
  if (s === undefined) return 'n/a';
  const r = (x: number) => x.toFixed(0);
  return `cpu ${r(s.cpuMs)} ms, waited ${r(s.waitMs)} ms (main thread ${r(s.mainCpuMs)} / ${r(s.mainWaitMs)} ms)`;
}
