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
  const pop = new BrokerPopService({
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
  groupsOf.set(pop, groups);
  return pop;
}

const groupsOf = new WeakMap<BrokerPopService, SubscriptionGroupManager>();

/**
 * Settles once the background saves of `topics` and of `pop`'s groups (config/*.json under its dir) have ended: a
 * test awaits it before removing the dir, which a save still under way would make again.
 */
export async function savesSettled(pop: BrokerPopService, topics: TopicConfigManager): Promise<void> {
  await Promise.all([topics.persist(), groupsOf.get(pop)?.persist()]);
}
