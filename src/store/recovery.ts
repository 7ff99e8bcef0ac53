/**
 * Start-up: load segments, ConsumeQueues (in parallel) and IndexFiles; scan the CommitLog from the checkpoint
 * (clean shutdown) or further back (crash: abort marker present), validating magic, length and CRC; replay each
 * record to every dispatcher that has not made it durable; drop queue entries past the log end.
 * What a clean stop vouches for is verified on the log's tail (`recoverTailCheckBytes`, on a crash too): its
 * records are re-checked and compared with the ConsumeQueues, every other queue's last entry must point at its
 * record, and the IndexFile header must name a record. Damage below the checkpoint's flushed offset is skipped
 * when intact records follow (they were acknowledged); a bad record past it is a torn tail and cuts the log
 * there, as RocketMQ does. Queues that disagree with the log are rebuilt from it. Every finding is logged with
 * file and offset and counted in `StoreDamage`.
 */
import { createLogger } from '../common/log.js';
import { RecordPos } from '../common/record.js';
import { readCheckpoint } from './checkpoint.js';
import type { CommitLog } from './commit-log.js';
import type { StoreConfig } from './config.js';
import type { ConsumeQueue } from './consume-queue.js';
import type { StoreDamage } from './damage.js';
import {
  ConsumeQueueDispatcher,
  type Dispatcher,
  dispatchOfRecord,
  type TagsCodeOf,
  takesQueueOffset,
} from './dispatch.js';
import type { IndexService } from './index-service.js';
import type { StorageIO } from './io.js';
import { joinPath } from './io.js';
import { checkIndex, checkQueues, QueueTally, recordBoundaryBefore } from './queue-check.js';
import { inParallel, type QueueTable } from './queue-table.js';
import type { SkippedRange } from './segments.js';

const log = createLogger('store-recovery');
/** Segments re-validated after a crash, counting back from the newest (RocketMQ checks the last 3 too). */
const crashScanSegments = 3;

export interface RecoveryReport {
  clean: boolean;
  /** Where the scan began and where the log ends now. */
  scannedFrom: number;
  logEnd: number;
  /** Records replayed to at least one dispatcher. */
  redispatched: number;
  /** Set when a torn or corrupt record cut the log. */
  truncated: { offset: number; reason: string } | undefined;
  /** Where the checked tail began (records from here re-checked and compared with the ConsumeQueues). */
  checkedFrom: number;
  /** Damaged CommitLog ranges stepped over (the records after each were kept). */
  skipped: SkippedRange[];
  /** `topic/queueId` of every ConsumeQueue rebuilt from the CommitLog. */
  rebuiltQueues: string[];
  /** Set when the IndexFiles were dropped and rebuilt. */
  indexRebuilt: boolean;
  /** Findings of this recovery (also in `StoreDamage.found`). */
  damageFound: number;
  queues: number;
  durationMs: number;
}

/** What recovery loads and repairs. */
export interface RecoveryTarget {
  readonly io: StorageIO;
  readonly config: StoreConfig;
  readonly commitLog: CommitLog;
  readonly queues: QueueTable;
  readonly index: IndexService;
  readonly dispatchers: readonly Dispatcher[];
  readonly tagsCodeOf: TagsCodeOf;
  readonly damage: StoreDamage;
}

