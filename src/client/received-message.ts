/**
 * Messages as consumers receive them (RocketMQ's MessageExt seen through the client): body inflated, msgId =
 * UNIQ_KEY, and the original topic restored for messages redelivered through `%RETRY%<group>`.
 */
import { inflateSync } from 'node:zlib';
import { type MessageExt, SysFlag } from '../common/message.js';
import { Prop } from '../common/properties.js';

/** A consumed message. */
export interface ReceivedMessage {
  /** The topic the producer sent to (the original one for retried messages). */
  topic: string;
  /** Client id (UNIQ_KEY), or offsetMsgId when the producer set none. */
  msgId: string;
  /** Store host + commit log offset id. */
  offsetMsgId: string;
  body: Buffer;
  tags: string | undefined;
  keys: string[];
  properties: Map<string, string>;
  /** How many times it was delivered before (0 on the first delivery). */
  reconsumeTimes: number;
  brokerName: string;
  queueId: number;
  queueOffset: bigint;
  commitLogOffset: bigint;
  bornTimestamp: number;
  storeTimestamp: number;
  bornHost: string;
  storeHost: string;
  flag: number;
  sysFlag: number;
  /** Topic/queue the message was pulled from (`%RETRY%<group>` for retries). */
  sourceTopic: string;
}

/** Converts a decoded record; throws when a compressed body does not inflate. */
export function toReceivedMessage(ext: MessageExt, brokerName: string, retryTopic?: string): ReceivedMessage {
  const props = ext.properties;
  const compressed = (ext.sysFlag & SysFlag.compressed) !== 0;
  const originalTopic = props.get(Prop.retryTopic);
  const tags = props.get(Prop.tags);
  const keys = props.get(Prop.keys);
  return {
    topic:
      originalTopic !== undefined && (retryTopic === undefined || ext.topic === retryTopic) ? originalTopic : ext.topic,
    msgId: props.get(Prop.uniqKey) ?? ext.offsetMsgId,
    offsetMsgId: ext.offsetMsgId,
    body: compressed ? inflateSync(ext.body) : ext.body,
    tags: tags === undefined || tags === '' ? undefined : tags,
    keys: keys === undefined ? [] : keys.split(' ').filter((k) => k !== ''),
    properties: props,
    reconsumeTimes: ext.reconsumeTimes,
    brokerName,
    queueId: ext.queueId,
    queueOffset: ext.queueOffset,
    commitLogOffset: ext.commitLogOffset,
    bornTimestamp: Number(ext.bornTimestamp),
    storeTimestamp: Number(ext.storeTimestamp),
    bornHost: ext.bornHost,
    storeHost: ext.storeHost,
    flag: ext.flag,
    sysFlag: ext.sysFlag,
    sourceTopic: ext.topic,
  };
}
