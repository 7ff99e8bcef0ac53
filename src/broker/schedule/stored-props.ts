/**
 * One pass over a stored record's properties, shared by the delay service (delay-message.ts) and the timer wheel
 * (timer/fire-message.ts), which both turn a stored system-topic record into its real message in place: the
 * properties string is read once, the names either conversion needs are picked out, and the pairs it drops are
 * cut out as runs (the rest is kept byte for byte: the hooks wrote the string, so it has no malformed or
 * duplicate pairs). No Map, no decode of the record, no copy of the body.
 */
import { tagsCodeOf } from '../../common/hash.js';
import { keySeparator, nameSeparator, Prop, propertySeparator } from '../../common/properties.js';
import { RecordPos, readHost } from '../../common/record.js';
import type { MessageInput } from '../../store/types.js';

/** The properties of a stored record that a conversion reads, and what is left after the dropped pairs. */
export interface ScannedProps {
  /** The properties without the dropped pairs, otherwise as stored. */
  kept: string;
  realTopic: string | undefined;
  realQueueId: string | undefined;
  tags: string | undefined;
  keys: string | undefined;
  uniqKey: string | undefined;
  timerOutMs: string | undefined;
  timerDelUniqKey: string | undefined;
}

/** Where the properties of a stored record start: after its body and topic. */
function propertiesAt(record: Buffer): number {
  const p = RecordPos.body + record.readInt32BE(RecordPos.bodyLength);
  return p + 1 + record.readUInt8(p);
}

/** Scans the properties of `record` once (see the file comment); pairs named in `dropped` are left out of `kept`. */
export function scanStoredProps(record: Buffer, dropped: ReadonlySet<string>): ScannedProps {
  const at = propertiesAt(record);
  const s = record.toString('utf8', at + 2, at + 2 + record.readInt16BE(at));
  const out: ScannedProps = {
    kept: '',
    realTopic: undefined,
    realQueueId: undefined,
    tags: undefined,
    keys: undefined,
    uniqKey: undefined,
    timerOutMs: undefined,
    timerDelUniqKey: undefined,
  };
  // Kept pairs are copied as runs between dropped ones (the hooks append theirs last: usually one slice).
  let kept = '';
  let keptFrom = 0;
  let start = 0;
  while (start < s.length) {
    let end = s.indexOf(propertySeparator, start);
    if (end < 0) end = s.length;
    const sep = s.indexOf(nameSeparator, start);
    if (sep > start && sep < end) {
      const name = s.slice(start, sep);
      if (name === Prop.realTopic) out.realTopic = s.slice(sep + 1, end);
      else if (name === Prop.realQueueId) out.realQueueId = s.slice(sep + 1, end);
      else if (name === Prop.tags) out.tags = s.slice(sep + 1, end);
      else if (name === Prop.keys) out.keys = s.slice(sep + 1, end);
      else if (name === Prop.uniqKey) out.uniqKey = s.slice(sep + 1, end);
      else if (name === Prop.timerOutMs) out.timerOutMs = s.slice(sep + 1, end);
      else if (name === Prop.timerDelUniqKey) out.timerDelUniqKey = s.slice(sep + 1, end);
      if (dropped.has(name)) {
        if (start > keptFrom) kept += s.slice(keptFrom, start);
        keptFrom = end + 1;
      }
    }
    start = end + 1;
  }
  out.kept = keptFrom === 0 ? s : keptFrom < s.length ? kept + s.slice(keptFrom) : kept;
  return out;
}

/**
 * The message to put to `topic` / `queueId` from a stored record whose properties were scanned: flag, sysFlag,
 * born host and time, reconsumeTimes, prepared offset, keys, UNIQ_KEY and the tag hash kept, `properties` as
 * given, the stored BODYCRC passed on. The body is a view of the record: put it (putMessages encodes before it
 * returns) before the read's buffers go back to the store. The read path checked the record's structure.
 */
export function rewrittenInput(
  record: Buffer,
  topic: string,
  queueId: number,
  properties: string,
  scanned: ScannedProps,
): MessageInput {
  const bodyLength = record.readInt32BE(RecordPos.bodyLength);
  const keys = scanned.keys;
  return {
    topic,
    queueId,
    flag: record.readInt32BE(RecordPos.flag),
    body: record.subarray(RecordPos.body, RecordPos.body + bodyLength),
    bodyCrc: record.readInt32BE(RecordPos.bodyCrc),
    properties,
    sysFlag: record.readInt32BE(RecordPos.sysFlag),
    bornTimestamp: record.readBigInt64BE(RecordPos.bornTimestamp),
    bornHost: readHost(record, RecordPos.bornHost),
    reconsumeTimes: record.readInt32BE(RecordPos.reconsumeTimes),
    preparedTransactionOffset: record.readBigInt64BE(RecordPos.preparedTxOffset),
    tagsCode: tagsCodeOf(scanned.tags),
    keys: keys?.split(keySeparator).filter((k) => k !== ''),
    uniqKey: scanned.uniqKey,
  };
}