/** Recovers the log and every dispatch target; the log end is the report's `logEnd`. */
export async function recoverStore(s: RecoveryTarget): Promise<RecoveryReport> {
  const t0 = performance.now();
  const io = s.io;
  const root = s.config.storePathRootDir;
  const damage = s.damage;
  const findingsBefore = damage.found.length;
  await io.mkdirp(root);
  const crashed = await io.exists(joinPath(root, 'abort'));
  const cp = await readCheckpoint(io, joinPath(root, 'checkpoint'));
  const segments = await s.commitLog.load();
  await s.queues.load();
  if (s.config.messageIndexEnable) await s.index.load();
  for (const d of s.dispatchers) await d.load?.();
  const minPhy = s.commitLog.minOffset();
  const clean = !crashed && cp !== undefined;
  // The checkpoint vouches for the log up to here (after a clean stop: its end).
  const trustedEnd = cp === undefined ? minPhy : Math.max(minPhy, cp.flushedPhyOffset);
  const segFile = (offset: number) => s.commitLog.segmentPath(offset - (offset % s.commitLog.segmentBytes));

  let indexRebuilt = false;
  if (clean && s.config.messageIndexEnable) {
    const what = await checkIndex(s.index, s.commitLog, trustedEnd);
    if (what !== undefined) {
      damage.report({ file: joinPath(root, 'index', s.index.newest()?.name ?? ''), offset: 0, what });
      await s.index.reset();
      indexRebuilt = true;
    }
  }
  const damagedQueues = new Map<ConsumeQueue, string>();
  if (clean) {
    for (const q of s.queues.all()) {
      if (q.tornBytesAtLoad > 0) damagedQueues.set(q, `${q.tornBytesAtLoad} bytes of a partial entry at the end`);
    }
  }

  const durable = cp === undefined ? minPhy : Math.max(minPhy, Math.min(cp.logicsPhyOffset, cp.flushedPhyOffset));
  const froms = s.dispatchers.map((d) => d.replayFrom(durable, minPhy));
  const replayFrom = Math.min(...froms);
  // A segment start far before the target would make start-up slow: then nothing before the trusted end is checked.
  const tailBytes = s.config.recoverTailCheckBytes;
  const tailTarget = Math.max(minPhy, trustedEnd - tailBytes);
  const checkedFrom =
    segments === 0 || tailTarget <= minPhy
      ? minPhy
      : ((await recordBoundaryBefore(s.queues, s.commitLog, tailTarget, Math.max(tailBytes, 1 << 20))) ?? trustedEnd);
  let scanFrom = Math.min(durable, replayFrom, checkedFrom);
  if (!clean && segments > 0) {
    const starts = s.commitLog.segmentStarts();
    scanFrom = Math.min(scanFrom, starts[Math.max(0, starts.length - 1 - crashScanSegments)] as number);
  }
  scanFrom = Math.max(scanFrom, minPhy);

  // Records the ConsumeQueues already hold (below their replay point) are compared, not replayed.
  const cqAt = s.dispatchers.findIndex((d) => d instanceof ConsumeQueueDispatcher);
  const cqFrom = cqAt < 0 ? replayFrom : (froms[cqAt] as number);
  const tally = new QueueTally(checkedFrom, cqFrom);
  let redispatched = 0;
  const scanOpts = { checkCrc: s.config.checkCRCOnRecover, trustedEnd };
  const result = await s.commitLog.scan(scanFrom, scanOpts, async (buf, pos, phy, size) => {
    if (phy < cqFrom) tally.add(buf, pos, phy, size);
    if (phy < replayFrom) return;
    const d = dispatchOfRecord(buf, pos, phy, size, s.tagsCodeOf);
    redispatched++;
    for (let i = 0; i < froms.length; i++) {
      if (phy >= (froms[i] as number)) await (s.dispatchers[i] as Dispatcher).replay(d);
    }
  });
  for (const r of result.skipped) {
    damage.bytesSkipped += r.bytes;
    damage.report({
      file: segFile(r.offset),
      offset: r.offset,
      what: `${r.reason}: ${r.bytes} bytes skipped, the intact records after them kept`,
    });
  }
  if (result.corrupt !== undefined) {
    log.warn('commitlog cut at a torn or corrupt record', {
      file: segFile(result.corrupt.offset),
      offset: result.corrupt.offset,
      reason: result.corrupt.reason,
    });
    if (clean)
      damage.report({
        file: segFile(result.corrupt.offset),
        offset: result.corrupt.offset,
        what: result.corrupt.reason,
      });
    await s.commitLog.truncateAt(result.end);
  } else if (!clean) {
    // After a crash the log may end at a hole (an ASYNC_FLUSH batch not written while the next one was), with
    // unacknowledged records past it. Cut there too: else new records filling the hole exactly would let a later
    // scan read on into those records and bring them back.
    await s.commitLog.truncateAt(result.end);
  }

  for (const f of await checkQueues(s.queues, s.commitLog, tally, result.end, cqFrom)) {
    if (!damagedQueues.has(f.queue)) damagedQueues.set(f.queue, f.what);
  }
  for (const [q, what] of damagedQueues) damage.report({ file: q.dir, offset: 0, what: `ConsumeQueue ${what}` });
  if (damagedQueues.size > 0) await rebuildQueues(s, [...damagedQueues.keys()], result.end, result.skipped);

  await inParallel([...s.queues.all()], async (q) => {
    await q.truncateBeyond(result.end);
    if (minPhy > 0) await q.correctMinOffset(minPhy);
  });
  const rebuiltQueues = [...damagedQueues.keys()].map((q) => `${q.topic}/${q.queueId}`);
  for (const d of s.dispatchers) await d.recovered?.(result.end, rebuiltQueues);
  await s.commitLog.startAt(result.end);
  const report: RecoveryReport = {
    clean,
    scannedFrom: scanFrom,
    logEnd: result.end,
    redispatched,
    truncated: result.corrupt,
    checkedFrom,
    skipped: result.skipped,
    rebuiltQueues,
    indexRebuilt,
    damageFound: damage.found.length - findingsBefore,
    queues: s.queues.queueCount,
    durationMs: performance.now() - t0,
  };
  const fields = {
    clean,
    scannedFrom: scanFrom,
    checkedFrom,
    logEnd: result.end,
    redispatched,
    queues: report.queues,
    ms: Math.round(report.durationMs),
  };
  if (report.damageFound > 0) {
    log.warn('store recovered with damage', {
      ...fields,
      damageFound: report.damageFound,
      bytesSkipped: damage.bytesSkipped,
      rebuiltQueues: report.rebuiltQueues.join(' '),
      indexRebuilt,
    });
  } else log.info('store recovered', fields);
  return report;
}

