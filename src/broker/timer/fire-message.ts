/**
 * A due timer record → the message put to its real topic (RocketMQ's TimerMessageStore.convertMessage):
 * REAL_TOPIC / REAL_QID become topic and queue and are removed, the timer properties are removed,
 * TIMER_ENQUEUE_MS (when it was stored) and TIMER_DEQUEUE_MS (now) are added; UNIQ_KEY, so the msgId, is kept.
 * A burst converts 100,000 of these in well under a second, so the properties are edited as a string in one
 * pass (no Map, schedule/stored-props.ts, shared with the delay service) and the record is read in place.
 */
import { encodedProperty, Prop, propertySeparator } from '../../common/properties.js';
import { RecordPos } from '../../common/record.js';
import type { MessageInput } from '../../store/types.js';
import { rewrittenInput, scanStoredProps } from '../schedule/stored-props.js';
import { timerRequestProps } from './timer-props.js';

export type FireOutcome =
  | { readonly kind: 'put'; readonly input: MessageInput; readonly deliverMs: number }
  /** TIMER_OUT_MS is still ahead (the queue entry's time was not the record's): index it again at that time. */
  | { readonly kind: 'early'; readonly deliverMs: number }
  /** A recall marker (recall.ts): the message of `key` due at the same time must not be delivered. */
  | { readonly kind: 'recall'; readonly key: string; readonly deliverMs: number }
  | { readonly kind: 'bad'; readonly problem: string };

/** Properties the delivered message does not keep. */
const dropped: ReadonlySet<string> = new Set<string>([
  Prop.realTopic,
  Prop.realQueueId,
  Prop.timerOutMs,
  Prop.timerEnqueueMs,
  Prop.timerDequeueMs,
  ...timerRequestProps,
]);

/**
 * What to do with a timer record fired at `nowMs`. The message's body is a view of the record (see
 * rewrittenInput): put it before the read is released, or copy it.
 */
export function fireOutcomeOf(record: Buffer, nowMs: number): FireOutcome {
  const scanned = scanStoredProps(record, dropped);
  const realTopic = scanned.realTopic;
  const queueId = Number(scanned.realQueueId);
  if (realTopic === undefined || realTopic === '' || !Number.isInteger(queueId) || queueId < 0) {
    return { kind: 'bad', problem: 'no REAL_TOPIC / REAL_QID' };
  }
  const deliverMs = Number(scanned.timerOutMs);
  if (deliverMs > nowMs) return { kind: 'early', deliverMs };
  const recallKey = scanned.timerDelUniqKey;
  if (recallKey !== undefined) return { kind: 'recall', key: recallKey, deliverMs };
  let kept = scanned.kept;
  if (kept !== '' && !kept.endsWith(propertySeparator)) kept += propertySeparator;
  const storedMs = record.readBigInt64BE(RecordPos.storeTimestamp);
  kept += encodedProperty(Prop.timerEnqueueMs, String(storedMs)) + encodedProperty(Prop.timerDequeueMs, String(nowMs));
  return { kind: 'put', deliverMs, input: rewrittenInput(record, realTopic, queueId, kept, scanned) };
}
