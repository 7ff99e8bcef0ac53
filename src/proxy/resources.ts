/** Checks of the Resource fields of requests (topic, group): a Status naming what is wrong, or undefined. */
import { checkGroupName, checkTopicName } from '../common/validate.js';
import { Code, type Resource, type Status, status } from './proto.js';

export function checkTopicResource(topic: Resource | null | undefined): Status | undefined {
  if (topic == null || topic.name === '') return status(Code.ILLEGAL_TOPIC, 'topic is required');
  const bad = checkTopicName(topic.name);
  return bad === undefined ? undefined : status(Code.ILLEGAL_TOPIC, bad);
}

export function checkGroupResource(group: Resource | null | undefined): Status | undefined {
  if (group == null || group.name === '') return status(Code.ILLEGAL_CONSUMER_GROUP, 'group is required');
  const bad = checkGroupName(group.name);
  return bad === undefined ? undefined : status(Code.ILLEGAL_CONSUMER_GROUP, bad);
}
