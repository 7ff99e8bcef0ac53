/**
 * A due timer record → the message put to its real topic (RocketMQ's TimerMessageStore.convertMessage):
 * REAL_TOPIC / REAL_QID become topic and queue and are removed, the timer properties are removed,
 * TIMER_ENQUEUE_MS (when it was stored) and TIMER_DEQUEUE_MS (now) are added; UNIQ_KEY, so the msgId, is kept.
 * A burst converts 100,000 of these in well under a second, so the properties are edited as a string in one
 * pass (no Map) and the record's fields are read in place (the read path checked its structure).
 */
import { encodedProperty, keySeparator, nameSeparator, Prop, propertySeparator } from '../../common/properties.js';
import { RecordPos, readHost } from '../../common/record.js';
import type { MessageInput } from '../../store/types.js';
import { tagsCodeOf } from '../filter/tag-filter.js';
import { timerRequestProps } from './timer-props.js';

export type FireOutcome =
  | { readonly kind: 'put'; readonly input: MessageInput; readonly deliverMs: number }
  /** TIMER_OUT_MS is still ahead (the queue entry's time was not the record's): index it again at that time. */
  | { readonly kind: 'early'; readonly deliverMs: number }
  /** A recall marker (recall.ts): the message of `key` due at the same time must not be delivered. */
  | { readonly kind: 'recall'; readonly key: string; readonly deliverMs: number }
  | { readonly kind: 'bad'; readonly problem: string };

/** Properties the delivered message does not keep. */
const dropped = new Set<string>([
  Prop.realTopic,
  Prop.realQueueId,
  Prop.timerOutMs,
  Prop.timerEnqueueMs,
  Prop.timerDequeueMs,
  ...timerRequestProps,
]);

export function fireOutcomeOf(record: Buffer, nowMs: number): FireOutcome {
  const bodyLength = record.readInt32BE(RecordPos.bodyLength);
  let p = RecordPos.body + bodyLength;
  p += 1 + record.readUInt8(p);
  const s = record.toString('utf8', p + 2, p + 2 + record.readInt16BE(p));
  // Kept properties are copied as runs between dropped ones (the hook appended those last: usually one slice).
  let kept = '';
  let keptFrom = 0;
  let realTopic: string | undefined;
  let realQid: string | undefined;
  let outMs: string | undefined;
  let tags: string | undefined;
  let keys: string | undefined;
  let uniqKey: string | undefined;
  let recallKey: string | undefined;
  let start = 0;
  while (start < s.length) {
    let end = s.indexOf(propertySeparator, start);
    if (end < 0) end = s.length;
    const sep = s.indexOf(nameSeparator, start);
    if (sep > start && sep < end) {
      const name = s.slice(start, sep);
      if (dropped.has(name)) {
        if (name === Prop.realTopic) realTopic = s.slice(sep + 1, end);
        else if (name === Prop.realQueueId) realQid = s.slice(sep + 1, end);
        else if (name === Prop.timerOutMs) outMs = s.slice(sep + 1, end);
        if (start > keptFrom) kept += s.slice(keptFrom, start);
        keptFrom = end + 1;
      } else if (name === Prop.tags) tags = s.slice(sep + 1, end);
      else if (name === Prop.keys) keys = s.slice(sep + 1, end);
      else if (name === Prop.uniqKey) uniqKey = s.slice(sep + 1, end);
      else if (name === Prop.timerDelUniqKey) recallKey = s.slice(sep + 1, end);
    }
    start = end + 1;
  }
  if (keptFrom < s.length) {
    kept += s.slice(keptFrom);
    if (!kept.endsWith(propertySeparator)) kept += propertySeparator;
  }
  const queueId = Number(realQid);
  if (realTopic === undefined || realTopic === '' || !Number.isInteger(queueId) || queueId < 0) {
    return { kind: 'bad', problem: 'no REAL_TOPIC / REAL_QID' };
  }
  const deliverMs = Number(outMs);
  if (deliverMs > nowMs) return { kind: 'early', deliverMs };
  if (recallKey !== undefined) return { kind: 'recall', key: recallKey, deliverMs };
  const storedMs = record.readBigInt64BE(RecordPos.storeTimestamp);
  kept += encodedProperty(Prop.timerEnqueueMs, String(storedMs)) + encodedProperty(Prop.timerDequeueMs, String(nowMs));
  return {
    kind: 'put',
    deliverMs,
    input: {
      topic: realTopic,
      queueId,
      flag: record.readInt32BE(RecordPos.flag),
      // A copy: the record may be a slice of a read block the store reuses.
      body: Buffer.from(record.subarray(RecordPos.body, RecordPos.body + bodyLength)),
      bodyCrc: record.readInt32BE(RecordPos.bodyCrc),
      properties: kept,
      sysFlag: record.readInt32BE(RecordPos.sysFlag),
      bornTimestamp: record.readBigInt64BE(RecordPos.bornTimestamp),
      bornHost: readHost(record, RecordPos.bornHost),
      reconsumeTimes: record.readInt32BE(RecordPos.reconsumeTimes),
      preparedTransactionOffset: record.readBigInt64BE(RecordPos.preparedTxOffset),
      tagsCode: tagsCodeOf(tags),
      keys: keys?.split(keySeparator).filter((k) => k !== ''),
      uniqKey,
    },
  };
}
