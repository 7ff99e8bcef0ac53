/**
 * Store damage: what recovery found wrong in files a clean stop vouched for, and the records the read path
 * refused (bad magic, size, queue offset or BODYCRC). One warn line per finding, with file and offset; the
 * counts go to `stats()` and so to GET_BROKER_RUNTIME_INFO (`tsrocket admin brokerStatus`).
 */

import { crc32At } from '../common/crc32.js';
import { createLogger } from '../common/log.js';
import { messageMagicV1, RecordPos } from '../common/record.js';

const log = createLogger('store-damage');
/** Records whose bad read was already logged (a damaged record is re-read by every group that reaches it). */
const reportedReadsMax = 4096;

export interface DamageFinding {
  /** The file the damage is in (CommitLog segment, ConsumeQueue folder, IndexFile). */
  file: string;
  /** Byte offset (CommitLog: log offset; ConsumeQueue: queue offset) where it starts. */
  offset: number;
  what: string;
}

export class StoreDamage {
  /** Findings of the last recovery. */
  readonly found: DamageFinding[] = [];
  /** Records the read path refused to serve since start. */
  recordsSkippedCrc = 0;
  /** CommitLog bytes recovery skipped as damaged (kept records after them). */
  bytesSkipped = 0;
  queuesRebuilt = 0;
  private readonly reportedReads = new Set<number>();

  /** Records and logs one finding. */
  report(f: DamageFinding): void {
    this.found.push(f);
    log.warn('store damage found', { file: f.file, offset: f.offset, what: f.what });
  }

  /** A record the read path will not serve: counted every time, logged once per record. */
  refusedRead(phyOffset: number, reason: string, file: () => string): void {
    this.recordsSkippedCrc++;
    if (this.reportedReads.has(phyOffset)) return;
    if (this.reportedReads.size >= reportedReadsMax) this.reportedReads.clear();
    this.reportedReads.add(phyOffset);
    log.warn('record not served: damaged', { file: file(), offset: phyOffset, reason });
  }
}

/**
 * Why the `size` bytes at `at` of `buf` are not the intact record the ConsumeQueue says is at `queueOffset`
 * (magic, TOTALSIZE, QUEUEOFFSET, body length, and BODYCRC when `checkCrc`), or undefined when they are. No
 * decode; the crc32 over the body is the only real cost (the pull path runs this on every record it serves).
 */
export function servedRecordFault(
  buf: Buffer,
  at: number,
  size: number,
  queueOffset: number,
  checkCrc: boolean,
): string | undefined {
  if (buf.readInt32BE(at) !== size) return `total size ${buf.readInt32BE(at)} is not the queue's ${size}`;
  if (buf.readUInt32BE(at + RecordPos.magic) !== messageMagicV1) return 'bad magic';
  const qo = buf.readUInt32BE(at + RecordPos.queueOffset) * 2 ** 32 + buf.readUInt32BE(at + RecordPos.queueOffset + 4);
  if (qo !== queueOffset) return `queue offset ${qo} is not ${queueOffset}`;
  const bodyLen = buf.readInt32BE(at + RecordPos.bodyLength);
  if (bodyLen < 0 || RecordPos.body + bodyLen + 3 > size) return `bad body length ${bodyLen}`;
  if (!checkCrc) return undefined;
  const from = at + RecordPos.body;
  if ((crc32At(buf, from, bodyLen) & 0x7fffffff) !== buf.readInt32BE(at + RecordPos.bodyCrc))
    return 'body CRC mismatch';
  return undefined;
}
