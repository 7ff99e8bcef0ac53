/**
 * Names of system topics and groups, as RocketMQ spells them (MixAll, TopicValidator): the one place src/ spells
 * them. Property keys and separators live beside them in properties.ts.
 */

/** Prefix of a group's retry topic (`%RETRY%<group>`). */
export const retryTopicPrefix = '%RETRY%';
/** Prefix of a group's dead-letter topic (`%DLQ%<group>`). */
export const dlqTopicPrefix = '%DLQ%';
/** Suffix of a cluster's reply topic (`<cluster>_REPLY_TOPIC`) for request-reply. */
export const replyTopicSuffix = '_REPLY_TOPIC';
/** Prefixes of broker-internal topics (`rmq_sys_wheel_timer`, `RMQ_SYS_TRANS_HALF_TOPIC`, …). */
export const systemTopicPrefixes = ['rmq_sys_', 'RMQ_SYS_'] as const;

/** Topics the broker owns (TopicValidator / MixAll). */
export const SystemTopic = {
  /** The default topic whose route a producer borrows for a topic that does not exist yet (auto-create). */
  autoCreate: 'TBW102',
  /** Delayed messages wait here, one queue per delay level. */
  schedule: 'SCHEDULE_TOPIC_XXXX',
  benchmark: 'BenchmarkTest',
  offsetMovedEvent: 'OFFSET_MOVED_EVENT',
  selfTest: 'SELF_TEST_TOPIC',
  /** Prepared (half) transactional messages. */
  transHalf: 'RMQ_SYS_TRANS_HALF_TOPIC',
  /** Commit/rollback ops on half messages. */
  transOpHalf: 'RMQ_SYS_TRANS_OP_HALF_TOPIC',
  /** Half messages dropped after too many checks. */
  transCheckMaxTime: 'TRANS_CHECK_MAX_TIME_TOPIC',
  trace: 'RMQ_SYS_TRACE_TOPIC',
  /** 5.x timer wheel. */
  wheelTimer: 'rmq_sys_wheel_timer',
} as const;

/** Groups the broker uses for itself (MixAll). */
export const SystemGroup = {
  /** Consumer offset of the transaction check over the half topic. */
  transCheck: 'CID_RMQ_SYS_TRANS',
  toolsConsumer: 'TOOLS_CONSUMER',
  toolsProducer: 'TOOLS_PRODUCER',
  /** Consume offsets of the POP revive service over the revive log's queues (RocketMQ's PopAckConstants). */
  revive: 'CID_RMQ_SYS_REVIVE_GROUP',
} as const;

/** Prefix of a cluster's POP revive log (`rmq_sys_REVIVE_LOG_<cluster>`): check points and acks of popped messages. */
export const reviveLogTopicPrefix = 'rmq_sys_REVIVE_LOG_';

/** Prefix of the group of a trace dispatcher's own producer (RocketMQ's TraceConstants.GROUP_NAME_PREFIX). */
export const traceProducerGroupPrefix = '_INNER_TRACE_PRODUCER-';

/** Topics clients may not send to directly. */
export const systemTopics: ReadonlySet<string> = new Set(Object.values(SystemTopic));

export function isSystemTopic(topic: string): boolean {
  return (
    systemTopics.has(topic) || topic.startsWith(systemTopicPrefixes[0]) || topic.startsWith(systemTopicPrefixes[1])
  );
}

/**
 * System topics a client may not send to: all but the trace topic, where trace dispatchers write (RocketMQ's
 * TopicValidator.isNotAllowedSendTopic lets it through too).
 */
export function isSendForbiddenTopic(topic: string): boolean {
  return topic !== SystemTopic.trace && isSystemTopic(topic);
}

export function retryTopicOf(group: string): string {
  return retryTopicPrefix + group;
}

export function dlqTopicOf(group: string): string {
  return dlqTopicPrefix + group;
}

/** A POP group's retry topic for one topic (RocketMQ's KeyBuilder.buildPopRetryTopicV1): `%RETRY%<group>_<topic>`. */
export function popRetryTopicOf(group: string, topic: string): string {
  return `${retryTopicPrefix}${group}_${topic}`;
}

export function reviveLogTopicOf(cluster: string): string {
  return reviveLogTopicPrefix + cluster;
}

export function replyTopicOf(cluster: string): string {
  return cluster + replyTopicSuffix;
}

export function isRetryTopic(topic: string): boolean {
  return topic.startsWith(retryTopicPrefix);
}

export function isDlqTopic(topic: string): boolean {
  return topic.startsWith(dlqTopicPrefix);
}

/** The group of `%RETRY%<group>` or `%DLQ%<group>`, else undefined. */
export function groupOfRetryOrDlq(topic: string): string | undefined {
  if (isRetryTopic(topic)) return topic.slice(retryTopicPrefix.length);
  if (isDlqTopic(topic)) return topic.slice(dlqTopicPrefix.length);
  return undefined;
}

/**
 * RocketMQ 5's TopicMessageType, the value of a topic's `message.type` attribute (topic-attributes.ts). A topic
 * with no type (or UNSPECIFIED / MIXED) accepts every type; a typed one refuses the others (RocketMQ 5 treats an
 * untyped topic as NORMAL, which trips up users upgrading).
 */
export const TopicMessageType = {
  UNSPECIFIED: 'UNSPECIFIED',
  NORMAL: 'NORMAL',
  FIFO: 'FIFO',
  DELAY: 'DELAY',
  TRANSACTION: 'TRANSACTION',
  MIXED: 'MIXED',
} as const;
export type TopicMessageType = (typeof TopicMessageType)[keyof typeof TopicMessageType];
