/**
 * What the main thread and the read worker share (read-worker.ts, read-worker-thread.ts): the arenas sparse records
 * are read into (one slab, `arenasMax` arenas, arena k is job slot k), and the control buffer of the jobs.
 */

export interface ControlLayout {
  arenaBytes: number;
  arenasMax: number;
  /** Reads one job does at most. */
  spansMax: number;
}

/** Per read of a job: descriptor, file position, length, place in the arena. */
export const spanFields = 4;

export function controlBytes(l: ControlLayout): number {
  return l.arenasMax * (l.spansMax * (spanFields * 8 + 4) + 8);
}

/** The job table (doubles), the byte counts read (ints) and each slot's time taken (ms) over one buffer. */
export function controlViews(control: SharedArrayBuffer, l: ControlLayout) {
  const jobDoubles = l.arenasMax * l.spansMax * spanFields;
  const jobs = new Float64Array(control, 0, jobDoubles);
  const tookMs = new Float64Array(control, jobDoubles * 8, l.arenasMax);
  const results = new Int32Array(control, (jobDoubles + l.arenasMax) * 8, l.arenasMax * l.spansMax);
  return { jobs, results, tookMs };
}

/** A job's message: its slot and how many reads it holds, as one number. */
export function jobMessage(slot: number, spans: number): number {
  return slot + spans * 256;
}

export function jobSlotOf(message: number): { slot: number; spans: number } {
  return { slot: message % 256, spans: Math.floor(message / 256) };
}
