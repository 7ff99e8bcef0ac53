/**
 * Recalling a timer message before it is due (RocketMQ 5.3's RecallMessage): a recall handle names the message
 * (topic, broker, deliver time, message id); recalling it stores a marker in the timer queue at the same deliver
 * time, carrying TIMER_DEL_UNIQKEY = `<topic>+<UNIQ_KEY>` (RocketMQ's delete key). When the slot fires, the marker
 * keeps the message of that key from being delivered (timer-service.ts), also after a restart, since both are in
 * the timer queue; a recall made while the broker runs is also remembered in memory, so order does not matter.
 */
import { encodedProperty, Prop } from '../../common/properties.js';
import { SystemTopic } from '../../common/topics.js';
import type { MessageInput } from '../../store/types.js';

/** RocketMQ's TimerMessageStore delete key. */
export function recallKeyOf(topic: string, uniqKey: string): string {
  return `${topic}+${uniqKey}`;
}

/** The marker stored in the timer queue, due with the message it recalls. */
export function recallMarkerOf(topic: string, uniqKey: string, deliverMs: number, bornHost: string): MessageInput {
  const props =
    encodedProperty(Prop.timerDelUniqKey, recallKeyOf(topic, uniqKey)) +
    encodedProperty(Prop.timerOutMs, String(deliverMs)) +
    encodedProperty(Prop.realTopic, topic) +
    encodedProperty(Prop.realQueueId, '0');
  return {
    topic: SystemTopic.wheelTimer,
    queueId: 0,
    flag: 0,
    body: Buffer.alloc(0),
    properties: props,
    sysFlag: 0,
    bornTimestamp: BigInt(Date.now()),
    bornHost,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: BigInt(deliverMs),
  };
}

/** What a recall handle names (RocketMQ's RecallMessageHandle.HandleV1). */
export interface RecallTarget {
  readonly topic: string;
  readonly brokerName: string;
  readonly deliverMs: number;
  readonly messageId: string;
}

const handleVersion = 'v1';

/** "v1 topic brokerName deliverMs messageId", base64url, as RocketMQ encodes it. */
export function encodeRecallHandle(t: RecallTarget): string {
  return Buffer.from([handleVersion, t.topic, t.brokerName, String(t.deliverMs), t.messageId].join(' ')).toString(
    'base64url',
  );
}

export function decodeRecallHandle(handle: string): RecallTarget | undefined {
  const parts = Buffer.from(handle, 'base64url').toString('utf8').split(' ');
  if (parts.length !== 5 || parts[0] !== handleVersion) return undefined;
  const [, topic, brokerName, at, messageId] = parts as [string, string, string, string, string];
  const deliverMs = Number(at);
  if (topic === '' || messageId === '' || !/^\d{1,16}$/.test(at) || !Number.isSafeInteger(deliverMs)) return undefined;
  return { topic, brokerName, deliverMs, messageId };
}
