/**
 * Background services of the file store: CommitLog flush (ASYNC_FLUSH), ConsumeQueue/Index flush + checkpoint,
 * disk watermarks and retention. Each runs one turn at a time and never overlaps itself.
 */
import { createLogger } from '../common/log.js';
import type { FileMessageStore } from './file-store.js';

const log = createLogger('store-service');
const hourMs = 3_600_000;

export interface StoreServices {
  stop(): void;
  /** Runs one disk check + retention turn now (tests, admin "clean now"). */
  cleanNow(): Promise<void>;
}

export function startServices(s: FileMessageStore): StoreServices {
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => Promise<void>) => {
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
  every(s.config.flushIntervalConsumeQueue, () => s.checkpoint().catch(() => undefined));
  every(s.config.diskCheckInterval, () => checkDisk(s));
  every(s.config.cleanResourceInterval, async () => {
    await cleanExpired(s);
  });
  return {
    stop: () => {
      for (const t of timers) clearInterval(t);
    },
    cleanNow: async () => {
      await checkDisk(s);
      await cleanExpired(s, true);
    },
  };
}

/** Refuses puts above the warning ratio (90 %), lets them through again once below. */
export async function checkDisk(s: FileMessageStore): Promise<void> {
  const ratio = await s.io.diskUsedRatio(s.config.storePathRootDir);
  s.lastDiskRatio = ratio;
  const limit = s.config.diskSpaceWarningLevelRatio;
  if (ratio > limit) {
    const reason = `disk full: ${(ratio * 100).toFixed(1)}% of the disk holding ${s.config.storePathRootDir} is used (limit ${(limit * 100).toFixed(0)}%), puts are refused until space is freed`;
    if (s.diskFullReason === undefined) log.error('disk nearly full, refusing puts', { ratio });
    s.diskFullReason = reason;
  } else if (s.diskFullReason !== undefined) {
    log.info('disk usage back under the limit, accepting puts', { ratio });
    s.diskFullReason = undefined;
  }
}

/**
 * Deletes CommitLog segments past fileReservedTime at `deleteWhen` hours, or at once when the disk is above
 * diskMaxUsedSpaceRatio; above diskSpaceCleanForciblyRatio the oldest segment goes even if not expired.
 * Never the active segment. Then removes ConsumeQueue and Index files wholly below the log's min offset.
 */
export async function cleanExpired(s: FileMessageStore, force = false): Promise<number> {
  const now = s.clock.now();
  const ratio = s.lastDiskRatio;
  const hour = String(new Date(now).getHours()).padStart(2, '0');
  const atDeleteHour = s.config.deleteWhen.split(';').some((h) => h.trim().padStart(2, '0') === hour);
  const overUsed = ratio * 100 > s.config.diskMaxUsedSpaceRatio;
  const forcibly = ratio > s.config.diskSpaceCleanForciblyRatio;
  if (!force && !atDeleteHour && !overUsed) return 0;
  let deleted = 0;
  const reservedMs = s.config.fileReservedTime * hourMs;
  for (const start of s.commitLog.segmentStarts()) {
    const mtime = await s.io.mtimeMs(s.commitLog.segmentPath(start)).catch(() => now);
    const expired = now - mtime >= reservedMs;
    if (!expired && !(forcibly && deleted === 0)) break;
    if (!(await s.commitLog.deleteFirstSegment())) break;
    deleted++;
  }
  if (deleted === 0) return 0;
  const minPhy = s.commitLog.minOffset();
  log.info('deleted expired commitlog segments', { deleted, minPhyOffset: minPhy, diskRatio: ratio.toFixed(3) });
  for (const q of s.allQueues()) await q.deleteBelow(minPhy);
  await s.index.deleteBelow(minPhy);
  return deleted;
}
