/** What the POP pieces share: the broker parts they use, and the shapes passed between them. */
import type { Logger } from '../../common/log.js';
import type { MessageExt } from '../../common/message.js';
import { Prop } from '../../common/properties.js';
import type { MessageStore } from '../../store/types.js';
import type { BrokerConfig } from '../config.js';
import type { ConsumerOffsetManager } from '../metadata/consumer-offsets.js';
import type { SubscriptionGroupManager } from '../metadata/subscription-groups.js';
import type { TopicConfigManager } from '../metadata/topic-config.js';
import type { PutPipeline } from '../put/pipeline.js';
import type { BrokerStats } from '../stats/broker-stats.js';
import { buildExtraInfo, type ExtraInfo } from './extra-info.js';
import type { PoppedMessage, PoppedQueue } from './types.js';

export interface PopDeps {
  readonly config: BrokerConfig;
  readonly store: MessageStore;
  readonly put: PutPipeline;
  readonly topics: TopicConfigManager;
  readonly groups: SubscriptionGroupManager;
  readonly offsets: ConsumerOffsetManager;
  readonly stats: BrokerStats;
  readonly brokerAddr: () => string;
  readonly log: Logger;
}

export type Refused = { readonly status: 'refused'; readonly code: number; readonly remark: string };

export function refused(code: number, remark: string): Refused {
  return { status: 'refused', code, remark };
}

/** What popping one queue gave. */
export interface QueuePop {
  readonly messages: PoppedMessage[];
  readonly queue?: PoppedQueue | undefined;
  readonly rest: bigint;
  /** FIFO: the queue is blocked until then. */
  readonly blockedUntilMs?: number | undefined;
  readonly failed?: Refused | undefined;
  /** FIFO: the batch read was all done already and the queue moved on: read it again now. */
  readonly readAgain?: boolean | undefined;
  /** Non-FIFO: settles to whether the check point was stored (the messages go out only then). */
  readonly stored?: Promise<boolean> | undefined;
}

/** The message as handed out: the popped topic (not the retry topic), POP_CK set, earlier FIFO attempts counted. */
export function poppedOf(topic: string, m: MessageExt, info: ExtraInfo, orderCount: number): PoppedMessage {
  const handleInfo = buildExtraInfo(info);
  m.properties.set(Prop.popCk, handleInfo);
  m.topic = topic;
  if (orderCount > 0) m.reconsumeTimes += orderCount;
  return {
    msg: m,
    handle: `${handleInfo} ${m.commitLogOffset}`,
    deliveryAttempt: m.reconsumeTimes + 1,
    storeSize: m.storeSize,
  };
}

export function queueOf(
  retry: boolean,
  queueId: number,
  startOffset: bigint,
  msgOffsets: readonly bigint[],
  orderCount: number,
): PoppedQueue {
  return { retry, queueId, startOffset, msgOffsets, orderCount };
}
