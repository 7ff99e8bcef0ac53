/**
 * A stored half message read as bytes, for END_TRANSACTION's hot path: the fields it checks and the committed
 * message made straight from the record (no MessageExt, no property Map). The committed message is what
 * half-message.ts's committedMessageOf makes from the decoded record: real topic and queue, REAL_TOPIC, REAL_QID and
 * TRAN_MSG removed (the other properties in their order), transaction type COMMIT, PREPARED_TX_OFFSET = the half's
 * CommitLog offset; the body is a view of the record (the store copies it into its write buffer), with its checked
 * BODYCRC.
 */
import { SysFlag } from '../../common/message.js';
import { keySeparator, nameSeparator, Prop, propertySeparator, scheduledPropNames } from '../../common/properties.js';
import { checkRecord, RecordPos, readHost } from '../../common/record.js';
import { SystemTopic } from '../../common/topics.js';
import { tagsCodeOf } from '../filter/tag-filter.js';
import type { PutMessage } from '../put/types.js';

/** A half record's checked fields. */
export interface HalfRecord {
  readonly buf: Buffer;
  readonly pos: number;
  readonly size: number;
  readonly queueOffset: bigint;
  readonly commitLogOffset: bigint;
  /** REAL_TOPIC / REAL_QID: where a commit stores it. */
  readonly realTopic: string;
  readonly realQueueId: number;
  readonly producerGroup: string | undefined;
  /** TRAN_PREPARED_QUEUE_OFFSET (a check's copy), else the record's own queue offset. */
  readonly origin: bigint;
  /** The properties without REAL_TOPIC, REAL_QID and TRAN_MSG, encoded. */
  readonly committedProperties: string;
  readonly tags: string | undefined;
  readonly keys: string | undefined;
  readonly uniqKey: string | undefined;
  readonly scheduled: boolean;
}

/** Why a record is no half message (END_TRANSACTION answers it). */
export const notHalf = (offset: bigint) => `the message at commitLogOffset ${offset} is not a half message`;

const halfTopicBytes = Buffer.from(SystemTopic.transHalf);
const dropped = new Set<string>([Prop.realTopic, Prop.realQueueId, Prop.transactionPrepared]);
const scheduledNames = new Set(scheduledPropNames);

/**
 * The half record at `buf[pos]`: undefined when the bytes there are no intact record (the caller reads it again
 * the checked way, which reports damage), the not-a-half-message remark when it is another record.
 */
export function halfRecordAt(buf: Buffer, pos: number, offset: bigint): HalfRecord | string | undefined {
  const size = checkRecord(buf, pos, true);
  if (typeof size === 'string') return undefined;
  const bodyLen = buf.readInt32BE(pos + RecordPos.bodyLength);
  const topicAt = pos + RecordPos.body + bodyLen + 1;
  const topicLen = buf[topicAt - 1] as number;
  if (
    topicLen !== halfTopicBytes.length ||
    buf.compare(halfTopicBytes, 0, topicLen, topicAt, topicAt + topicLen) !== 0
  ) {
    return notHalf(offset);
  }
  const propsAt = topicAt + topicLen + 2;
  const props = buf.toString('utf8', propsAt, propsAt + buf.readInt16BE(propsAt - 2));
  let realTopic: string | undefined;
  let realQid: string | undefined;
  let producerGroup: string | undefined;
  let prepared: string | undefined;
  let tags: string | undefined;
  let keys: string | undefined;
  let uniqKey: string | undefined;
  let scheduled = false;
  let kept = '';
  /** Start of the run of kept pairs not yet copied into `kept`. */
  let keptFrom = 0;
  let start = 0;
  while (start < props.length) {
    let end = props.indexOf(propertySeparator, start);
    if (end < 0) end = props.length;
    const sep = props.indexOf(nameSeparator, start);
    if (sep > start && sep < end) {
      const name = props.slice(start, sep);
      if (dropped.has(name)) {
        kept += props.slice(keptFrom, start);
        keptFrom = end + 1;
        if (name === Prop.realTopic) realTopic = props.slice(sep + 1, end);
        else if (name === Prop.realQueueId) realQid = props.slice(sep + 1, end);
      } else if (name === Prop.producerGroup) producerGroup = props.slice(sep + 1, end);
      else if (name === Prop.tranPreparedQueueOffset) prepared = props.slice(sep + 1, end);
      else if (name === Prop.tags) tags = props.slice(sep + 1, end);
      else if (name === Prop.keys) keys = props.slice(sep + 1, end);
      else if (name === Prop.uniqKey) uniqKey = props.slice(sep + 1, end);
      else if (scheduledNames.has(name)) scheduled = true;
    }
    start = end + 1;
  }
  if (keptFrom < props.length) kept += props.slice(keptFrom);
  const realQueueId = Number(realQid);
  if (realTopic === undefined || realTopic === '' || !Number.isInteger(realQueueId) || realQueueId < 0) {
    return notHalf(offset);
  }
  const queueOffset = buf.readBigInt64BE(pos + RecordPos.queueOffset);
  return {
    buf,
    pos,
    size,
    queueOffset,
    commitLogOffset: buf.readBigInt64BE(pos + RecordPos.physicalOffset),
    realTopic,
    realQueueId,
    producerGroup,
    origin: prepared !== undefined && /^\d+$/.test(prepared) ? BigInt(prepared) : queueOffset,
    committedProperties: kept,
    tags,
    keys,
    uniqKey,
    scheduled,
  };
}

/** The committed message of a half record (see the file comment). */
export function committedOfRecord(h: HalfRecord): PutMessage {
  const { buf, pos } = h;
  const bodyLen = buf.readInt32BE(pos + RecordPos.bodyLength);
  const sysFlag = buf.readInt32BE(pos + RecordPos.sysFlag);
  return {
    topic: h.realTopic,
    queueId: h.realQueueId,
    flag: buf.readInt32BE(pos + RecordPos.flag),
    body: buf.subarray(pos + RecordPos.body, pos + RecordPos.body + bodyLen),
    // halfRecordAt checked the body against it: the commit's record takes it instead of computing it again.
    bodyCrc: buf.readInt32BE(pos + RecordPos.bodyCrc),
    properties: h.committedProperties,
    sysFlag: (sysFlag & ~SysFlag.transactionRollbackType) | SysFlag.transactionCommitType,
    bornTimestamp: buf.readBigInt64BE(pos + RecordPos.bornTimestamp),
    bornHost: readHost(buf, pos + RecordPos.bornHost),
    reconsumeTimes: buf.readInt32BE(pos + RecordPos.reconsumeTimes),
    preparedTransactionOffset: h.commitLogOffset,
    tagsCode: tagsCodeOf(h.tags),
    keys: h.keys?.split(keySeparator).filter((k) => k !== ''),
    uniqKey: h.uniqKey,
    transactionPrepared: false,
    scheduled: h.scheduled,
  };
}
