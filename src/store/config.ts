/** Store configuration, with RocketMQ's key names (MessageStoreConfig) and defaults. */
import path from 'node:path';
import { type ConfigKey, inertKey } from '../common/config.js';
import { defaultMessageDelayLevel, delayLevelProblem } from './delay-levels.js';

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
  /**
   * CommitLog blocks kept allocated this far past the write position: zeros written and fdatasync'd by a worker
   * thread (RocketMQ's warmMapedFileEnable, as a window), so the put path's copies never wait for block allocation.
   * Off (0) by default: on the shared machine its inode-lock waits outweighed the allocation waits it removed.
   */
  commitLogPreallocateAheadBytes: number;
  /** Allocate each CommitLog segment's blocks (unwritten extents) before its first write (allocate.ts; Linux). */
  commitLogAllocateSegments: boolean;
  /** Check BODYCRC of every record scanned at recovery. */
  checkCRCOnRecover: boolean;
  /**
   * Bytes at the CommitLog's end re-checked at every start, clean or not (magic, sizes, BODYCRC, and the
   * ConsumeQueue entries of those records); RocketMQ re-checks its last 3 segment files.
   */
  recoverTailCheckBytes: number;
  /** Delay of each level of delayed and retried messages ("1s 5s 10s …"; units ms, s, m, h, d). */
  messageDelayLevel: string;
  /** Period of the delay service's progress write, config/delayOffset.json (ms). */
  flushDelayOffsetInterval: number;
  /** Timer messages (TIMER_DELIVER_MS / TIMER_DELAY_SEC / TIMER_DELAY_MS, __STARTDELIVERTIME) are accepted. */
  timerWheelEnable: boolean;
  /** Width of a timer slot (ms): a timer message is delivered within this after its time, never before. */
  timerPrecisionMs: number;
  /** Longest timer delay accepted (s); later deliver times are refused MESSAGE_ILLEGAL. */
  timerMaxDelaySec: number;
  /** "ip:port" written as STOREHOST and used in offsetMsgIds. */
  storeHost: string;
  /** The far-apart records a filter bitmap picks are read in a worker thread (else on the main thread). */
  sparseReadWorkerEnable: boolean;
  /** Selective SQL92 subscriptions keep their matches in memory (bitmap/match-lists.ts); off: pulls scan the bitmap. */
  filterMatchListEnable: boolean;
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
    commitLogPreallocateAheadBytes: 0,
    commitLogAllocateSegments: true,
    checkCRCOnRecover: true,
    recoverTailCheckBytes: 64 * 1024 * 1024,
    messageDelayLevel: defaultMessageDelayLevel,
    flushDelayOffsetInterval: 10_000,
    timerWheelEnable: true,
    timerPrecisionMs: 1000,
    timerMaxDelaySec: 259_200,
    storeHost: '127.0.0.1:10911',
    sparseReadWorkerEnable: true,
    filterMatchListEnable: true,
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

const positive = { kind: 'int', min: 1 } as const;
const ratio = (v: number): string | undefined => (v > 0 && v <= 1 ? undefined : 'expected a ratio in (0, 1]');

