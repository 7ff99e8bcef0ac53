/** Request code → broker processor: the whole broker protocol surface in one table. */
import { RequestCode } from '../remoting/codes.js';
import type { BrokerProcessor } from './context.js';
import { ackMessage, batchAckMessage, changeInvisibleTime } from './processors/ack.js';
import { checkClientConfig, getConsumerListByGroup, heartBeat, unregisterClient } from './processors/clients.js';
import { endTransaction } from './processors/end-transaction.js';
import {
  deleteSubscriptionGroup,
  getAllConsumerOffset,
  getAllSubscriptionGroupConfig,
  getConsumerConnectionList,
  updateAndCreateSubscriptionGroup,
} from './processors/group-admin.js';
import { lockBatchMQ, unlockBatchMQ } from './processors/lock.js';
import {
  getEarliestMsgStoreTime,
  getMaxOffset,
  getMinOffset,
  queryConsumerOffset,
  searchOffsetByTimestamp,
  updateConsumerOffset,
} from './processors/offsets.js';
import { popMessage } from './processors/pop.js';
import { pullMessage } from './processors/pull.js';
import { queryMessage, viewMessageById } from './processors/query.js';
import { recallMessageNotBuilt } from './processors/recall.js';
import { sendReplyMessage, sendReplyMessageV2 } from './processors/reply.js';
import { invokeBrokerToResetOffset } from './processors/reset-offset.js';
import { sendBatchMessage, sendMessageV1, sendMessageV2 } from './processors/send.js';
import { consumerSendMsgBack } from './processors/send-back.js';
import { getBrokerConfig, getBrokerRuntimeInfo, getConsumeStats, getTopicStatsInfo } from './processors/stats-admin.js';
import { deleteTopicInBroker, getAllTopicConfig, updateAndCreateTopic } from './processors/topic-admin.js';

export const brokerProcessors: ReadonlyMap<number, BrokerProcessor> = new Map<number, BrokerProcessor>([
  [RequestCode.SEND_MESSAGE, sendMessageV1],
  [RequestCode.SEND_MESSAGE_V2, sendMessageV2],
  [RequestCode.SEND_BATCH_MESSAGE, sendBatchMessage],
  [RequestCode.PULL_MESSAGE, pullMessage],
  [RequestCode.QUERY_MESSAGE, queryMessage],
  [RequestCode.VIEW_MESSAGE_BY_ID, viewMessageById],
  [RequestCode.QUERY_CONSUMER_OFFSET, queryConsumerOffset],
  [RequestCode.UPDATE_CONSUMER_OFFSET, updateConsumerOffset],
  [RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, searchOffsetByTimestamp],
  [RequestCode.GET_MAX_OFFSET, getMaxOffset],
  [RequestCode.GET_MIN_OFFSET, getMinOffset],
  [RequestCode.GET_EARLIEST_MSG_STORETIME, getEarliestMsgStoreTime],
  [RequestCode.HEART_BEAT, heartBeat],
  [RequestCode.UNREGISTER_CLIENT, unregisterClient],
  [RequestCode.GET_CONSUMER_LIST_BY_GROUP, getConsumerListByGroup],
  [RequestCode.CHECK_CLIENT_CONFIG, checkClientConfig],
  [RequestCode.CONSUMER_SEND_MSG_BACK, consumerSendMsgBack],
  [RequestCode.END_TRANSACTION, endTransaction],
  [RequestCode.UPDATE_AND_CREATE_TOPIC, updateAndCreateTopic],
  [RequestCode.DELETE_TOPIC_IN_BROKER, deleteTopicInBroker],
  [RequestCode.GET_ALL_TOPIC_CONFIG, getAllTopicConfig],
  [RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, updateAndCreateSubscriptionGroup],
  [RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, getAllSubscriptionGroupConfig],
  [RequestCode.DELETE_SUBSCRIPTIONGROUP, deleteSubscriptionGroup],
  [RequestCode.GET_CONSUMER_CONNECTION_LIST, getConsumerConnectionList],
  [RequestCode.GET_ALL_CONSUMER_OFFSET, getAllConsumerOffset],
  [RequestCode.GET_BROKER_RUNTIME_INFO, getBrokerRuntimeInfo],
  [RequestCode.GET_TOPIC_STATS_INFO, getTopicStatsInfo],
  [RequestCode.GET_CONSUME_STATS, getConsumeStats],
  [RequestCode.GET_BROKER_CONFIG, getBrokerConfig],
  [RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, invokeBrokerToResetOffset],
  [RequestCode.SEND_REPLY_MESSAGE, sendReplyMessage],
  [RequestCode.SEND_REPLY_MESSAGE_V2, sendReplyMessageV2],
  [RequestCode.LOCK_BATCH_MQ, lockBatchMQ],
  [RequestCode.UNLOCK_BATCH_MQ, unlockBatchMQ],
  [RequestCode.POP_MESSAGE, popMessage],
  [RequestCode.ACK_MESSAGE, ackMessage],
  [RequestCode.BATCH_ACK_MESSAGE, batchAckMessage],
  [RequestCode.CHANGE_MESSAGE_INVISIBLETIME, changeInvisibleTime],
  [RequestCode.RECALL_MESSAGE, recallMessageNotBuilt],
]);
