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
import { messageInputOf } from '../put/message-input.js';

/** The real message, or why the entry cannot be delivered (no REAL_TOPIC, bad REAL_QID). */
export function realMessageOf(scheduled: MessageExt): MessageInput | string {
  const props = new Map(scheduled.properties);
  const topic = props.get(Prop.realTopic);
  const qid = Number(props.get(Prop.realQueueId));
  if (topic === undefined || topic === '') return 'no REAL_TOPIC property';
  if (!Number.isInteger(qid) || qid < 0) return `REAL_QID "${props.get(Prop.realQueueId)}" is not a queue id`;
  props.delete(Prop.delayLevel);
  return messageInputOf(scheduled, props, topic, qid);
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