/** Keys of a broker.conf that configure the store (all but storeHost, which the broker sets). */
export const storeKeys: { readonly [K in keyof Omit<StoreConfig, 'storeHost'>]-?: ConfigKey<StoreConfig[K]> } = {
  storePathRootDir: {
    kind: 'string',
    default: path.resolve('data', 'store'),
    defaultText: './data/store',
    doc: 'Root of the store files (commitlog/, consumequeue/, index/, checkpoint, abort).',
  },
  storePathCommitLog: {
    kind: 'string',
    default: path.resolve('data', 'store', 'commitlog'),
    defaultText: '<storePathRootDir>/commitlog',
    doc: 'CommitLog folder.',
  },
  mappedFileSizeCommitLog: {
    ...positive,
    default: 1024 * 1024 * 1024,
    doc: 'CommitLog segment size in bytes (also read as mapedFileSizeCommitLog).',
  },
  mappedFileSizeConsumeQueue: {
    ...positive,
    min: 20,
    default: 300_000 * 20,
    doc: 'ConsumeQueue file size in bytes, rounded down to whole 20-byte entries.',
  },
  flushDiskType: {
    kind: 'string',
    default: FlushDiskType.ASYNC_FLUSH,
    values: [FlushDiskType.ASYNC_FLUSH, FlushDiskType.SYNC_FLUSH],
    doc: 'ASYNC_FLUSH: fdatasync every flushIntervalCommitLog ms; SYNC_FLUSH: a send is acknowledged once on disk.',
  },
  flushIntervalCommitLog: { ...positive, default: 500, doc: 'ASYNC_FLUSH: fdatasync period of the CommitLog (ms).' },
  flushIntervalConsumeQueue: {
    ...positive,
    default: 1000,
    doc: 'Period of the ConsumeQueue/IndexFile flush and checkpoint (ms).',
  },
  syncFlushTimeout: {
    ...positive,
    default: 5000,
    doc: 'SYNC_FLUSH: a send waiting longer for fdatasync answers FLUSH_DISK_TIMEOUT (ms).',
  },
  fileReservedTime: { ...positive, default: 72, doc: 'Hours a CommitLog segment is kept after its last write.' },
  deleteWhen: {
    kind: 'string',
    default: '04',
    check: (v) => (/^\d{2}(;\d{2})*$/.test(v) ? undefined : 'expected hours of day like 04 or 04;16'),
    doc: 'Hours of day (two digits, ;-separated) when expired files are deleted.',
  },
  diskMaxUsedSpaceRatio: {
    kind: 'int',
    default: 75,
    min: 10,
    max: 95,
    doc: 'Disk used percentage above which expired files are deleted at once.',
  },
  diskSpaceCleanForciblyRatio: {
    kind: 'number',
    default: 0.85,
    check: ratio,
    doc: 'Disk used ratio above which the oldest files are deleted even if not expired (RocketMQ: a system property).',
  },
  diskSpaceWarningLevelRatio: {
    kind: 'number',
    default: 0.9,
    check: ratio,
    doc: 'Disk used ratio above which sends are refused until space frees (RocketMQ: a system property).',
  },
  cleanResourceInterval: { ...positive, default: 10_000, doc: 'Period of the retention check (ms).' },
  diskCheckInterval: {
    ...positive,
    default: 1000,
    tsrocket: true,
    doc: 'Period of the disk-ratio check that refuses and re-allows sends (ms).',
  },
  maxMessageSize: { ...positive, default: 4 * 1024 * 1024, doc: 'Largest message body in bytes.' },
  maxPropertiesSize: {
    kind: 'int',
    default: 32767,
    min: 1,
    max: 32767,
    tsrocket: true,
    doc: 'Largest encoded properties string in bytes (the record holds a signed 16-bit length).',
  },
  messageIndexEnable: { kind: 'bool', default: true, doc: 'Index message keys and ids for queries (IndexFile).' },
  maxHashSlotNum: { ...positive, default: 5_000_000, doc: 'Hash slots per IndexFile.' },
  maxIndexNum: { ...positive, default: 20_000_000, doc: 'Entries per IndexFile.' },
  osPageCacheBusyTimeOutMills: {
    ...positive,
    default: 1000,
    doc: 'Flow control: sends answer SYSTEM_BUSY while the oldest waiting write has made no progress this long (ms).',
  },
  maxUnwrittenPutBytes: {
    ...positive,
    default: 256 * 1024 * 1024,
    tsrocket: true,
    doc: 'Flow control: sends that would leave more bytes than this waiting for the CommitLog write are refused.',
  },
  commitLogPreallocateAheadBytes: {
    kind: 'int',
    min: 0,
    default: 0,
    tsrocket: true,
    doc:
      'CommitLog blocks kept allocated (zeros written and synced by a worker thread) this far past the write ' +
      'position, so writes never wait for the file system to allocate blocks (e.g. 33554432); 0 (the default): off.',
  },
  commitLogAllocateSegments: {
    kind: 'bool',
    default: true,
    tsrocket: true,
    doc:
      "Allocate each CommitLog segment's blocks (fallocate(1): unwritten extents, no data written) before its first " +
      'write, so writes never wait for the file system to map blocks behind the flush (Linux; elsewhere, or when ' +
      'fallocate fails, segments stay sparse). A new segment then counts as used disk space at once.',
  },
  checkCRCOnRecover: { kind: 'bool', default: true, doc: 'Check the body CRC of every record scanned at recovery.' },
  recoverTailCheckBytes: {
    kind: 'int',
    min: 0,
    default: 64 * 1024 * 1024,
    tsrocket: true,
    doc:
      'CommitLog bytes at its end re-checked at every start, clean or not (magic, sizes, body CRC) and compared ' +
      'with the ConsumeQueues; damage found there is reported and the queues rebuilt (RocketMQ: the last 3 files).',
  },
  messageDelayLevel: {
    kind: 'string',
    default: defaultMessageDelayLevel,
    check: delayLevelProblem,
    doc:
      'Delay of each level of delayed messages (DELAY) and of retries (level 3 + reconsumeTimes): numbers with ' +
      'a unit s, m, h or d, space separated; tsrocket also accepts ms (tests). A level above the last is the last.',
  },
  flushDelayOffsetInterval: {
    ...positive,
    default: 10_000,
    doc: 'Period of the delay service progress write, config/delayOffset.json (ms); a crash may redeliver what was delivered since.',
  },
  sparseReadWorkerEnable: {
    kind: 'bool',
    default: true,
    tsrocket: true,
    doc:
      'SQL92 pulls with the filter bitmap read the records they pick (far apart in the CommitLog) in a worker ' +
      "thread: a pull that filled up has its stream's next pull read ahead there while its answer travels (the " +
      'first pull of a stream: one job it waits for). Off: blocking reads on the main thread, which then spends ' +
      '~1.5 × as much per filtered pull (docs/performance.md).',
  },
  filterMatchListEnable: {
    kind: 'bool',
    default: true,
    tsrocket: true,
    doc:
      'SQL92 subscriptions that match few records keep their matches per queue in memory (at most ~21 MB for the ' +
      'process): a pull takes its candidates from there instead of reading and scanning the filter bitmap; after a ' +
      'start the older matches are read in the background from the first pull on. Off: every pull scans the bitmap.',
  },
  timerWheelEnable: {
    kind: 'bool',
    default: true,
    doc: 'Accept timer messages (TIMER_DELIVER_MS / TIMER_DELAY_SEC / TIMER_DELAY_MS, __STARTDELIVERTIME); off: refused.',
  },
  timerPrecisionMs: {
    kind: 'int',
    min: 100,
    max: 1000,
    default: 1000,
    doc:
      'Timer precision (ms): a timer message is delivered within this after its time, never before ' +
      '(the wheel fires in ticks of 10 ms).',
  },
  timerMaxDelaySec: {
    ...positive,
    default: 259_200,
    doc: 'Longest timer delay (s); a later deliver time is refused MESSAGE_ILLEGAL (no roll needed: no wheel window).',
  },
};

