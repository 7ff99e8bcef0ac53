/**
 * The message a due SCHEDULE_TOPIC_XXXX entry becomes (RocketMQ's ScheduleMessageService.messageTimeup): the
 * stored record with DELAY removed, put to REAL_TOPIC / REAL_QID (which stay as properties, as in RocketMQ)
 * with the tag hash as its tagsCode; body, flag, sysFlag, born host and time, reconsumeTimes, keys and UNIQ_KEY
 * kept. Also the rule that tells whether a stored message is an earlier redelivery of the same entry.
 */
import { tagsCodeOf } from '../../common/hash.js';
import type { MessageExt } from '../../common/message.js';
import { keySeparator, nameSeparator, Prop, propertySeparator } from '../../common/properties.js';
import { RecordPos, readHost } from '../../common/record.js';
import type { MessageInput } from '../../store/types.js';

/**
 * The real message of a due entry, or why it cannot be delivered (no REAL_TOPIC, bad REAL_QID), read in place
 * from the stored record (a burst of due entries converts without decoding each into a MessageExt and a Map):
 * the properties string loses its DELAY entry and is otherwise kept byte for byte (the delay hook wrote it, so it
 * is canonical: no duplicate or malformed pairs). The body is a view of the record: put it before the read's
 * buffers go back to the store (putMessages encodes before it returns). The read path checked the structure.
 */
export function realMessageOfRecord(record: Buffer): MessageInput | string {
  const bodyLength = record.readInt32BE(RecordPos.bodyLength);
  let p = RecordPos.body + bodyLength;
  p += 1 + record.readUInt8(p);
  const s = record.toString('utf8', p + 2, p + 2 + record.readInt16BE(p));
  let props = s;
  let topic: string | undefined;
  let qidText: string | undefined;
  let tags: string | undefined;
  let keys: string | undefined;
  let uniqKey: string | undefined;
  let start = 0;
  while (start < s.length) {
    let end = s.indexOf(propertySeparator, start);
    if (end < 0) end = s.length;
    const sep = s.indexOf(nameSeparator, start);
    if (sep > start && sep < end) {
      const name = s.slice(start, sep);
      if (name === Prop.realTopic) topic = s.slice(sep + 1, end);
      else if (name === Prop.realQueueId) qidText = s.slice(sep + 1, end);
      else if (name === Prop.tags) tags = s.slice(sep + 1, end);
      else if (name === Prop.keys) keys = s.slice(sep + 1, end);
      else if (name === Prop.uniqKey) uniqKey = s.slice(sep + 1, end);
      else if (name === Prop.delayLevel) props = s.slice(0, start) + s.slice(Math.min(s.length, end + 1));
    }
    start = end + 1;
  }
  const qid = Number(qidText);
  if (topic === undefined || topic === '') return 'no REAL_TOPIC property';
  if (!Number.isInteger(qid) || qid < 0) return `REAL_QID "${qidText}" is not a queue id`;
  return {
    topic,
    queueId: qid,
    flag: record.readInt32BE(RecordPos.flag),
    body: record.subarray(RecordPos.body, RecordPos.body + bodyLength),
    bodyCrc: record.readInt32BE(RecordPos.bodyCrc),
    properties: props,
    sysFlag: record.readInt32BE(RecordPos.sysFlag),
    bornTimestamp: record.readBigInt64BE(RecordPos.bornTimestamp),
    bornHost: readHost(record, RecordPos.bornHost),
    reconsumeTimes: record.readInt32BE(RecordPos.reconsumeTimes),
    preparedTransactionOffset: record.readBigInt64BE(RecordPos.preparedTxOffset),
    tagsCode: tagsCodeOf(tags),
    keys: keys?.split(keySeparator).filter((k) => k !== ''),
    uniqKey,
  };
}

/** The store time (ms) of a stored record, read without decoding it. */
export function storeTimestampOf(record: Buffer): number {
  return Number(record.readBigInt64BE(RecordPos.storeTimestamp));
}

/**
 * Whether `stored` is a redelivery of the scheduled entry `scheduled`: same real topic and UNIQ_KEY, same body
 * and reconsume count (a retry of the same message has another), stored after the entry, and carrying REAL_TOPIC
 * (a plain send of the same id has none).
 */
export function isRedeliveryOf(stored: MessageExt, scheduled: MessageExt): boolean {
  const p = stored.properties;
  return (
    stored.topic === scheduled.properties.get(Prop.realTopic) &&
    p.get(Prop.uniqKey) === scheduled.properties.get(Prop.uniqKey) &&
    p.get(Prop.realTopic) === stored.topic &&
    stored.reconsumeTimes === scheduled.reconsumeTimes &&
    stored.bodyCRC === scheduled.bodyCRC &&
    stored.storeTimestamp >= scheduled.storeTimestamp
  );
}
