/**
 * A due timer record → the message put to its real topic (RocketMQ's TimerMessageStore.convertMessage):
 * REAL_TOPIC / REAL_QID become topic and queue and are removed, the timer properties are removed,
 * TIMER_ENQUEUE_MS (when it was stored) and TIMER_DEQUEUE_MS (now) are added; UNIQ_KEY, so the msgId, is kept.
 */

import { encodeProperties, keySeparator, Prop } from '../../common/properties.js';
import { decodeRecord } from '../../common/record.js';
import type { MessageInput } from '../../store/types.js';
import { tagsCodeOf } from '../filter/tag-filter.js';
import { timerRequestProps } from './timer-props.js';

export type FireOutcome =
  | { readonly kind: 'put'; readonly input: MessageInput; readonly deliverMs: number }
  /** TIMER_OUT_MS is still ahead (the queue entry's time was not the record's): index it again at that time. */
  | { readonly kind: 'early'; readonly deliverMs: number }
  | { readonly kind: 'bad'; readonly problem: string };

export function fireOutcomeOf(record: Buffer, nowMs: number): FireOutcome {
  const { msg } = decodeRecord(record);
  const props = msg.properties;
  const realTopic = props.get(Prop.realTopic);
  const realQid = Number(props.get(Prop.realQueueId));
  if (realTopic === undefined || realTopic === '' || !Number.isInteger(realQid) || realQid < 0) {
    return { kind: 'bad', problem: 'no REAL_TOPIC / REAL_QID' };
  }
  const deliverMs = Number(props.get(Prop.timerOutMs));
  if (deliverMs > nowMs) return { kind: 'early', deliverMs };
  props.delete(Prop.realTopic);
  props.delete(Prop.realQueueId);
  props.delete(Prop.timerOutMs);
  for (const k of timerRequestProps) props.delete(k);
  props.set(Prop.timerEnqueueMs, String(msg.storeTimestamp));
  props.set(Prop.timerDequeueMs, String(nowMs));
  const keys = props.get(Prop.keys);
  return {
    kind: 'put',
    deliverMs,
    input: {
      topic: realTopic,
      queueId: realQid,
      flag: msg.flag,
      body: msg.body,
      properties: encodeProperties(props),
      sysFlag: msg.sysFlag,
      bornTimestamp: msg.bornTimestamp,
      bornHost: msg.bornHost,
      reconsumeTimes: msg.reconsumeTimes,
      preparedTransactionOffset: msg.preparedTransactionOffset,
      tagsCode: tagsCodeOf(props.get(Prop.tags)),
      keys: keys?.split(keySeparator).filter((k) => k !== ''),
      uniqKey: props.get(Prop.uniqKey),
    },
  };
}
