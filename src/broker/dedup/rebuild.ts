/**
 * Refills the de-duplication tables at start from the ConsumeQueues of the window, so the window survives a
 * restart (a crash included: recovery has rebuilt the queues from the CommitLog before this runs).
 *
 * Why the queues and not the IndexFile: the index answers "where is topic#key" for a key one already has; it
 * cannot list the keys stored since a time, and asking it per send would put an index read on the send path.
 * Each queue is searched by time for the window's start (a binary search) and read forward from there, at most
 * keysMax records per queue (a table holds no more).
 *
 * Besides each topic's own queues, SCHEDULE_TOPIC_XXXX and the half topic are read for records whose REAL_TOPIC is
 * a de-duplicated topic: a delayed or prepared message was answered with those queues' positions, and the first
 * answer of a key is the one kept (records are added in store order, a key already held stays).
 */
import { decodeProperties, Prop } from '../../common/properties.js';
import { checkRecord, createOffsetMsgId, RecordPos, readHost } from '../../common/record.js';
import { SystemTopic } from '../../common/topics.js';
import { GetStatus, type MessageStore } from '../../store/types.js';
import type { DedupEntry, DedupTable } from './dedup-table.js';

const readMsgNumsMax = 256;
const readBytesMax = 4 * 1024 * 1024;

interface Found {
  table: DedupTable;
  key: string;
  entry: DedupEntry;
  /** Store order: the first stored copy of a key wins, also when two share a store millisecond. */
  physicalOffset: bigint;
}

/** What a rebuild found: keys put back, records that could not be read (skipped, not fatal). */
export interface RebuildCounts {
  keys: number;
  unreadable: number;
}

/** Fills `tables` (topic → table) with the keys stored within each window before `nowMs`. */
export async function rebuildDedupTables(
  store: MessageStore,
  tables: ReadonlyMap<string, DedupTable>,
  nowMs: number,
): Promise<RebuildCounts> {
  const skipped = { count: 0 };
  const found: Found[] = [];
  let widest = 0;
  let keysMax = 0;
  for (const [topic, table] of tables) {
    widest = Math.max(widest, table.windowMs);
    keysMax = Math.max(keysMax, table.keysMax);
    await scanTopic(
      store,
      topic,
      nowMs - table.windowMs,
      table.keysMax,
      (rec) => {
        const key = rec.properties.get(Prop.uniqKey);
        if (key === undefined) return;
        found.push({ table, key, entry: entryOf(rec.queueId, rec), physicalOffset: rec.physicalOffset });
      },
      skipped,
    );
  }
  // Delayed, timer and half messages of those topics wait in system topics under REAL_TOPIC.
  for (const holder of [SystemTopic.schedule, SystemTopic.wheelTimer, SystemTopic.transHalf]) {
    await scanTopic(
      store,
      holder,
      nowMs - widest,
      keysMax,
      (rec) => {
        const real = rec.properties.get(Prop.realTopic);
        const table = real === undefined ? undefined : tables.get(real);
        const key = rec.properties.get(Prop.uniqKey);
        if (table === undefined || key === undefined || rec.storeTimeMs < nowMs - table.windowMs) return;
        // A half message was answered with the queue it was sent to (REAL_QID), a delayed or timer one with its holder's.
        const queueId =
          holder === SystemTopic.transHalf ? Number(rec.properties.get(Prop.realQueueId) ?? rec.queueId) : rec.queueId;
        found.push({ table, key, entry: entryOf(queueId, rec), physicalOffset: rec.physicalOffset });
      },
      skipped,
    );
  }
  found.sort((a, b) => (a.physicalOffset < b.physicalOffset ? -1 : a.physicalOffset > b.physicalOffset ? 1 : 0));
  let added = 0;
  for (const f of found) {
    const before = f.table.size;
    f.table.add(f.key, f.entry, nowMs);
    if (f.table.size > before) added++;
  }
  return { keys: added, unreadable: skipped.count };
}

interface Scanned {
  queueId: number;
  queueOffset: bigint;
  offsetMsgId: string;
  physicalOffset: bigint;
  storeTimeMs: number;
  properties: Map<string, string>;
}

/** The fields a table needs, read in place (no body copy, no CRC: the store checked the record when reading it). */
function scannedOf(buf: Buffer): Scanned | undefined {
  if (typeof checkRecord(buf, 0, false) === 'string') return undefined;
  const bodyLen = buf.readInt32BE(RecordPos.bodyLength);
  const topicLenAt = RecordPos.body + bodyLen;
  const propsLenAt = topicLenAt + 1 + buf.readUInt8(topicLenAt);
  const propsLen = buf.readInt16BE(propsLenAt);
  const physicalOffset = buf.readBigInt64BE(RecordPos.physicalOffset);
  return {
    queueId: buf.readInt32BE(RecordPos.queueId),
    queueOffset: buf.readBigInt64BE(RecordPos.queueOffset),
    offsetMsgId: createOffsetMsgId(readHost(buf, RecordPos.storeHost), physicalOffset),
    physicalOffset,
    storeTimeMs: Number(buf.readBigInt64BE(RecordPos.storeTimestamp)),
    properties: decodeProperties(buf.toString('utf8', propsLenAt + 2, propsLenAt + 2 + propsLen)),
  };
}

function entryOf(queueId: number, rec: Scanned): DedupEntry {
  return { queueId, queueOffset: rec.queueOffset, offsetMsgId: rec.offsetMsgId, storeTimeMs: rec.storeTimeMs };
}

/** Calls `each` for every record of `topic` stored at or after `fromMs`, at most `perQueueMax` newest per queue. */
async function scanTopic(
  store: MessageStore,
  topic: string,
  fromMs: number,
  perQueueMax: number,
  each: (rec: Scanned) => void,
  skipped: { count: number },
): Promise<void> {
  for (const queueId of store.queuesOf(topic)) {
    const max = store.getMaxOffsetInQueue(topic, queueId);
    const byTime = await store.getOffsetInQueueByTime(topic, queueId, BigInt(Math.max(0, fromMs)));
    let offset = byTime > max - BigInt(perQueueMax) ? byTime : max - BigInt(perQueueMax);
    while (offset < max) {
      const got = await store.getMessage(topic, queueId, offset, readMsgNumsMax, readBytesMax);
      try {
        if (got.status === GetStatus.FOUND) {
          for (const buf of got.records) {
            const rec = scannedOf(buf);
            if (rec === undefined) {
              skipped.count++;
              continue;
            }
            if (rec.storeTimeMs >= fromMs) each(rec);
          }
        }
      } finally {
        got.release?.();
      }
      // Past expired or damaged entries as well: the scan only ever moves forward.
      if (got.nextBeginOffset <= offset) break;
      offset = got.nextBeginOffset;
    }
  }
}
