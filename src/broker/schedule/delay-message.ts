/**
 * The message a due SCHEDULE_TOPIC_XXXX entry becomes (RocketMQ's ScheduleMessageService.messageTimeup): the
 * stored record with DELAY removed, put to REAL_TOPIC / REAL_QID (which stay as properties, as in RocketMQ)
 * with the tag hash as its tagsCode; body, flag, sysFlag, born host and time, reconsumeTimes, keys and UNIQ_KEY
 * kept. Also the rule that tells whether a stored message is an earlier redelivery of the same entry.
 */
import type { MessageExt } from '../../common/message.js';
import { Prop } from '../../common/properties.js';
import { RecordPos } from '../../common/record.js';
import type { MessageInput } from '../../store/types.js';
import { rewrittenInput, scanStoredProps } from './stored-props.js';

const droppedOnDelivery: ReadonlySet<string> = new Set([Prop.delayLevel]);

/**
 * The real message of a due entry, or why it cannot be delivered (no REAL_TOPIC, bad REAL_QID), read in place
 * from the stored record (stored-props.ts: a burst of due entries converts without decoding each into a
 * MessageExt and a Map): the properties string loses its DELAY entry and is otherwise kept byte for byte. The body
 * is a view of the record: put it before the read's buffers go back to the store.
 */
export function realMessageOfRecord(record: Buffer): MessageInput | string {
  const scanned = scanStoredProps(record, droppedOnDelivery);
  const topic = scanned.realTopic;
  const qid = Number(scanned.realQueueId);
  if (topic === undefined || topic === '') return 'no REAL_TOPIC property';
  if (!Number.isInteger(qid) || qid < 0) return `REAL_QID "${scanned.realQueueId}" is not a queue id`;
  return rewrittenInput(record, topic, qid, scanned.kept, scanned);
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
