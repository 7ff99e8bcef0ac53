/**
 * The ordered list of put hooks: a new rewrite is one more entry here. Order follows RocketMQ's send path:
 * retry → DLQ first (a DLQ'd message is not retried), then the topic's message type (on the real topic, before any
 * rewrite), then the transaction rule; delay → SCHEDULE_TOPIC_XXXX
 * and timer → rmq_sys_wheel_timer go last and apply only to messages that are not half messages.
 */
import { type DelayHookDeps, delayHook } from './delay-hook.js';
import { messageTypeHook } from './message-type-hook.js';
import { requestClusterHook } from './request-cluster-hook.js';
import { type RetryDlqDeps, retryToDlqHook } from './retry-dlq-hook.js';
import { type TimerHookDeps, timerHook } from './timer-hook.js';
import { transactionHook } from './transaction-hook.js';
import type { PutHook } from './types.js';

export function brokerPutHooks(deps: RetryDlqDeps & DelayHookDeps & TimerHookDeps): PutHook[] {
  return [
    retryToDlqHook(deps),
    messageTypeHook(deps.topics),
    transactionHook(deps.config),
    requestClusterHook(deps.config.brokerClusterName),
    delayHook(deps),
    timerHook(deps),
  ];
}
