/**
 * Background services of the file store: CommitLog flush (ASYNC_FLUSH), ConsumeQueue/Index flush + checkpoint,
 * disk watermarks (`DiskWatch`) and retention (`Retention`). Each runs one turn at a time and never overlaps itself.
 */
import { createLogger } from '../common/log.js';
import type { CommitLog } from './commit-log.js';
import type { StoreConfig } from './config.js';
import type { IndexService } from './index-service.js';
import type { Clock, StorageIO } from './io.js';
import type { QueueTable } from './queue-table.js';

const log = createLogger('store-service');
const hourMs = 3_600_000;
/** How often a disk over the warning ratio is looked at again while puts are refused. */
const fullRecheckMs = 100;

/**
 * Refuses puts above the warning ratio (90 %), lets them through again once below. Between two statfs calls the
 * put path counts the bytes it reserves against the room left under the ratio (`reserve`), so a fast writer is
 * refused before the disk fills up rather than after ENOSPC; running out of that room refreshes the statfs.
 */
export class DiskWatch {
  /** Used fraction of the disk at the last check. */
  ratio = 0;
  /** Set while the disk is over the warning ratio: why puts are refused. */
  fullReason: string | undefined;
  /** Bytes puts may still write before the disk passes the warning ratio: from the last statfs, less reserves. */
  private roomBytes = Number.POSITIVE_INFINITY;
  private checking: Promise<void> | undefined;
  private checkedAtMs = 0;

  constructor(
    private readonly io: StorageIO,
    private readonly config: StoreConfig,
    /** Bytes of the disk allocated ahead of the CommitLog's writes, holding no data (not counted as used). */
    private readonly allocatedAheadBytes: () => number = () => 0,
  ) {}

  /**
   * Counts `bytes` about to be written; a reason to refuse when they may not fit under the ratio (the statfs is
   * then refreshed, and the next put sees the result). One subtraction on the hot path.
   */
  reserve(bytes: number): string | undefined {
    this.roomBytes -= bytes;
    if (this.roomBytes >= 0) return undefined;
    this.roomBytes += bytes;
    if (this.checking === undefined) this.check().catch((err: Error) => log.warn('statfs failed', { err }));
    return `disk nearly full: ${bytes} bytes would take the disk holding ${this.config.storePathRootDir} past ${(this.config.diskSpaceWarningLevelRatio * 100).toFixed(0)}% (${Math.max(0, Math.floor(this.roomBytes))} bytes left under it at the last check)`;
  }

  /** Why puts are refused now; while refusing, the statfs is refreshed often so they resume soon after space is freed. */
  refusal(): string | undefined {
    if (this.fullReason !== undefined && this.checking === undefined && Date.now() - this.checkedAtMs > fullRecheckMs)
      this.check().catch((err: Error) => log.warn('statfs failed', { err }));
    return this.fullReason;
  }

