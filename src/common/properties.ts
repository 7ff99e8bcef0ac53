/**
 * Message property keys, as RocketMQ names them (MessageConst, 4.9.8 and 5.x): the one list of them in src/.
 * Property names are case-sensitive on the wire.
 */
export const Prop = {
  keys: 'KEYS',
  tags: 'TAGS',
  waitStoreMsgOk: 'WAIT',
  delayLevel: 'DELAY',
  retryTopic: 'RETRY_TOPIC',
  realTopic: 'REAL_TOPIC',
  realQueueId: 'REAL_QID',
  transactionPrepared: 'TRAN_MSG',
  producerGroup: 'PGROUP',
  minOffset: 'MIN_OFFSET',
  maxOffset: 'MAX_OFFSET',
  buyerId: 'BUYER_ID',
  originMessageId: 'ORIGIN_MESSAGE_ID',
  transferFlag: 'TRANSFER_FLAG',
  correctionFlag: 'CORRECTION_FLAG',
  mq2Flag: 'MQ2_FLAG',
  reconsumeTime: 'RECONSUME_TIME',
  msgRegion: 'MSG_REGION',
  traceSwitch: 'TRACE_ON',
  uniqKey: 'UNIQ_KEY',
  extendUniqInfo: 'EXTEND_UNIQ_INFO',
  maxReconsumeTimes: 'MAX_RECONSUME_TIMES',
  consumeStartTime: 'CONSUME_START_TIME',
  innerNum: 'INNER_NUM',
  innerBase: 'INNER_BASE',
  dupInfo: 'DUP_INFO',
  checkImmunityTimeInSeconds: 'CHECK_IMMUNITY_TIME_IN_SECONDS',
  tranPreparedQueueOffset: 'TRAN_PREPARED_QUEUE_OFFSET',
  transactionId: '__transactionId__',
  transactionCheckTimes: 'TRANSACTION_CHECK_TIMES',
  instanceId: 'INSTANCE_ID',
  // request-reply
  correlationId: 'CORRELATION_ID',
  replyToClient: 'REPLY_TO_CLIENT',
  ttl: 'TTL',
  replyArriveTime: 'ARRIVE_TIME',
  pushReplyTime: 'PUSH_REPLY_TIME',
  clusterName: 'CLUSTER',
  msgType: 'MSG_TYPE',
  // POP (5.x)
  popCk: 'POP_CK',
  popCkOffset: 'POP_CK_OFFSET',
  firstPopTime: '1ST_POP_TIME',
  shardingKey: '__SHARDINGKEY',
  forwardQueueId: 'PROPERTY_FORWARD_QUEUE_ID',
  redirect: 'REDIRECT',
  innerMultiDispatch: 'INNER_MULTI_DISPATCH',
  innerMultiQueueOffset: 'INNER_MULTI_QUEUE_OFFSET',
  traceContext: 'TRACE_CONTEXT',
  bornHost: '__BORNHOST',
  bornTimestamp: 'BORN_TIMESTAMP',
  /** Aliyun ONS clients' absolute delivery time. */
  startDeliverTime: '__STARTDELIVERTIME',
  // timer (5.x)
  timerDeliverMs: 'TIMER_DELIVER_MS',
  timerDelaySec: 'TIMER_DELAY_SEC',
  timerDelayMs: 'TIMER_DELAY_MS',
  timerEnqueueMs: 'TIMER_ENQUEUE_MS',
  timerDequeueMs: 'TIMER_DEQUEUE_MS',
  timerRollTimes: 'TIMER_ROLL_TIMES',
  timerOutMs: 'TIMER_OUT_MS',
  timerDelUniqKey: 'TIMER_DEL_UNIQKEY',
  timerDelayLevel: 'TIMER_DELAY_LEVEL',
} as const;
export type Prop = (typeof Prop)[keyof typeof Prop];

/** MSG_TYPE of a reply message (RocketMQ's MixAll.REPLY_MESSAGE_FLAG): producers send it with SEND_REPLY_MESSAGE. */
export const replyMessageFlag = 'reply';

/** Properties that ask for a later delivery (a delay level or a timer): the delay and timer hooks read them. */
export const scheduledPropNames: readonly string[] = [
  Prop.delayLevel,
  Prop.timerDeliverMs,
  Prop.timerDelaySec,
  Prop.timerDelayMs,
  Prop.startDeliverTime,
];

/** Properties whose name starts with this are never stored (5.x). */
export const transientPropPrefix = '__RMQ.TRANSIENT.';
/** Separates the keys within the KEYS property. */
export const keySeparator = ' ';
/** Between a property's name and its value. */
export const nameSeparator = '\u0001';
/** After each property's value. */
export const propertySeparator = '\u0002';
/** The separators' char codes, for scanning bytes or strings without building a Map. */
export const nameSeparatorCode = 1;
export const propertySeparatorCode = 2;

/** `name\u0001value\u0002`: one encoded property, for building a properties string by hand. */
export function encodedProperty(name: string, value: string): string {
  return name + nameSeparator + value + propertySeparator;
}

/** Encodes properties as RocketMQ stores them: `key\u0001value\u0002…`. */
export function encodeProperties(props: ReadonlyMap<string, string> | Record<string, string>): string {
  let out = '';
  const entries = props instanceof Map ? props.entries() : Object.entries(props);
  for (const [k, v] of entries) {
    out += k + nameSeparator + v + propertySeparator;
  }
  return out;
}

/** Decodes `key\u0001value\u0002…`; tolerates a missing trailing separator and skips malformed pairs. */
export function decodeProperties(s: string): Map<string, string> {
  const out = new Map<string, string>();
  let start = 0;
  while (start < s.length) {
    let end = s.indexOf(propertySeparator, start);
    if (end < 0) end = s.length;
    const sep = s.indexOf(nameSeparator, start);
    if (sep > start && sep < end) out.set(s.slice(start, sep), s.slice(sep + 1, end));
    start = end + 1;
  }
  return out;
}
