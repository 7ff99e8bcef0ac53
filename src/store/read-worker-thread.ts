/**
 * The read worker's thread (read-worker.ts starts it): a job is a slot of the shared control buffer listing up to
 * `spansMax` (descriptor, file position, length, place in the slot's arena) reads; it does them with blocking
 * preads into the shared arena, writes each one's byte count (-1: failed), whether its records passed their BODYCRC
 * (when asked), and the time taken, and puts the slot
 * on the ring of jobs done. It sleeps on the count of jobs posted (Atomics.wait) when there is none, and wakes the
 * main thread with one message when that is not already woken. The descriptors stay open meanwhile (the main
 * thread holds a lease on each file).
 */
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { crc32At } from '../common/crc32.js';
import { RecordPos } from '../common/record.js';
import {
  Claim,
  type ControlLayout,
  Ctl,
  controlViews,
  jobSlotOf,
  nextCount,
  ringAt,
  spanFields,
} from './read-worker-layout.js';

const port = parentPort;
const { slab, control, layout } = workerData as {
  slab: SharedArrayBuffer;
  control: SharedArrayBuffer;
  layout: ControlLayout;
};
const arenas = Buffer.from(slab);
const { jobs, results, intact, tookMs, startedMs, ctl, claims } = controlViews(control, layout);

let taken = 0;
let done = 0;
for (;;) {
  const posted = Atomics.load(ctl, Ctl.posted);
  if (posted === taken) {
    Atomics.store(ctl, Ctl.asleep, 1);
    // A job posted after the load above changed the count: the wait returns at once.
    if (Atomics.load(ctl, Ctl.posted) === taken) Atomics.wait(ctl, Ctl.posted, taken);
    Atomics.store(ctl, Ctl.asleep, 0);
    continue;
  }
  const slot = run(ctl[Ctl.posts + ringAt(taken)] as number);
  taken = nextCount(taken);
  ctl[Ctl.dones + ringAt(done)] = slot;
  done = nextCount(done);
  Atomics.store(ctl, Ctl.done, done);
  if (Atomics.compareExchange(ctl, Ctl.woken, 0, 1) === 0) port?.postMessage(0);
}

function run(message: number): number {
  const { slot, spans } = jobSlotOf(message);
  // Taken back by the main thread (its pull came first): done, nothing read.
  if (Atomics.compareExchange(claims, slot, Claim.open, Claim.worker) !== Claim.open) return slot;
  const t0 = performance.now();
  startedMs[slot] = performance.timeOrigin + t0;
  const arenaAt = slot * layout.arenaBytes;
  for (let s = 0; s < spans; s++) {
    const j = (slot * layout.spansMax + s) * spanFields;
    const length = jobs[j + 2] as number;
    const at = arenaAt + (jobs[j + 3] as number);
    const got = readFully(jobs[j] as number, jobs[j + 1] as number, length, at);
    results[slot * layout.spansMax + s] = got;
    intact[slot * layout.spansMax + s] = got === length && jobs[j + 4] === 1 && bodiesIntact(at, length) ? 1 : 0;
  }
  tookMs[slot] = performance.now() - t0;
  return slot;
}

/**
 * True when the bytes read are whole records back to back, each body matching its BODYCRC (the main thread then
 * checks only sizes, magic and queue offsets; any doubt, and it checks the CRC of the records it serves itself).
 */
function bodiesIntact(at: number, length: number): boolean {
  const end = at + length;
  for (let p = at; p < end; ) {
    if (p + RecordPos.body > end) return false;
    const size = arenas.readInt32BE(p);
    const bodyLen = arenas.readInt32BE(p + RecordPos.bodyLength);
    if (size < RecordPos.body || p + size > end || bodyLen < 0 || RecordPos.body + bodyLen > size) return false;
    const from = p + RecordPos.body;
    const crc = crc32At(arenas, from, bodyLen) & 0x7fffffff;
    if (crc !== arenas.readInt32BE(p + RecordPos.bodyCrc)) return false;
    p += size;
  }
  return true;
}

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
