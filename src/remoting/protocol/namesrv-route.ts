/**
 * NameServer route queries and permissions: GET_ROUTEINFO_BY_TOPIC (105, topic: see topic-admin.ts),
 * GET_TOPICS_BY_CLUSTER (224), WIPE_WRITE_PERM_OF_BROKER (205), ADD_WRITE_PERM_OF_BROKER (327),
 * GET_BROKER_MEMBER_GROUP (901).
 *
 *   GetTopicsByClusterRequestHeader        cluster String *
 *   WipeWritePermOfBrokerRequestHeader     brokerName String *   → response wipeTopicCount Integer *
 *   AddWritePermOfBrokerRequestHeader      brokerName String *   → response addTopicCount Integer *
 *   GetBrokerMemberGroupRequestHeader      clusterName String *, brokerName String *
 */
import type { RemotingCommand } from '../command.js';
import { requireString } from '../fields.js';

export interface ClusterRequestHeader {
  cluster: string;
}

export function encodeClusterHeader(h: ClusterRequestHeader): Record<string, string> {
  return { cluster: h.cluster };
}

export function decodeClusterHeader(req: RemotingCommand): ClusterRequestHeader {
  return { cluster: requireString(req, 'cluster') };
}

/** WIPE_WRITE_PERM_OF_BROKER and ADD_WRITE_PERM_OF_BROKER: one broker name. */
export interface BrokerNameRequestHeader {
  brokerName: string;
}

export function encodeBrokerNameHeader(h: BrokerNameRequestHeader): Record<string, string> {
  return { brokerName: h.brokerName };
}

export function decodeBrokerNameHeader(req: RemotingCommand): BrokerNameRequestHeader {
  return { brokerName: requireString(req, 'brokerName') };
}

export interface BrokerMemberGroupRequestHeader {
  clusterName: string;
  brokerName: string;
}

export function encodeBrokerMemberGroupHeader(h: BrokerMemberGroupRequestHeader): Record<string, string> {
  return { clusterName: h.clusterName, brokerName: h.brokerName };
}

export function decodeBrokerMemberGroupHeader(req: RemotingCommand): BrokerMemberGroupRequestHeader {
  return { clusterName: requireString(req, 'clusterName'), brokerName: requireString(req, 'brokerName') };
}
