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
import { Prop } from '../../common/properties.js';
import { decodeRecord } from '../../common/record.js';
import { SystemTopic } from '../../common/topics.js';
import { GetStatus, type MessageStore } from '../../store/types.js';
import type { DedupEntry, DedupTable } from './dedup-table.js';

const readMsgNumsMax = 256;
const readBytesMax = 4 * 1024 * 1024;

interface Found {
  table: DedupTable;
  key: string;
  entry: DedupEntry;
}

/** Fills `tables` (topic → table) with the keys stored within each window before `nowMs`; returns the count. */
export async function rebuildDedupTables(
  store: MessageStore,
  tables: ReadonlyMap<string, DedupTable>,
  nowMs: number,
): Promise<number> {
  const found: Found[] = [];
  let widest = 0;
  let keysMax = 0;
  for (const [topic, table] of tables) {
    widest = Math.max(widest, table.windowMs);
    keysMax = Math.max(keysMax, table.keysMax);
    await scanTopic(store, topic, nowMs - table.windowMs, table.keysMax, (rec) => {
      const key = rec.properties.get(Prop.uniqKey);
      if (key === undefined) return;
      found.push({ table, key, entry: entryOf(rec.queueId, rec) });
    });
  }
  // Delayed and half messages of those topics wait in system topics under REAL_TOPIC.
  for (const holder of [SystemTopic.schedule, SystemTopic.transHalf]) {
    await scanTopic(store, holder, nowMs - widest, keysMax, (rec) => {
      const real = rec.properties.get(Prop.realTopic);
      const table = real === undefined ? undefined : tables.get(real);
      const key = rec.properties.get(Prop.uniqKey);
      if (table === undefined || key === undefined || rec.storeTimeMs < nowMs - table.windowMs) return;
      // A half message was answered with the queue it was sent to (REAL_QID), a delayed one with its level's.
      const queueId =
        holder === SystemTopic.transHalf ? Number(rec.properties.get(Prop.realQueueId) ?? rec.queueId) : rec.queueId;
      found.push({ table, key, entry: entryOf(queueId, rec) });
    });
  }
  found.sort((a, b) => a.entry.storeTimeMs - b.entry.storeTimeMs);
  let added = 0;
  for (const f of found) {
    const before = f.table.size;
    f.table.add(f.key, f.entry, nowMs);
    if (f.table.size > before) added++;
  }
  return added;
}

interface Scanned {
  queueId: number;
  queueOffset: bigint;
  offsetMsgId: string;
  storeTimeMs: number;
  properties: Map<string, string>;
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
            const { msg } = decodeRecord(buf);
            const storeTimeMs = Number(msg.storeTimestamp);
            if (storeTimeMs < fromMs) continue;
            each({
              queueId: msg.queueId,
              queueOffset: msg.queueOffset,
              offsetMsgId: msg.offsetMsgId,
              storeTimeMs,
              properties: msg.properties,
            });
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