  /** Re-reads the disk usage (one statfs at a time). */
  check(): Promise<void> {
    this.checking ??= this.statfs().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async statfs(): Promise<void> {
    const dir = this.config.storePathRootDir;
    const usage = await this.io.diskUsage(dir);
    this.checkedAtMs = Date.now();
    // Segment blocks allocated before their writes are taken by puts without more of the disk: not used yet.
    const ahead = Math.min(this.allocatedAheadBytes(), usage.totalBytes - usage.freeBytes);
    const ratio = usage.totalBytes > 0 ? Math.max(0, usage.usedRatio - ahead / usage.totalBytes) : usage.usedRatio;
    this.ratio = ratio;
    const limit = this.config.diskSpaceWarningLevelRatio;
    this.roomBytes = Math.max(0, limit * usage.totalBytes - (usage.totalBytes - usage.freeBytes - ahead));
    if (ratio > limit) {
      const reason = `disk full: ${(ratio * 100).toFixed(1)}% of the disk holding ${dir} is used (limit ${(limit * 100).toFixed(0)}%), puts are refused until space is freed`;
      if (this.fullReason === undefined) log.error('disk nearly full, refusing puts', { ratio });
      this.fullReason = reason;
    } else if (this.fullReason !== undefined) {
      log.info('disk usage back under the limit, accepting puts', { ratio });
      this.fullReason = undefined;
    }
  }
}

/**
 * Deletes CommitLog segments past fileReservedTime at `deleteWhen` hours, or at once when the disk is above
 * diskMaxUsedSpaceRatio; above diskSpaceCleanForciblyRatio the oldest segment goes even if not expired.
 * Never the active segment. Then removes ConsumeQueue and Index files wholly below the log's min offset.
 */
export class Retention {
  constructor(
    private readonly io: StorageIO,
    private readonly config: StoreConfig,
    private readonly clock: Clock,
    private readonly disk: DiskWatch,
    private readonly commitLog: CommitLog,
    private readonly queues: QueueTable,
    private readonly index: IndexService,
    /** Side indexes with files per queue (the filter bitmap), cut with the ConsumeQueues. */
    private readonly sideIndexes: readonly { deleteBelow(minPhy: number): Promise<void> }[] = [],
  ) {}

  /** One turn; `force` deletes expired segments whatever the hour. Returns the segments deleted. */
  async clean(force = false): Promise<number> {
    const c = this.config;
    const now = this.clock.now();
    const ratio = this.disk.ratio;
    const hour = String(new Date(now).getHours()).padStart(2, '0');
    const atDeleteHour = c.deleteWhen.split(';').some((h) => h.trim().padStart(2, '0') === hour);
    const overUsed = ratio * 100 > c.diskMaxUsedSpaceRatio;
    const forcibly = ratio > c.diskSpaceCleanForciblyRatio;
    if (!force && !atDeleteHour && !overUsed) return 0;
    let deleted = 0;
    const reservedMs = c.fileReservedTime * hourMs;
    for (const start of this.commitLog.segmentStarts()) {
      const mtime = await this.io.mtimeMs(this.commitLog.segmentPath(start)).catch(() => now);
      const expired = now - mtime >= reservedMs;
      if (!expired && !(forcibly && deleted === 0)) break;
      if (!(await this.commitLog.deleteFirstSegment())) break;
      deleted++;
    }
    if (deleted === 0) return 0;
    const minPhy = this.commitLog.minOffset();
    log.info('deleted expired commitlog segments', { deleted, minPhyOffset: minPhy, diskRatio: ratio.toFixed(3) });
    for (const q of this.queues.all()) await q.deleteBelow(minPhy);
    await this.index.deleteBelow(minPhy);
    for (const side of this.sideIndexes) await side.deleteBelow(minPhy);
    return deleted;
  }
}

/** What the timers run. */
export interface ServiceTargets {
  readonly config: StoreConfig;
  readonly commitLog: CommitLog;
  readonly disk: DiskWatch;
  readonly retention: Retention;
  checkpointTurn(): Promise<void>;
}

/** Starts the timers; the returned function stops them. */
export function startServices(s: ServiceTargets): () => void {
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => Promise<unknown>) => {
    let busy = false;
    const t = setInterval(() => {
      if (busy) return;
      busy = true;
      fn()
        .catch((err: Error) => log.error('store service failed', { err }))
        .finally(() => (busy = false));
    }, ms);
    t.unref();
    timers.push(t);
  };
  if (s.config.flushDiskType === 'ASYNC_FLUSH') {
    every(s.config.flushIntervalCommitLog, async () => {
      try {
        await s.commitLog.flush();
      } catch (err) {
        s.commitLog.fail(`CommitLog fdatasync failed: ${(err as Error).message}`);
      }
    });
  }
  every(s.config.flushIntervalConsumeQueue, () => s.checkpointTurn());
  every(s.config.diskCheckInterval, () => s.disk.check());
  every(s.config.cleanResourceInterval, () => s.retention.clean());
  return () => {
    for (const t of timers) clearInterval(t);
  };
}
