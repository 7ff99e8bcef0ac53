/** Store configuration, with RocketMQ's key names (MessageStoreConfig) and defaults. */
import path from 'node:path';

export const FlushDiskType = { ASYNC_FLUSH: 'ASYNC_FLUSH', SYNC_FLUSH: 'SYNC_FLUSH' } as const;
export type FlushDiskType = (typeof FlushDiskType)[keyof typeof FlushDiskType];

export interface StoreConfig {
  /** Root of all store files (commitlog/, consumequeue/, index/, checkpoint, abort). */
  storePathRootDir: string;
  /** CommitLog folder; defaults to `<root>/commitlog`. */
  storePathCommitLog: string;
  /** CommitLog segment size in bytes (1 GiB). */
  mappedFileSizeCommitLog: number;
  /** ConsumeQueue file size in bytes: 300,000 entries of 20 bytes. */
  mappedFileSizeConsumeQueue: number;
  flushDiskType: FlushDiskType;
  /** ASYNC_FLUSH: fdatasync period of the CommitLog (ms). */
  flushIntervalCommitLog: number;
  /** Period of ConsumeQueue/Index flush + checkpoint (ms). */
  flushIntervalConsumeQueue: number;
  /** SYNC_FLUSH: a put waiting longer than this for fdatasync answers FLUSH_DISK_TIMEOUT (ms). */
  syncFlushTimeout: number;
  /** Hours a CommitLog segment is kept after its last write. */
  fileReservedTime: number;
  /** Hours of day (two digits, `;`-separated) when expired files are deleted. */
  deleteWhen: string;
  /** Disk used percentage above which expired files are deleted at once (75). */
  diskMaxUsedSpaceRatio: number;
  /** Disk used ratio above which the oldest files are deleted even if not expired (0.85). */
  diskSpaceCleanForciblyRatio: number;
  /** Disk used ratio above which puts are refused (0.90). */
  diskSpaceWarningLevelRatio: number;
  /** Period of the retention and disk check (ms). */
  cleanResourceInterval: number;
  /** Period of the disk-ratio check that refuses / re-allows puts (ms). */
  diskCheckInterval: number;
  /** Largest message body in bytes (4 MiB). */
  maxMessageSize: number;
  /** Largest encoded properties string in bytes (32 KiB - 1: the record stores a signed short). */
  maxPropertiesSize: number;
  messageIndexEnable: boolean;
  maxHashSlotNum: number;
  maxIndexNum: number;
  /**
   * Flow control: while the oldest put waiting for the CommitLog write has seen no write progress for this long
   * (ms), new puts answer OS_PAGE_CACHE_BUSY (SYSTEM_BUSY on the wire) instead of queueing in memory.
   */
  osPageCacheBusyTimeOutMills: number;
  /** Flow control: puts that would leave more than this many bytes waiting for the CommitLog write are refused. */
  maxUnwrittenPutBytes: number;
  /** Check BODYCRC of every record scanned at recovery. */
  checkCRCOnRecover: boolean;
  /** "ip:port" written as STOREHOST and used in offsetMsgIds. */
  storeHost: string;
}

/** RocketMQ's defaults; `storePathRootDir` defaults to ./data/store. */
export function defaultStoreConfig(storePathRootDir = path.resolve('data', 'store')): StoreConfig {
  return {
    storePathRootDir,
    storePathCommitLog: path.join(storePathRootDir, 'commitlog'),
    mappedFileSizeCommitLog: 1024 * 1024 * 1024,
    mappedFileSizeConsumeQueue: 300_000 * 20,
    flushDiskType: FlushDiskType.ASYNC_FLUSH,
    flushIntervalCommitLog: 500,
    flushIntervalConsumeQueue: 1000,
    syncFlushTimeout: 5000,
    fileReservedTime: 72,
    deleteWhen: '04',
    diskMaxUsedSpaceRatio: 75,
    diskSpaceCleanForciblyRatio: 0.85,
    diskSpaceWarningLevelRatio: 0.9,
    cleanResourceInterval: 10_000,
    diskCheckInterval: 1000,
    maxMessageSize: 4 * 1024 * 1024,
    maxPropertiesSize: 32767,
    messageIndexEnable: true,
    maxHashSlotNum: 5_000_000,
    maxIndexNum: 20_000_000,
    osPageCacheBusyTimeOutMills: 1000,
    maxUnwrittenPutBytes: 256 * 1024 * 1024,
    checkCRCOnRecover: true,
    storeHost: '127.0.0.1:10911',
  };
}

/** Fills defaults; `storePathCommitLog` follows `storePathRootDir` unless given. */
export function resolveStoreConfig(partial: Partial<StoreConfig>): StoreConfig {
  const root = partial.storePathRootDir ?? path.resolve('data', 'store');
  const out = { ...defaultStoreConfig(root), ...stripUndefined(partial) };
  if (partial.storePathCommitLog === undefined) out.storePathCommitLog = path.join(root, 'commitlog');
  if (out.mappedFileSizeConsumeQueue % 20 !== 0) {
    out.mappedFileSizeConsumeQueue -= out.mappedFileSizeConsumeQueue % 20;
  }
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
