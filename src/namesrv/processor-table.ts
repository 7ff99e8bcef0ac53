/** Request code → NameServer processor: the whole NameServer protocol surface in one table (one file per concern under processors/). */
import { RequestCode } from '../remoting/codes.js';
import {
  brokerHeartbeat,
  queryDataVersion,
  registerBroker,
  unregisterBroker,
} from './processors/broker-registration.js';
import {
  addWritePermOfBroker,
  deleteTopicInNamesrv,
  getAllTopicListFromNameserver,
  getBrokerClusterInfo,
  getBrokerMemberGroup,
  getNamesrvConfig,
  getSystemTopicListFromNs,
  getTopicsByCluster,
  registerTopicInNamesrv,
  wipeWritePermOfBroker,
} from './processors/cluster-admin.js';
import type { NamesrvProcessor } from './processors/context.js';
import { deleteKvConfig, getKvConfig, getKvListByNamespace, putKvConfig } from './processors/kv-config.js';
import { getRouteInfoByTopic } from './processors/route-query.js';

export const namesrvProcessors: ReadonlyMap<number, NamesrvProcessor> = new Map<number, NamesrvProcessor>([
  [RequestCode.REGISTER_BROKER, registerBroker],
  [RequestCode.UNREGISTER_BROKER, unregisterBroker],
  [RequestCode.QUERY_DATA_VERSION, queryDataVersion],
  [RequestCode.BROKER_HEARTBEAT, brokerHeartbeat],
  [RequestCode.GET_ROUTEINFO_BY_TOPIC, getRouteInfoByTopic],
  [RequestCode.GET_BROKER_CLUSTER_INFO, getBrokerClusterInfo],
  [RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, getAllTopicListFromNameserver],
  [RequestCode.GET_TOPICS_BY_CLUSTER, getTopicsByCluster],
  [RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS, getSystemTopicListFromNs],
  [RequestCode.DELETE_TOPIC_IN_NAMESRV, deleteTopicInNamesrv],
  [RequestCode.REGISTER_TOPIC_IN_NAMESRV, registerTopicInNamesrv],
  [RequestCode.WIPE_WRITE_PERM_OF_BROKER, wipeWritePermOfBroker],
  [RequestCode.ADD_WRITE_PERM_OF_BROKER, addWritePermOfBroker],
  [RequestCode.GET_BROKER_MEMBER_GROUP, getBrokerMemberGroup],
  [RequestCode.GET_NAMESRV_CONFIG, getNamesrvConfig],
  [RequestCode.PUT_KV_CONFIG, putKvConfig],
  [RequestCode.GET_KV_CONFIG, getKvConfig],
  [RequestCode.DELETE_KV_CONFIG, deleteKvConfig],
  [RequestCode.GET_KVLIST_BY_NAMESPACE, getKvListByNamespace],
]);