/**
 * Rebuilds `damaged` queues from the whole CommitLog (RocketMQ's rebuild of a ConsumeQueue from nothing); a
 * record skipped as damaged leaves a hole entry, which readers step over.
 */
async function rebuildQueues(
  s: RecoveryTarget,
  damaged: ConsumeQueue[],
  logEnd: number,
  known: readonly SkippedRange[],
): Promise<void> {
  const t0 = performance.now();
  const want = new Set(damaged);
  for (const q of damaged) await q.clear();
  const result = await s.commitLog.scan(
    s.commitLog.minOffset(),
    { checkCrc: s.config.checkCRCOnRecover, trustedEnd: logEnd },
    async (buf, pos, phy, size) => {
      if (!takesQueueOffset(buf.readInt32BE(pos + RecordPos.sysFlag))) return;
      const tp = pos + RecordPos.body + buf.readInt32BE(pos + RecordPos.bodyLength);
      const q = s.queues.get(
        buf.toString('utf8', tp + 1, tp + 1 + (buf[tp] as number)),
        buf.readInt32BE(pos + RecordPos.queueId),
      );
      if (q === undefined || !want.has(q)) return;
      await s.queues.appendAt(dispatchOfRecord(buf, pos, phy, size, s.tagsCodeOf));
    },
  );
  // Damage older than the checked tail shows up here first.
  for (const r of result.skipped) {
    if (known.some((k) => k.offset === r.offset)) continue;
    s.damage.bytesSkipped += r.bytes;
    s.damage.report({
      file: s.commitLog.segmentPath(r.offset - (r.offset % s.commitLog.segmentBytes)),
      offset: r.offset,
      what: `${r.reason}: ${r.bytes} bytes skipped while rebuilding ConsumeQueues, the records after them kept`,
    });
  }
  if (result.corrupt !== undefined && result.end < logEnd) {
    s.damage.report({
      file: s.commitLog.segmentPath(result.end - (result.end % s.commitLog.segmentBytes)),
      offset: result.end,
      what: `${result.corrupt.reason}: no intact record after it, rebuilt queues end here`,
    });
  }
  s.damage.queuesRebuilt += damaged.length;
  log.warn('ConsumeQueues rebuilt from the CommitLog', {
    queues: damaged.map((q) => `${q.topic}/${q.queueId}`).join(' '),
    ms: Math.round(performance.now() - t0),
  });
}
