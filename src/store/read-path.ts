/** Reads a ConsumeQueue range and the records it points to: one pread per contiguous run of the CommitLog. */
import { decodeProperties } from '../common/properties.js';
import { RecordPos } from '../common/record.js';
import type { ConsumeQueue } from './consume-queue.js';
import { cqEntryBytes, decodeEntry } from './consume-queue.js';
import { emptyGet, type FileMessageStore } from './file-store.js';
import type { GetResult, MessageFilter } from './types.js';
import { GetStatus } from './types.js';

/** Entries looked at per pull when a filter skips messages (RocketMQ scans up to 16,000; we stay smaller). */
const filteredScanEntriesMax = 2000;
/** Read one span covering several records when the gaps between them stay under this. */
const spanSlackBytes = 256 * 1024;

interface Picked {
  queueOffset: number;
  phyOffset: number;
  size: number;
}

export async function readMessages(
  store: FileMessageStore,
  q: ConsumeQueue,
  offset: number,
  maxMsgNums: number,
  maxTotalBytes: number,
  filter: MessageFilter | undefined,
): Promise<GetResult> {
  const min = q.minOffset;
  const max = q.maxOffset;
  const minB = BigInt(min);
  const maxB = BigInt(max);
  if (max === 0) return emptyGet(GetStatus.NO_MESSAGE_IN_QUEUE, 0n, minB, maxB);
  if (offset < min) return emptyGet(GetStatus.OFFSET_TOO_SMALL, minB, minB, maxB);
  if (offset === max) return emptyGet(GetStatus.OFFSET_OVERFLOW_ONE, BigInt(offset), minB, maxB);
  if (offset > max) return emptyGet(GetStatus.OFFSET_OVERFLOW_BADLY, min === 0 ? minB : maxB, minB, maxB);

  const want = Math.max(1, maxMsgNums);
  const scan = filter === undefined ? want : Math.max(want, filteredScanEntriesMax);
  const entries = await q.read(offset, scan);
  if (entries.length === 0) return emptyGet(GetStatus.OFFSET_FOUND_NULL, BigInt(offset + 1), minB, maxB);
  const minPhy = store.commitLog.minOffset();
  const picked: Picked[] = [];
  let bytes = 0;
  let next = offset;
  let removed = 0;
  const count = entries.length / cqEntryBytes;
  for (let i = 0; i < count; i++) {
    const e = decodeEntry(entries, i * cqEntryBytes);
    if (picked.length >= want || (picked.length > 0 && bytes + e.size > maxTotalBytes)) break;
    next = offset + i + 1;
    if (e.size === 0) continue;
    if (e.phyOffset < minPhy) {
      removed++;
      continue;
    }
    if (filter !== undefined && !filter.isMatchedByTagsCode(e.tagsCode)) continue;
    picked.push({ queueOffset: offset + i, phyOffset: e.phyOffset, size: e.size });
    bytes += e.size;
  }

  const records: Buffer[] = [];
  const queueOffsets: bigint[] = [];
  let total = 0;
  const segBytes = store.commitLog.segmentBytes;
  let i = 0;
  while (i < picked.length) {
    const first = picked[i] as Picked;
    const seg = Math.floor(first.phyOffset / segBytes);
    let j = i + 1;
    let end = first.phyOffset + first.size;
    let need = first.size;
    while (j < picked.length) {
      const p = picked[j] as Picked;
      const pEnd = p.phyOffset + p.size;
      if (Math.floor(p.phyOffset / segBytes) !== seg || p.phyOffset < first.phyOffset) break;
      if (pEnd - first.phyOffset > need + p.size + spanSlackBytes) break;
      need += p.size;
      end = Math.max(end, pEnd);
      j++;
    }
    const span = await store.commitLog.read(first.phyOffset, end - first.phyOffset);
    for (let k = i; k < j; k++) {
      const p = picked[k] as Picked;
      if (span === undefined) break;
      const rec = span.subarray(p.phyOffset - first.phyOffset, p.phyOffset - first.phyOffset + p.size);
      if (filter?.isMatchedByProperties !== undefined && !filter.isMatchedByProperties(propertiesOf(rec))) continue;
      records.push(rec);
      queueOffsets.push(BigInt(p.queueOffset));
      total += rec.length;
    }
    i = j;
  }
  let status: GetResult['status'] = GetStatus.FOUND;
  if (records.length === 0)
    status = removed > 0 && picked.length === 0 ? GetStatus.MESSAGE_WAS_REMOVING : GetStatus.NO_MATCHED_MESSAGE;
  return {
    status,
    nextBeginOffset: BigInt(next),
    minOffset: minB,
    maxOffset: maxB,
    records,
    queueOffsets,
    bufferTotalBytes: total,
    suggestPullingFromSlave: false,
  };
}

function propertiesOf(rec: Buffer): Map<string, string> {
  const bodyLen = rec.readInt32BE(RecordPos.bodyLength);
  const p = RecordPos.body + bodyLen;
  const at = p + 1 + rec.readUInt8(p);
  return decodeProperties(rec.toString('utf8', at + 2, at + 2 + rec.readInt16BE(at)));
}
