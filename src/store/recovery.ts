/**
 * Start-up: load segments, ConsumeQueues (in parallel) and IndexFiles; scan the CommitLog from the checkpoint
 * (clean shutdown) or further back (crash: abort marker present), validating magic, length and CRC; cut the log
 * at the first torn/corrupt record; re-dispatch records past what ConsumeQueue/Index made durable; drop queue
 * entries past the log end.
 */
import { createLogger } from '../common/log.js';
import { decodeProperties, keySeparator, Prop } from '../common/properties.js';
import { RecordPos } from '../common/record.js';
import { readCheckpoint } from './checkpoint.js';
import type { DispatchRequest } from './commit-log.js';
import type { FileMessageStore } from './file-store.js';

const log = createLogger('store-recovery');
/** Segments re-validated after a crash, counting back from the newest (RocketMQ checks the last 3 too). */
const crashScanSegments = 3;
const loadConcurrency = 32;

export interface RecoveryReport {
  clean: boolean;
  /** Where the scan began and where the log ends now. */
  scannedFrom: number;
  logEnd: number;
  /** Records re-dispatched into ConsumeQueue/Index. */
  redispatched: number;
  /** Set when a torn or corrupt record cut the log. */
  truncated: { offset: number; reason: string } | undefined;
  queues: number;
  durationMs: number;
}

export async function recoverStore(s: FileMessageStore): Promise<RecoveryReport> {
  const t0 = performance.now();
  const io = s.io;
  await io.mkdirp(s.config.storePathRootDir);
  const abortPath = s.path('abort');
  const crashed = await io.exists(abortPath);
  const cp = await readCheckpoint(io, s.path('checkpoint'));
  const segments = await s.commitLog.load();
  const queueCount = await loadQueues(s);
  const indexFiles = s.config.messageIndexEnable ? await s.index.load() : 0;
  const minPhy = s.commitLog.minOffset();
  const clean = !crashed && cp !== undefined;

  const durable = cp === undefined ? minPhy : Math.max(minPhy, Math.min(cp.logicsPhyOffset, cp.flushedPhyOffset));
  const cqFrom = queueCount === 0 ? minPhy : durable;
  const idxFrom = !s.config.messageIndexEnable ? Number.POSITIVE_INFINITY : indexFiles === 0 ? minPhy : durable;
  let scanFrom = Math.min(cqFrom, idxFrom, durable);
  if (!clean && segments > 0) {
    const starts = s.commitLog.segmentStarts();
    scanFrom = Math.min(scanFrom, starts[Math.max(0, starts.length - 1 - crashScanSegments)] as number);
  }
  scanFrom = Math.max(scanFrom, minPhy);

  let redispatched = 0;
  const result = await s.commitLog.scan(scanFrom, s.config.checkCRCOnRecover, async (buf, pos, phy, size) => {
    const toCq = phy >= cqFrom;
    const toIdx = phy >= idxFrom;
    if (!toCq && !toIdx) return;
    const d = dispatchOf(s, buf, pos, phy, size);
    redispatched++;
    if (toCq && (d.sysFlag & 0xc) !== 0x4 && (d.sysFlag & 0xc) !== 0xc) {
      const q = s.queueFor(d.topic, d.queueId);
      if (!q.tryAppendAt(d.queueOffset, phy, size, d.tagsCode))
        await q.recoverPut(d.queueOffset, phy, size, d.tagsCode);
      s.dirtyQueues.add(q);
    }
    if (toIdx) s.index.put(d);
  });
  if (result.corrupt !== undefined) {
    log.warn('commitlog cut at a torn or corrupt record', {
      offset: result.corrupt.offset,
      reason: result.corrupt.reason,
    });
    await s.commitLog.truncateAt(result.end);
  }
  await inParallel([...s.allQueues()], async (q) => {
    await q.truncateBeyond(result.end);
    if (minPhy > 0) await q.correctMinOffset(minPhy);
  });
  await s.commitLog.startAt(result.end);
  s.dispatchedOffset = result.end;
  await io.writeFileDurable(abortPath, Buffer.alloc(0));
  await s.checkpoint();
  const report: RecoveryReport = {
    clean,
    scannedFrom: scanFrom,
    logEnd: result.end,
    redispatched,
    truncated: result.corrupt,
    queues: [...s.allQueues()].length,
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

/** Finds consumequeue/<topic>/<queueId> folders and loads them, many at a time. */
async function loadQueues(s: FileMessageStore): Promise<number> {
  const root = s.path('consumequeue');
  const found: Array<{ topic: string; queueId: number }> = [];
  for (const topic of await s.io.readdir(root)) {
    for (const id of await s.io.readdir(s.path('consumequeue', topic))) {
      if (/^\d+$/.test(id)) found.push({ topic, queueId: Number(id) });
    }
  }
  await inParallel(found, (f) => s.queueFor(f.topic, f.queueId).load());
  return found.length;
}

async function inParallel<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(loadConcurrency, items.length) }, worker));
}

function dispatchOf(s: FileMessageStore, buf: Buffer, pos: number, phy: number, size: number): DispatchRequest {
  const bodyLen = buf.readInt32BE(pos + RecordPos.bodyLength);
  let p = pos + RecordPos.body + bodyLen;
  const tl = buf.readUInt8(p);
  const topic = buf.toString('utf8', p + 1, p + 1 + tl);
  p += 1 + tl;
  const props = decodeProperties(buf.toString('utf8', p + 2, p + 2 + buf.readInt16BE(p)));
  const storeTimestamp = Number(buf.readBigInt64BE(pos + RecordPos.storeTimestamp));
  const keys = props.get(Prop.keys);
  return {
    topic,
    queueId: buf.readInt32BE(pos + RecordPos.queueId),
    queueOffset: Number(buf.readBigInt64BE(pos + RecordPos.queueOffset)),
    phyOffset: phy,
    size,
    tagsCode: s.tagsCodeOf(topic, props, storeTimestamp),
    storeTimestamp,
    sysFlag: buf.readInt32BE(pos + RecordPos.sysFlag),
    keys: keys === undefined ? undefined : keys.split(keySeparator).filter((k) => k !== ''),
    uniqKey: props.get(Prop.uniqKey),
  };
}
