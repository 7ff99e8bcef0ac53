/**
 * The read worker's thread (read-worker.ts starts it): a job is a slot of the shared control buffer listing up to
 * `spansMax` (descriptor, file position, length, place in the slot's arena) reads; it does them into the shared
 * arena, writes each one's byte count (-1: failed), whether its records passed their BODYCRC (when asked), and the
 * time taken, and puts the slot on the ring of jobs done. The reads go to the native module
 * `dist/native/sparse-read.node` in one call per job (native/sparse-read.c: mapped segments for records read
 * before, pread for the others), else (not built, `TSROCKET_NATIVE_SPARSE=off`) to `fs.readSync` one by one. It
 * sleeps on the count of jobs posted (Atomics.wait) when there is none, and wakes the main thread with one message
 * when that is not already woken. The descriptors stay open meanwhile (the main thread holds a lease on each file);
 * when the store's count of segment changes moves, the module's mappings are dropped before anything else is done.
 */
import { readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
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
  type SparseNative,
  type SparseOptions,
  spanFields,
} from './read-worker-layout.js';

const port = parentPort;
const { slab, control, layout, sparse } = workerData as {
  slab: SharedArrayBuffer;
  control: SharedArrayBuffer;
  layout: ControlLayout;
  sparse: SparseOptions;
};
const arenas = Buffer.from(slab);
const { jobs, results, intact, tookMs, startedMs, ctl, claims } = controlViews(control, layout);
const native = loadNative();
/** Reads may go through mappings; see the wait below. */
const mapped = native?.mapping === true && sparse.mode === 'map';
const mappedWaitMs = Math.min(1000, sparse.idleMs);
/** Timed waits ended in a row without a job; the mappings are dropped at `idleDropWaits`. */
let idleWaits = 0;
const idleDropWaits = Math.max(1, Math.ceil(sparse.idleMs / mappedWaitMs));
let segmentChanges = Atomics.load(ctl, Ctl.segments);

let taken = 0;
let done = 0;
for (;;) {
  const changes = Atomics.load(ctl, Ctl.segments);
  if (changes !== segmentChanges) {
    segmentChanges = changes;
    native?.dropMappings();
  }
  const posted = Atomics.load(ctl, Ctl.posted);
  if (posted === taken) {
    Atomics.store(ctl, Ctl.asleep, 1);
    // A job posted after the load above changed the count: the wait returns at once. A change of segments is
    // notified too, but one bumped between the look below and the wait only shows when the wait ends: when reads go
    // through mappings, it ends within `mappedWaitMs` to look again (a deleted segment's mapping goes within 1 s).
    if (Atomics.load(ctl, Ctl.posted) === taken && Atomics.load(ctl, Ctl.segments) === segmentChanges) {
      // Untimed once the mappings were dropped for idleness (none until the next job).
      const timed = mapped && idleWaits < idleDropWaits;
      const ended = Atomics.wait(ctl, Ctl.posted, taken, timed ? mappedWaitMs : undefined);
      // No job for `idleMs`: the mappings go (their pages leave the broker's RSS; mapped again when reads come).
      if (ended === 'timed-out' && ++idleWaits === idleDropWaits) native?.dropMappings();
    }
    Atomics.store(ctl, Ctl.asleep, 0);
    continue;
  }
  idleWaits = 0;
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
  const first = slot * layout.spansMax;
  if (native !== undefined) native.readSpans(arenas, jobs, first, spans, spanFields, arenaAt, results, first);
  for (let s = 0; s < spans; s++) {
    const j = (first + s) * spanFields;
    const length = jobs[j + 2] as number;
    const at = arenaAt + (jobs[j + 3] as number);
    const got =
      native !== undefined
        ? (results[first + s] as number)
        : readFully(jobs[j] as number, jobs[j + 1] as number, length, at);
    results[first + s] = got;
    intact[first + s] = got === length && jobs[j + 4] === 1 && bodiesIntact(at, length) ? 1 : 0;
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

/** The native module as `sparse` asks (undefined: off, not built, or it failed to load: `fs.readSync` reads). */
function loadNative(): SparseNative | undefined {
  if (sparse.mode === 'off') return undefined;
  const file = new URL('../../native/sparse-read.node', import.meta.url);
  try {
    const m = createRequire(import.meta.url)(fileURLToPath(file)) as SparseNative;
    m.configure(sparse.mapBytesMax, sparse.mode === 'map');
    return m;
  } catch {
    return undefined;
  }
}
