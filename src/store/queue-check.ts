/**
 * Start-up consistency of the ConsumeQueues and the IndexFile with the CommitLog, cheap enough for every start:
 * only the log's checked tail is compared, entry by entry (as counts and a hash per queue, one ConsumeQueue read
 * per queue), and each other queue's last entry must point at an intact record of that queue with that queue
 * offset. What disagrees is rebuilt from the CommitLog.
 */
import { RecordPos } from '../common/record.js';
import type { CommitLog } from './commit-log.js';
import type { ConsumeQueue } from './consume-queue.js';
import { cqEntryBytes } from './consume-queue.js';
import { servedRecordFault } from './damage.js';
import { takesQueueOffset } from './dispatch.js';
import type { IndexService } from './index-service.js';
import type { QueueTable } from './queue-table.js';
import { inParallel } from './queue-table.js';

const two32 = 2 ** 32;
/** Entries read per ConsumeQueue read while comparing. */
const compareEntriesPerRead = 4096;
/** Queues whose entries are searched for a record boundary near the start of the checked tail. */
const boundaryQueuesMax = 4;

/** What the log says about one queue inside the checked range. */
interface Tally {
  topic: string;
  queueId: number;
  firstQueueOffset: number;
  nextQueueOffset: number;
  records: number;
  hash: number;
}

/** A queue that disagrees with the log, and why. */
export interface QueueFault {
  queue: ConsumeQueue;
  what: string;
}

function mix(h: number, queueOffset: number, phy: number, size: number): number {
  h = Math.imul(h ^ (queueOffset >>> 0), 0x01000193);
  h = Math.imul(h ^ (phy >>> 0), 0x01000193);
  h = Math.imul(h ^ Math.floor(phy / two32), 0x01000193);
  return Math.imul(h ^ size, 0x01000193);
}

/** Collects, per queue, the records of `[from, until)` the scan passes over (light: no property decode). */
export class QueueTally {
  private readonly byTopic = new Map<string, Map<number, Tally>>();

  constructor(
    readonly from: number,
    readonly until: number,
  ) {}

  add(buf: Buffer, pos: number, phy: number, size: number): void {
    if (phy < this.from || phy >= this.until) return;
    if (!takesQueueOffset(buf.readInt32BE(pos + RecordPos.sysFlag))) return;
    const bodyLen = buf.readInt32BE(pos + RecordPos.bodyLength);
    const tp = pos + RecordPos.body + bodyLen;
    const topic = buf.toString('utf8', tp + 1, tp + 1 + (buf[tp] as number));
    const queueId = buf.readInt32BE(pos + RecordPos.queueId);
    const qo =
      buf.readUInt32BE(pos + RecordPos.queueOffset) * two32 + buf.readUInt32BE(pos + RecordPos.queueOffset + 4);
    let byId = this.byTopic.get(topic);
    if (byId === undefined) {
      byId = new Map();
      this.byTopic.set(topic, byId);
    }
    let t = byId.get(queueId);
    // Offsets going back: the topic was deleted and created again; only its newest life is in the queue.
    if (t === undefined || qo < t.nextQueueOffset) {
      t = { topic, queueId, firstQueueOffset: qo, nextQueueOffset: qo, records: 0, hash: 0 };
      byId.set(queueId, t);
    }
    t.records++;
    t.hash = mix(t.hash, qo, phy, size);
    t.nextQueueOffset = qo + 1;
  }

  has(topic: string, queueId: number): boolean {
    return this.byTopic.get(topic)?.has(queueId) === true;
  }

  *all(): IterableIterator<Tally> {
    for (const byId of this.byTopic.values()) yield* byId.values();
  }
}

/**
 * Compares every queue with the log: queues with records in the tally entry by entry, the others by their last
 * entry. `logEnd` is where the log ends after the scan; `replayFrom` where replay started (entries at or past it
 * were just rewritten from the log).
 */
export async function checkQueues(
  queues: QueueTable,
  log: CommitLog,
  tally: QueueTally,
  logEnd: number,
  replayFrom: number,
): Promise<QueueFault[]> {
  const faults: QueueFault[] = [];
  for (const t of tally.all()) {
    const q = queues.get(t.topic, t.queueId);
    if (q === undefined) continue; // the queue's folder is gone (deleted topic): nothing to serve
    const what = await compareTally(q, t, replayFrom);
    if (what !== undefined) faults.push({ queue: q, what });
  }
  const others = [...queues.all()].filter((q) => q.maxOffset > q.minOffset && !tally.has(q.topic, q.queueId));
  await inParallel(others, async (q) => {
    const what = await checkLastEntry(q, log, tally.from, Math.min(logEnd, replayFrom), logEnd);
    if (what !== undefined) faults.push({ queue: q, what });
  });
  return faults;
}

