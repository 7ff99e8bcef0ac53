/** Message property keys, as RocketMQ names them (MessageConst). */
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
  originMessageId: 'ORIGIN_MESSAGE_ID',
  reconsumeTime: 'RECONSUME_TIME',
  uniqKey: 'UNIQ_KEY',
  maxReconsumeTimes: 'MAX_RECONSUME_TIMES',
  consumeStartTime: 'CONSUME_START_TIME',
  tranPreparedQueueOffset: 'TRAN_PREPARED_QUEUE_OFFSET',
  transactionCheckTimes: 'TRANSACTION_CHECK_TIMES',
  checkImmunityTimeInSeconds: 'CHECK_IMMUNITY_TIME_IN_SECONDS',
  shardingKey: '__SHARDINGKEY',
  startDeliverTime: '__STARTDELIVERTIME',
  timerDeliverMs: 'TIMER_DELIVER_MS',
  timerDelaySec: 'TIMER_DELAY_SEC',
  timerDelayMs: 'TIMER_DELAY_MS',
  traceSwitch: 'TRACE_ON',
  msgRegion: 'MSG_REGION',
  clusterName: 'CLUSTER',
} as const;

const nameSeparator = '\u0001';
const propertySeparator = '\u0002';

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
