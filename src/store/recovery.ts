/**
 * Start-up: load segments, ConsumeQueues (in parallel) and IndexFiles; scan the CommitLog from the checkpoint
 * (clean shutdown) or further back (crash: abort marker present), validating magic, length and CRC; cut the log
 * at the first torn/corrupt record; replay each record to every dispatcher that has not made it durable; drop
 * queue entries past the log end.
 */
import { createLogger } from '../common/log.js';
import { readCheckpoint } from './checkpoint.js';
import type { CommitLog } from './commit-log.js';
import type { StoreConfig } from './config.js';
import { type Dispatcher, dispatchOfRecord, type TagsCodeOf } from './dispatch.js';
import type { IndexService } from './index-service.js';
import type { StorageIO } from './io.js';
import { joinPath } from './io.js';
import { inParallel, type QueueTable } from './queue-table.js';

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
}

/** Recovers the log and every dispatch target; the log end is the report's `logEnd`. */
export async function recoverStore(s: RecoveryTarget): Promise<RecoveryReport> {
  const t0 = performance.now();
  const io = s.io;
  const root = s.config.storePathRootDir;
  await io.mkdirp(root);
  const crashed = await io.exists(joinPath(root, 'abort'));
  const cp = await readCheckpoint(io, joinPath(root, 'checkpoint'));
  const segments = await s.commitLog.load();
  await s.queues.load();
  if (s.config.messageIndexEnable) await s.index.load();
  const minPhy = s.commitLog.minOffset();
  const clean = !crashed && cp !== undefined;

  const durable = cp === undefined ? minPhy : Math.max(minPhy, Math.min(cp.logicsPhyOffset, cp.flushedPhyOffset));
  const froms = s.dispatchers.map((d) => d.replayFrom(durable, minPhy));
  const replayFrom = Math.min(...froms);
  let scanFrom = Math.min(durable, replayFrom);
  if (!clean && segments > 0) {
    const starts = s.commitLog.segmentStarts();
    scanFrom = Math.min(scanFrom, starts[Math.max(0, starts.length - 1 - crashScanSegments)] as number);
  }
  scanFrom = Math.max(scanFrom, minPhy);

  let redispatched = 0;
  const result = await s.commitLog.scan(scanFrom, s.config.checkCRCOnRecover, async (buf, pos, phy, size) => {
    if (phy < replayFrom) return;
    const d = dispatchOfRecord(buf, pos, phy, size, s.tagsCodeOf);
    redispatched++;
    for (let i = 0; i < froms.length; i++) {
      if (phy >= (froms[i] as number)) await (s.dispatchers[i] as Dispatcher).replay(d);
    }
  });
  if (result.corrupt !== undefined) {
    log.warn('commitlog cut at a torn or corrupt record', {
      offset: result.corrupt.offset,
      reason: result.corrupt.reason,
    });
    await s.commitLog.truncateAt(result.end);
  }
  await inParallel([...s.queues.all()], async (q) => {
    await q.truncateBeyond(result.end);
    if (minPhy > 0) await q.correctMinOffset(minPhy);
  });
  await s.commitLog.startAt(result.end);
  const report: RecoveryReport = {
    clean,
    scannedFrom: scanFrom,
    logEnd: result.end,
    redispatched,
    truncated: result.corrupt,
    queues: s.queues.queueCount,
    durationMs: performance.now() - t0,
  };
  log.info('store recovered', {
    clean,
    scannedFrom: scanFrom,
    logEnd: result.end,
    redispatched,
    queues: report.queues,
    ms: Math.round(report.durationMs),
  });
  return report;
}
