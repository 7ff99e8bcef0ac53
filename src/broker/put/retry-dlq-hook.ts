/**
 * Retry past its budget → DLQ (RocketMQ's handleRetryAndDLQ / send-back): a message for %RETRY%<group> whose
 * reconsume count reached the budget, or that the consumer sent straight to the DLQ, goes to %DLQ%<group>
 * queue 0 instead (the DLQ topic is created on first use, 1 queue, read-write).
 */
import { dlqTopicOf, retryTopicPrefix } from '../../common/topics.js';
import type { BrokerConfig } from '../config.js';
import { Perm } from '../metadata/perm.js';
import type { SubscriptionGroupManager } from '../metadata/subscription-groups.js';
import type { TopicConfigManager } from '../metadata/topic-config.js';
import type { PutHook } from './types.js';

export interface RetryDlqDeps {
  readonly config: BrokerConfig;
  readonly topics: TopicConfigManager;
  readonly groups: SubscriptionGroupManager;
}

export function retryToDlqHook(deps: RetryDlqDeps): PutHook {
  return {
    name: 'retry-to-dlq',
    leavesPlainAlone: true,
    beforePut(msg, req) {
      if (!msg.topic.startsWith(retryTopicPrefix)) return undefined;
      const group = msg.topic.slice(retryTopicPrefix.length);
      if (req.deadLetterNow !== true) {
        const max =
          req.maxReconsumeTimes ?? deps.groups.get(group)?.retryMaxTimes ?? deps.config.maxReconsumeTimesDefault;
        if (req.reconsumeTimes < max) return undefined;
      }
      msg.topic = dlqTopicOf(group);
      msg.queueId = 0;
      deps.topics.ensureTopic(msg.topic, 1, Perm.read | Perm.write);
      return undefined;
    },
  };
}