async function compareTally(q: ConsumeQueue, t: Tally, replayFrom: number): Promise<string | undefined> {
  if (q.maxOffset < t.nextQueueOffset) {
    return `ends at queue offset ${q.maxOffset} but the log has its record ${t.nextQueueOffset - 1}`;
  }
  if (t.firstQueueOffset < q.minOffset)
    return `starts at ${q.minOffset} but the log has its record ${t.firstQueueOffset}`;
  let hash = 0;
  let records = 0;
  for (let at = t.firstQueueOffset; at < t.nextQueueOffset; ) {
    const b = await q.read(at, Math.min(compareEntriesPerRead, t.nextQueueOffset - at));
    const n = b.length / cqEntryBytes;
    if (n === 0) return `entry ${at} cannot be read`;
    for (let i = 0; i < n; i++) {
      const size = b.readInt32BE(i * cqEntryBytes + 8);
      if (size === 0) continue; // a hole left for a damaged record
      const phy = b.readUInt32BE(i * cqEntryBytes) * two32 + b.readUInt32BE(i * cqEntryBytes + 4);
      hash = mix(hash, at + i, phy, size);
      records++;
    }
    at += n;
  }
  if (records !== t.records || hash !== t.hash) {
    return `entries ${t.firstQueueOffset}..${t.nextQueueOffset - 1} disagree with the log's records`;
  }
  if (q.maxOffset > t.nextQueueOffset) {
    const e = await q.entryAt(t.nextQueueOffset);
    if (e === undefined || (e.size !== 0 && e.phyOffset < replayFrom)) {
      return `entry ${t.nextQueueOffset} points at ${e?.phyOffset ?? '?'}, where the log has no record of this queue`;
    }
  }
  return undefined;
}

/** The last entry must point at an intact record of this queue carrying its queue offset. */
async function checkLastEntry(q: ConsumeQueue, log: CommitLog, checkedFrom: number, checkedTo: number, logEnd: number) {
  const last = q.maxOffset - 1;
  const e = await q.entryAt(last);
  if (e === undefined) return `last entry ${last} cannot be read`;
  // Holes, expired records and entries past a cut log end (dropped next) are not damage.
  if (e.size === 0 || e.phyOffset < log.minOffset() || e.phyOffset + e.size > logEnd) return undefined;
  if (e.phyOffset >= checkedFrom && e.phyOffset < checkedTo) {
    return `last entry ${last} points at ${e.phyOffset}, where the log has no record of this queue`;
  }
  const rec = await log.readDuringRecovery(e.phyOffset, e.size);
  if (rec === undefined) return `last entry ${last} points at ${e.phyOffset}+${e.size}, outside the log`;
  const fault = servedRecordFault(rec, 0, e.size, last, true);
  if (fault !== undefined) return `last entry ${last} points at ${e.phyOffset}: ${fault}`;
  const bodyLen = rec.readInt32BE(RecordPos.bodyLength);
  const tp = RecordPos.body + bodyLen;
  const topic = rec.toString('utf8', tp + 1, tp + 1 + (rec[tp] as number));
  if (topic !== q.topic || rec.readInt32BE(RecordPos.queueId) !== q.queueId) {
    return `last entry ${last} points at a record of ${topic}/${rec.readInt32BE(RecordPos.queueId)}`;
  }
  return undefined;
}

/**
 * Where the checked tail starts: a record boundary at or before `target` and not before its segment's start
 * (segment starts are boundaries; a ConsumeQueue entry closer to `target` is used when the record there names
 * its own offset). Undefined when the only boundary found lies more than `backBytesMax` before `target`.
 */
export async function recordBoundaryBefore(
  queues: QueueTable,
  log: CommitLog,
  target: number,
  backBytesMax: number,
): Promise<number | undefined> {
  const segStart = target - (target % log.segmentBytes);
  let best = segStart;
  let tried = 0;
  for (const q of queues.all()) {
    if (tried >= boundaryQueuesMax) break;
    if (q.maxOffset <= q.minOffset) continue;
    tried++;
    // Last entry whose record starts at or before target.
    let lo = q.minOffset;
    let hi = q.maxOffset;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const e = await q.entryAt(mid);
      if (e !== undefined && (e.size === 0 || e.phyOffset <= target)) lo = mid + 1;
      else hi = mid;
    }
    const e = lo > q.minOffset ? await q.entryAt(lo - 1) : undefined;
    if (e === undefined || e.size === 0 || e.phyOffset <= best || e.phyOffset > target) continue;
    const head = await log.readDuringRecovery(e.phyOffset, RecordPos.physicalOffset + 8);
    if (head === undefined) continue;
    const named = head.readUInt32BE(RecordPos.physicalOffset) * two32 + head.readUInt32BE(RecordPos.physicalOffset + 4);
    if (named === e.phyOffset && head.readInt32BE(0) === e.size) best = e.phyOffset;
  }
  return target - best > backBytesMax ? undefined : best;
}

/** Why the newest IndexFile disagrees with the log (its last entry names an offset past it), or undefined. */
export async function checkIndex(index: IndexService, log: CommitLog, logEnd: number): Promise<string | undefined> {
  const f = index.newest();
  if (f === undefined || f.indexCount <= 1) return undefined;
  if (f.beginPhyOffset > f.endPhyOffset) return `header: begin offset ${f.beginPhyOffset} > end ${f.endPhyOffset}`;
  if (f.endPhyOffset >= logEnd) return `header: last entry at ${f.endPhyOffset}, past the log end ${logEnd}`;
  if (f.endPhyOffset < log.minOffset()) return undefined;
  const head = await log.readDuringRecovery(f.endPhyOffset, RecordPos.physicalOffset + 8);
  const named =
    head === undefined
      ? -1
      : head.readUInt32BE(RecordPos.physicalOffset) * two32 + head.readUInt32BE(RecordPos.physicalOffset + 4);
  return named === f.endPhyOffset ? undefined : `header: last entry at ${f.endPhyOffset}, where no record starts`;
}
