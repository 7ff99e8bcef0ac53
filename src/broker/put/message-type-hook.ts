/**
 * Topic message types (RocketMQ 5's `message.type` attribute): a topic restricted to one type refuses a message of
 * another with MESSAGE_ILLEGAL naming both. A topic with no type accepts every type. While no topic is typed the
 * hook costs one counter read; the properties are decoded only for a typed topic.
 */
import { SysFlag, transactionTypeOf } from '../../common/message.js';
import { decodeProperties, Prop } from '../../common/properties.js';
import { messageTypeAttribute, restrictedMessageTypeOf, TopicMessageType } from '../../common/topic-attributes.js';
import { ResponseCode } from '../../remoting/codes.js';
import type { TopicConfigManager } from '../metadata/topic-config.js';
import { type PutHook, type PutMessage, PutRefusal } from './types.js';

/**
 * A message's type, in RocketMQ 5's order (TopicMessageType.parseFromMessageProperty): prepared or committed
 * transactional → TRANSACTION; DELAY or a timer property → DELAY; a sharding key → FIFO; else NORMAL.
 */
export function messageTypeOf(msg: PutMessage): TopicMessageType {
  const tran = transactionTypeOf(msg.sysFlag);
  if (msg.transactionPrepared === true || tran === SysFlag.transactionPreparedType) return TopicMessageType.TRANSACTION;
  // A commit re-put (END_TRANSACTION) carries the commit type: still a transactional message of its topic.
  if (tran === SysFlag.transactionCommitType) return TopicMessageType.TRANSACTION;
  if (msg.scheduled === true) return TopicMessageType.DELAY;
  const props = typeof msg.properties === 'string' ? msg.properties : msg.properties.toString('utf8');
  if (props.includes(Prop.shardingKey) && decodeProperties(props).has(Prop.shardingKey)) return TopicMessageType.FIFO;
  return TopicMessageType.NORMAL;
}

export function messageTypeHook(topics: TopicConfigManager): PutHook {
  return {
    name: 'message-type',
    leavesPlainAlone: true,
    beforePut(msg) {
      if (topics.typedTopicCount === 0) return undefined;
      const accepted = restrictedMessageTypeOf(topics.get(msg.topic)?.attributes);
      if (accepted === undefined) return undefined;
      const type = messageTypeOf(msg);
      if (type === accepted) return undefined;
      return new PutRefusal(
        ResponseCode.MESSAGE_ILLEGAL,
        `the topic[${msg.topic}] accepts ${accepted} messages only; this message is ${type} (topic attribute ${messageTypeAttribute})`,
      );
    },
  };
}
