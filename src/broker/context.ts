/** What request processors share: the broker's managers and store. */
import type { RemotingCommand } from '../remoting/command.js';
import type { ConnectionStats, RemotingConnection } from '../remoting/server.js';
import type { MessageStore } from '../store/types.js';
import type { ClientManager } from './clients/client-manager.js';
import type { RebalanceLocks } from './clients/rebalance-locks.js';
import type { BrokerConfig } from './config.js';
import type { DedupService } from './dedup/dedup-service.js';
import type { PullHoldService } from './long-polling/pull-hold.js';
import type { ConsumerOffsetManager } from './metadata/consumer-offsets.js';
import type { SubscriptionGroupManager } from './metadata/subscription-groups.js';
import type { TopicConfigManager } from './metadata/topic-config.js';
import type { PopService } from './pop/types.js';
import type { PutPipeline } from './put/pipeline.js';
import type { DelayService } from './schedule/delay-service.js';
import type { BrokerStats } from './stats/broker-stats.js';
import type { ClosedHalves } from './transaction/closed-halves.js';

export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly store: MessageStore;
  /** Every put goes through here: the put hooks (topic rewrites, refusals), then the store. */
  readonly put: PutPipeline;
  readonly topics: TopicConfigManager;
  readonly offsets: ConsumerOffsetManager;
  readonly groups: SubscriptionGroupManager;
  readonly clients: ClientManager;
  /** Queue locks of orderly consumers (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ). */
  readonly locks: RebalanceLocks;
  readonly pullHolds: PullHoldService;
  /** Delivers delayed messages when due (SCHEDULE_TOPIC_XXXX); its progress and counters. */
  readonly delay: DelayService;
  /** POP consumption (RocketMQ 5): pop, ack, change invisible time; the gRPC endpoint calls it in-process. */
  readonly pop: PopService;
  readonly stats: BrokerStats;
  /** Transactions already committed or rolled back (END_TRANSACTION and the check pass share it). */
  readonly closedHalves: ClosedHalves;
  /** Producer de-duplication: the UNIQ_KEY tables of topics with the `dedup.window.ms` attribute. */
  readonly dedup: DedupService;
  /** "ip:port" this broker advertises and writes as STOREHOST. */
  readonly brokerAddr: () => string;
  readonly startedAtMs: number;
  /** The remoting server's connection counters (open, refused, reaped, partial frames). */
  readonly connectionStats: () => ConnectionStats;
}

export type BrokerProcessor = (
  ctx: BrokerContext,
  req: RemotingCommand,
  conn: RemotingConnection,
) => Promise<RemotingCommand | undefined> | RemotingCommand | undefined;
