import { InvalidArgumentError } from './errors.js';

export const topicNameBytesMax = 127;
export const groupNameBytesMax = 255;
const namePattern = /^[%|a-zA-Z0-9_-]+$/;

/** Topics the broker owns; clients may not send to them directly. */
export const systemTopics: ReadonlySet<string> = new Set([
  'TBW102',
  'SCHEDULE_TOPIC_XXXX',
  'BenchmarkTest',
  'OFFSET_MOVED_EVENT',
  'RMQ_SYS_TRANS_HALF_TOPIC',
  'RMQ_SYS_TRANS_OP_HALF_TOPIC',
  'RMQ_SYS_TRACE_TOPIC',
  'TRANS_CHECK_MAX_TIME_TOPIC',
  'rmq_sys_wheel_timer',
  'SELF_TEST_TOPIC',
]);

/** Returns an error message for an invalid topic name, or undefined when it is valid. */
export function checkTopicName(topic: string): string | undefined {
  if (topic.length === 0) return 'topic name is empty';
  if (topic.length > topicNameBytesMax) return `topic name is longer than ${topicNameBytesMax} characters`;
  if (!namePattern.test(topic)) return `topic name '${topic}' has characters outside [%|a-zA-Z0-9_-]`;
  return undefined;
}

/** Returns an error message for an invalid consumer/producer group name, or undefined when it is valid. */
export function checkGroupName(group: string): string | undefined {
  if (group.length === 0) return 'group name is empty';
  if (group.length > groupNameBytesMax) return `group name is longer than ${groupNameBytesMax} characters`;
  if (!namePattern.test(group)) return `group name '${group}' has characters outside [%|a-zA-Z0-9_-]`;
  return undefined;
}

export function assertTopicName(topic: string): void {
  const problem = checkTopicName(topic);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
}

export function assertGroupName(group: string): void {
  const problem = checkGroupName(group);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
}

export function isSystemTopic(topic: string): boolean {
  return systemTopics.has(topic) || topic.startsWith('rmq_sys_') || topic.startsWith('RMQ_SYS_');
}

export function retryTopicOf(group: string): string {
  return `%RETRY%${group}`;
}

export function dlqTopicOf(group: string): string {
  return `%DLQ%${group}`;
}
