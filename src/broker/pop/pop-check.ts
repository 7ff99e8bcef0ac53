/** A pop request checked against the limits, the broker, group and topic, with its filter built (or refused). */
import { ResponseCode } from '../../remoting/codes.js';
import type { MessageFilter } from '../../store/types.js';
import { filterTypeUnsupported } from '../filter/expression-type.js';
import { compiledSql92, sqlMessageFilter } from '../filter/sql92-filter.js';
import { tagFilterOf } from '../filter/tag-filter.js';
import { isReadable } from '../metadata/perm.js';
import type { TopicConfig } from '../metadata/topic-config.js';
import { type PopDeps, type Refused, refused } from './pop-deps.js';
import { invisibleTimeMsMin, type PopRequest, popMessagesMax } from './types.js';

export type CheckedPop = { status: 'ok'; tc: TopicConfig; filter: MessageFilter | undefined };

export function checkPopRequest(deps: PopDeps, req: PopRequest): Refused | CheckedPop {
  const { config: c, groups, topics } = deps;
  if (!Number.isInteger(req.maxMessages) || req.maxMessages < 1 || req.maxMessages > popMessagesMax) {
    return refused(
      ResponseCode.INVALID_PARAMETER,
      `the max message num ${req.maxMessages} is not in 1..${popMessagesMax}`,
    );
  }
  if (!Number.isSafeInteger(req.invisibleTimeMs) || req.invisibleTimeMs < invisibleTimeMsMin) {
    return refused(
      ResponseCode.INVALID_PARAMETER,
      `invisibleTime ${req.invisibleTimeMs} ms is below ${invisibleTimeMsMin}`,
    );
  }
  if (!Number.isSafeInteger(req.pollTimeMs) || req.pollTimeMs < 0) {
    return refused(ResponseCode.INVALID_PARAMETER, `pollTime ${req.pollTimeMs} ms is negative`);
  }
  if (!isReadable(c.brokerPermission)) {
    return refused(ResponseCode.NO_PERMISSION, `the broker[${c.brokerName}] pop message is forbidden`);
  }
  const group = groups.findOrCreate(req.group);
  if (group === undefined) return refused(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, groups.missingRemark(req.group));
  if (!group.consumeEnable) {
    return refused(ResponseCode.NO_PERMISSION, `subscription group [${req.group}] has consumption disabled`);
  }
  const tc = topics.get(req.topic);
  if (tc === undefined) {
    return refused(
      ResponseCode.TOPIC_NOT_EXIST,
      `topic[${req.topic}] not exist on broker ${c.brokerName}, apply first please`,
    );
  }
  if (!isReadable(tc.perm))
    return refused(ResponseCode.NO_PERMISSION, `the topic[${req.topic}] pop message is forbidden`);
  if (!Number.isInteger(req.queueId) || req.queueId < -1 || req.queueId >= tc.readQueueNums) {
    return refused(
      ResponseCode.INVALID_PARAMETER,
      `queueId[${req.queueId}] is illegal, topic ${req.topic} has ${tc.readQueueNums} read queues`,
    );
  }
  if (req.filter.type === 'TAG') return { status: 'ok', tc, filter: tagFilterOf(req.filter.expression) };
  if (!c.enablePropertyFilter) return refused(ResponseCode.SYSTEM_ERROR, filterTypeUnsupported(req.filter.type));
  const compiled = compiledSql92(req.filter.expression);
  if (!compiled.ok) {
    return refused(
      ResponseCode.SUBSCRIPTION_PARSE_FAILED,
      `parse the consumer's subscription failed: ${compiled.error.message}`,
    );
  }
  return { status: 'ok', tc, filter: sqlMessageFilter(compiled.filter) };
}
