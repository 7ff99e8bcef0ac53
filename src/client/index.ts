/** Public surface of the tsrocket client SDK. */

export {
  Admin,
  type AdminOptions,
  DlqMessageNotFoundError,
  type DlqResent,
  type DlqSelection,
  type QueueOffset,
  TopicMessageType,
} from './admin/admin.js';
export {
  type AllocateStrategy,
  AllocateStrategyName,
  allocateAveragely,
  allocateAveragelyByCircle,
  allocateConsistentHash,
} from './allocate.js';
export { ClientInstance, type ClientOptions } from './client-instance.js';
export { ConsumeResult, type HandlerOutcome, type MessageHandler } from './consume-service.js';
export {
  BrokerNotFoundError,
  InvalidReceiptHandleError,
  LocalTransactionError,
  LockResponseError,
  ReceiptHandleExpiredError,
  SplitBatchRefusedError,
  SubscriptionRefusedError,
  TopicNotFoundError,
  TransactionStateError,
} from './errors.js';
export { ConsumeFromWhere, MessageModel } from './heartbeat.js';
export type { Logger } from './logger.js';
export { bodyBytesMaxDefault, compressBodyBytesMinDefault, type Message } from './message.js';
export type { MessageQueue } from './message-queue.js';
export { createUniqId, parseUniqId } from './msg-id.js';
export type { PoppedMessage } from './popped-message.js';
export {
  Producer,
  type ProducerOptions,
  type SendCallback,
  type SendOptions,
  SendResult,
  type SendResultJson,
  SendStatus,
} from './producer.js';
export { PullConsumer, type PullConsumerOptions } from './pull-consumer.js';
export { PushConsumer, type PushConsumerOptions } from './push-consumer.js';
export { type QueueSelector, selectByHash, selectRandom } from './queue-selector.js';
export type { ReceivedMessage } from './received-message.js';
export {
  createReply,
  type ReplyMessage,
  type RequestLike,
  RequestTimeoutError,
} from './request-reply.js';
export { type BackoffPolicy, RetriesExhaustedError } from './retry.js';
export { type AckResults, SimpleConsumer, type SimpleConsumerOptions } from './simple-consumer.js';
export { ExpressionType, type MessageSelector } from './subscription.js';
export {
  TransactionProducer,
  type TransactionProducerOptions,
  type TransactionSendResult,
  TransactionState,
} from './transaction-producer.js';