/** Old spellings RocketMQ 4.x read. */
export const storeKeyAliases: Readonly<Record<string, string>> = {
  mapedFileSizeCommitLog: 'mappedFileSizeCommitLog',
  mapedFileSizeConsumeQueue: 'mappedFileSizeConsumeQueue',
};

const ha = 'HA replication (master/replica)';
const pageCache = 'tsrocket writes through its own buffers and the page cache';

/** MessageStoreConfig keys whose feature is not built yet (refused when changed) or that mean nothing here. */
export const storePlannedKeys: Readonly<Record<string, ConfigKey>> = {
  haListenPort: { kind: 'int', default: 10912, notBuilt: { feature: ha }, doc: 'Port replicas connect to.' },
  haMasterAddress: { kind: 'string', default: '', notBuilt: { feature: ha }, doc: 'Master HA address of a replica.' },
  haSendHeartbeatInterval: { kind: 'int', default: 5000, notBuilt: { feature: ha }, doc: 'Replica heartbeat (ms).' },
  haSlaveFallbehindMax: {
    kind: 'int',
    default: 256 * 1024 * 1024,
    notBuilt: { feature: ha },
    doc: 'Bytes a replica may lag before SYNC_MASTER sends fail.',
  },
  enableDLegerCommitLog: {
    kind: 'bool',
    default: false,
    notBuilt: { feature: 'DLedger (Raft) CommitLog replication' },
    doc: 'Raft-replicated CommitLog.',
  },
  duplicationEnable: {
    kind: 'bool',
    default: false,
    notBuilt: { feature: 'store duplication' },
    doc: 'Keep the physical offsets of a copied CommitLog.',
  },
  transientStorePoolEnable: inertKey('bool', false, pageCache, 'Off-heap write buffer pool.'),
  transientStorePoolSize: inertKey('int', 5, pageCache, 'Buffers in the off-heap pool.'),
  warmMapedFileEnable: inertKey('bool', false, pageCache, 'Pre-touch new segments.'),
  flushCommitLogLeastPages: inertKey('int', 4, 'flushes cover whatever was written', 'Pages per CommitLog flush.'),
  flushConsumeQueueLeastPages: inertKey('int', 2, 'flushes cover whatever was written', 'Pages per CQ flush.'),
  flushCommitLogThoroughInterval: inertKey('int', 10_000, 'flushes cover whatever was written', 'Forced flush.'),
  flushConsumeQueueThoroughInterval: inertKey('int', 60_000, 'flushes cover whatever was written', 'Forced flush.'),
  commitIntervalCommitLog: inertKey('int', 200, pageCache, 'Commit period of the transient pool.'),
  flushCommitLogTimed: inertKey('bool', false, 'the flush loop runs on its own timer', 'Timed flush.'),
  useReentrantLockWhenPutMessage: inertKey('bool', false, 'puts are serialized by the event loop', 'Put lock kind.'),
  cleanFileForciblyEnable: inertKey(
    'bool',
    true,
    'always on: see diskSpaceCleanForciblyRatio',
    'Delete unexpired files when the disk is full.',
  ),
  maxTransferBytesOnMessageInMemory: inertKey('int', 256 * 1024, 'see pullBytesMax', 'Pull bytes (memory).'),
  maxTransferCountOnMessageInMemory: inertKey('int', 32, 'see pullMsgNumsMax', 'Pull count (memory).'),
  maxTransferBytesOnMessageInDisk: inertKey('int', 64 * 1024, 'see pullBytesMax', 'Pull bytes (disk).'),
  maxTransferCountOnMessageInDisk: inertKey('int', 8, 'see pullMsgNumsMax', 'Pull count (disk).'),
  accessMessageInMemoryMaxRatio: inertKey('int', 40, pageCache, 'Memory ratio for reads.'),
};
