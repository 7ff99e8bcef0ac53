/** HEART_BEAT body (RocketMQ's HeartbeatData): who this client is and which groups it produces/consumes for. */
import type { SubscriptionData } from './subscription.js';

export const MessageModel = { CLUSTERING: 'CLUSTERING', BROADCASTING: 'BROADCASTING' } as const;
export type MessageModel = (typeof MessageModel)[keyof typeof MessageModel];

/** Where a group with no committed offset starts reading a queue. */
export const ConsumeFromWhere = {
  CONSUME_FROM_LAST_OFFSET: 'CONSUME_FROM_LAST_OFFSET',
  CONSUME_FROM_FIRST_OFFSET: 'CONSUME_FROM_FIRST_OFFSET',
  CONSUME_FROM_TIMESTAMP: 'CONSUME_FROM_TIMESTAMP',
} as const;
export type ConsumeFromWhere = (typeof ConsumeFromWhere)[keyof typeof ConsumeFromWhere];

export interface ConsumerData {
  groupName: string;
  /** CONSUME_PASSIVELY = push, CONSUME_ACTIVELY = pull, CONSUME_POP = SimpleConsumer (RocketMQ 5). */
  consumeType: 'CONSUME_PASSIVELY' | 'CONSUME_ACTIVELY' | 'CONSUME_POP';
  messageModel: MessageModel;
  consumeFromWhere: ConsumeFromWhere;
  subscriptionDataSet: SubscriptionData[];
  unitMode: false;
}

export interface ProducerData {
  groupName: string;
}

export interface HeartbeatData {
  clientID: string;
  producerDataSet: ProducerData[];
  consumerDataSet: ConsumerData[];
}
