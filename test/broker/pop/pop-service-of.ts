/**
 * A BrokerPopService over `store` with the broker's usual parts (puts without hooks, groups, offsets under `dir`).
 * Pass `groups` to wait for its writes (`groups.persist()`) before removing `dir`: a pop creates its group and
 * saves config/subscriptionGroup.json in the background.
 */
import type { BrokerConfig } from '../../../src/broker/config.js';
import { ConsumerOffsetManager } from '../../../src/broker/metadata/consumer-offsets.js';
import { SubscriptionGroupManager } from '../../../src/broker/metadata/subscription-groups.js';
import type { TopicConfigManager } from '../../../src/broker/metadata/topic-config.js';
import { BrokerPopService } from '../../../src/broker/pop/pop-service.js';
import { PutPipeline } from '../../../src/broker/put/pipeline.js';
import { BrokerStats } from '../../../src/broker/stats/broker-stats.js';
import { createLogger } from '../../../src/common/log.js';
import type { MessageStore } from '../../../src/store/index.js';

export function popServiceOf(
  config: BrokerConfig,
  store: MessageStore,
  topics: TopicConfigManager,
  dir: string,
  logName = 'test.pop',
  groups = new SubscriptionGroupManager(dir, true),
): BrokerPopService {
  return new BrokerPopService({
    config,
    store,
    put: new PutPipeline(store, []),
    topics,
    groups,
    offsets: new ConsumerOffsetManager(dir),
    stats: new BrokerStats(),
    brokerAddr: () => '127.0.0.1:10911',
    log: createLogger(logName),
  });
}
