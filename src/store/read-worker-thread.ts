/**
 * The read worker's thread (read-worker.ts starts it): a job is a slot of the shared control buffer listing up to
 * `jobSpansMax` (descriptor, file position, length, place in the slot's arena) reads; it does them with blocking
 * preads into the shared arena, writes each one's byte count (-1: failed) and the time taken, and answers the
 * slot's number. The descriptors stay open meanwhile (the main thread holds a lease on each file).
 */
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { type ControlLayout, controlViews, jobSlotOf, spanFields } from './read-worker-layout.js';

const port = parentPort;
const { slab, control, layout } = workerData as {
  slab: SharedArrayBuffer;
  control: SharedArrayBuffer;
  layout: ControlLayout;
};
const arenas = Buffer.from(slab);
const { jobs, results, tookMs } = controlViews(control, layout);

port?.on('message', (message: number) => {
  const { slot, spans } = jobSlotOf(message);
  const t0 = performance.now();
  const arenaAt = slot * layout.arenaBytes;
  for (let s = 0; s < spans; s++) {
    const j = (slot * layout.spansMax + s) * spanFields;
    results[slot * layout.spansMax + s] = readFully(
      jobs[j] as number,
      jobs[j + 1] as number,
      jobs[j + 2] as number,
      arenaAt + (jobs[j + 3] as number),
    );
  }
  tookMs[slot] = performance.now() - t0;
  port.postMessage(slot);
});

/** Bytes read (short at the end of the file), -1 when the descriptor is not leased (< 0) or the read failed. */
function readFully(fd: number, position: number, length: number, at: number): number {
  if (fd < 0) return -1;
  let done = 0;
  try {
    while (done < length) {
      const n = readSync(fd, arenas, at + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
  } catch {
    return -1;
  }
  return done;
}
