/**
 * The Settings a client gets back over Telemetry (RocketMQ's GrpcClientSettingsManager): its own settings merged
 * with the server's. Producers: exponential back-off (10 ms × 2 up to 1 s, 3 attempts) and publishing limits
 * (max_body_size = the broker's maxMessageSize; Apache's clients crash without a back-off policy and refuse every
 * send with max_body_size 0). Consumers: the group's retry budget (retryMaxTimes + 1 attempts, RocketMQ's
 * customized back-off over the delay levels), receive batch size, long-polling timeout and fifo.
 */
import type { BrokerContext } from '../../broker/context.js';
import { defaultMessageDelayLevel, parseDelayLevels } from '../../store/delay-levels.js';
import { durationOfMs, type RetryPolicy, type Settings } from '../proto.js';

export const producerMaxAttempts = 3;
export const producerBackoffInitialMs = 10;
export const producerBackoffMaxMs = 1000;
export const producerBackoffMultiplier = 2;
/** Messages a consumer asks for per receive (RocketMQ proxy's grpcClientConsumerLongPollingBatchSize). */
export const consumerReceiveBatchSize = 32;
/** How long a receive may be held (RocketMQ proxy's grpcClientConsumerMaxLongPollingTimeoutMillis). */
export const consumerLongPollingTimeoutMs = 20_000;
/** Request timeout told to clients that sent none. */
export const requestTimeoutMsDefault = 3000;

const retryDelaysMs = parseDelayLevels(defaultMessageDelayLevel) as number[];

function producerBackoff(): RetryPolicy {
  return {
    maxAttempts: producerMaxAttempts,
    exponentialBackoff: {
      initial: durationOfMs(producerBackoffInitialMs),
      max: durationOfMs(producerBackoffMaxMs),
      multiplier: producerBackoffMultiplier,
    },
  };
}

/** The reply to `sent`; undefined when it names neither publishing nor subscription. */
export function settingsReplyOf(broker: BrokerContext, sent: Settings): Settings | undefined {
  const base: Settings = {
    clientType: sent.clientType ?? 'CLIENT_TYPE_UNSPECIFIED',
    accessPoint: sent.accessPoint ?? null,
    requestTimeout: sent.requestTimeout ?? durationOfMs(requestTimeoutMsDefault),
    userAgent: sent.userAgent ?? null,
    metric: { on: false },
  };
  if (sent.publishing != null) {
    return {
      ...base,
      backoffPolicy: producerBackoff(),
      publishing: {
        topics: sent.publishing.topics,
        maxBodySize: broker.config.maxMessageSize,
        validateMessageType: true,
      },
    };
  }
  const sub = sent.subscription;
  if (sub == null) return undefined;
  const groupName = sub.group?.name ?? '';
  const group = groupName === '' ? undefined : broker.groups.get(groupName);
  const retryMaxTimes = group?.retryMaxTimes ?? 16;
  // A group config has no orderly flag today; read it when one is there.
  const fifo = (group as { consumeMessageOrderly?: boolean } | undefined)?.consumeMessageOrderly === true;
  return {
    ...base,
    backoffPolicy: { maxAttempts: retryMaxTimes + 1, customizedBackoff: { next: retryDelaysMs.map(durationOfMs) } },
    subscription: {
      group: sub.group ?? null,
      subscriptions: sub.subscriptions,
      fifo,
      receiveBatchSize: consumerReceiveBatchSize,
      longPollingTimeout: durationOfMs(consumerLongPollingTimeoutMs),
    },
  };
}
