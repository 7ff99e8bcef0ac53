/**
 * Admin queries and edits (what mqadmin-like tools call):
 * GET_BROKER_CLUSTER_INFO (106) → ClusterInfo; GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206) → TopicList;
 * GET_TOPICS_BY_CLUSTER (224: cluster) → TopicList; GET_SYSTEM_TOPIC_LIST_FROM_NS (304) → TopicList;
 * DELETE_TOPIC_IN_NAMESRV (216: topic, [clusterName]); REGISTER_TOPIC_IN_NAMESRV (217: topic, body TopicRouteData);
 * WIPE_WRITE_PERM_OF_BROKER (205: brokerName → ext wipeTopicCount); ADD_WRITE_PERM_OF_BROKER (327: brokerName →
 * ext addTopicCount); GET_BROKER_MEMBER_GROUP (901: clusterName, brokerName); GET_NAMESRV_CONFIG (319).
 */
import { parseTolerantJson } from '../../common/json.js';
import { encodeJsonBody, type QueueData } from '../../common/route-data.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import {
  decodeBrokerMemberGroupHeader,
  decodeBrokerNameHeader,
  decodeClusterHeader,
} from '../../remoting/protocol/namesrv-route.js';
import { decodeDeleteTopicFromNamesrvHeader, decodeTopicHeader } from '../../remoting/protocol/topic-admin.js';
import { toTopicConfig } from '../register-body.js';
import type { NamesrvContext } from './context.js';

function queueDatasOf(body: Buffer | undefined): QueueData[] {
  if (body === undefined) return [];
  const root = parseTolerantJson(body.toString('utf8')) as { queueDatas?: unknown } | null;
  if (!Array.isArray(root?.queueDatas)) return [];
  return root.queueDatas.map((raw) => {
    const brokerName = (raw as { brokerName?: unknown } | null)?.brokerName;
    const c = toTopicConfig(raw, 'route');
    return {
      brokerName: String(brokerName ?? ''),
      readQueueNums: c.readQueueNums,
      writeQueueNums: c.writeQueueNums,
      perm: c.perm,
      topicSysFlag: c.topicSysFlag,
    };
  });
}

function disabled(req: RemotingCommand) {
  return createResponse(req, ResponseCode.SYSTEM_ERROR, 'disable');
}

export function getBrokerClusterInfo(ctx: NamesrvContext, req: RemotingCommand) {
  return createResponse(
    req,
    ResponseCode.SUCCESS,
    undefined,
    undefined,
    encodeJsonBody(ctx.routes.getAllClusterInfo()),
  );
}

export function getAllTopicListFromNameserver(ctx: NamesrvContext, req: RemotingCommand) {
  if (!ctx.config.enableAllTopicList) return disabled(req);
  return createResponse(req, ResponseCode.SUCCESS, undefined, undefined, encodeJsonBody(ctx.routes.getAllTopicList()));
}

export function getTopicsByCluster(ctx: NamesrvContext, req: RemotingCommand) {
  if (!ctx.config.enableTopicList) return disabled(req);
  const topics = ctx.routes.getTopicsByCluster(decodeClusterHeader(req).cluster);
  return createResponse(req, ResponseCode.SUCCESS, undefined, undefined, encodeJsonBody(topics));
}

export function getSystemTopicListFromNs(ctx: NamesrvContext, req: RemotingCommand) {
  return createResponse(
    req,
    ResponseCode.SUCCESS,
    undefined,
    undefined,
    encodeJsonBody(ctx.routes.getSystemTopicList()),
  );
}

export function deleteTopicInNamesrv(ctx: NamesrvContext, req: RemotingCommand) {
  const { topic, clusterName } = decodeDeleteTopicFromNamesrvHeader(req);
  ctx.routes.deleteTopic(topic, clusterName);
  ctx.log.info('topic deleted', { topic, cluster: clusterName ?? '*' });
  return createResponse(req, ResponseCode.SUCCESS);
}

export function registerTopicInNamesrv(ctx: NamesrvContext, req: RemotingCommand) {
  const { topic } = decodeTopicHeader(req);
  if (!ctx.routes.registerTopic(topic, queueDatasOf(req.body))) {
    ctx.log.warn('register topic names an unknown broker', { topic });
  }
  return createResponse(req, ResponseCode.SUCCESS);
}

export function wipeWritePermOfBroker(ctx: NamesrvContext, req: RemotingCommand) {
  const wipeTopicCount = ctx.routes.wipeWritePerm(decodeBrokerNameHeader(req).brokerName);
  return createResponse(req, ResponseCode.SUCCESS, undefined, { wipeTopicCount });
}

export function addWritePermOfBroker(ctx: NamesrvContext, req: RemotingCommand) {
  const addTopicCount = ctx.routes.addWritePerm(decodeBrokerNameHeader(req).brokerName);
  return createResponse(req, ResponseCode.SUCCESS, undefined, { addTopicCount });
}

export function getBrokerMemberGroup(ctx: NamesrvContext, req: RemotingCommand) {
  const { clusterName, brokerName } = decodeBrokerMemberGroupHeader(req);
  const brokerAddrs = ctx.routes.getBrokerMemberGroup(brokerName);
  const body = encodeJsonBody({ brokerMemberGroup: { cluster: clusterName, brokerName, brokerAddrs } });
  return createResponse(req, ResponseCode.SUCCESS, undefined, undefined, body);
}

export function getNamesrvConfig(ctx: NamesrvContext, req: RemotingCommand) {
  const text = Object.entries(ctx.config)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  return createResponse(req, ResponseCode.SUCCESS, undefined, undefined, Buffer.from(`${text}\n`, 'utf8'));
}
