/**
 * HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38).
 * Heartbeat body (HeartbeatData): {clientID, producerDataSet:[{groupName}], consumerDataSet:[{groupName,
 * consumeType, messageModel, consumeFromWhere, subscriptionDataSet:[SubscriptionData], unitMode}]}.
 */
import { parseTolerantJson } from '../../common/json.js';
import { retryTopicOf } from '../../common/topics.js';
import { checkGroupName } from '../../common/validate.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { decodeConsumerGroupHeader, decodeUnregisterClientHeader } from '../../remoting/protocol/clients.js';
import type { RemotingConnection } from '../../remoting/server.js';
import { type ClientChannel, Registered, type SubscriptionData } from '../clients/client-manager.js';
import type { BrokerContext } from '../context.js';
import { Perm } from '../metadata/perm.js';

interface ConsumerDataJson {
  groupName?: unknown;
  consumeType?: unknown;
  messageModel?: unknown;
  consumeFromWhere?: unknown;
  subscriptionDataSet?: unknown;
}

export function heartBeat(ctx: BrokerContext, req: RemotingCommand, conn: RemotingConnection) {
  let data: { clientID?: unknown; producerDataSet?: unknown; consumerDataSet?: unknown };
  try {
    data = parseTolerantJson((req.body ?? Buffer.alloc(0)).toString('utf8')) as typeof data;
  } catch (err) {
    return createResponse(req, ResponseCode.SYSTEM_ERROR, `heartbeat body is not JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || typeof data.clientID !== 'string' || data.clientID === '') {
    return createResponse(req, ResponseCode.SYSTEM_ERROR, 'heartbeat body has no clientID');
  }
  const channel: ClientChannel = {
    clientId: data.clientID,
    conn,
    language: req.language,
    version: req.version,
    lastUpdateMs: Date.now(),
  };
  const consumers = Array.isArray(data.consumerDataSet) ? (data.consumerDataSet as ConsumerDataJson[]) : [];
  for (const cd of consumers) {
    const groupName = String(cd.groupName ?? '');
    const bad = checkGroupName(groupName);
    if (bad !== undefined) return createResponse(req, ResponseCode.INVALID_PARAMETER, bad);
    const group = ctx.groups.findOrCreate(groupName);
    if (group === undefined) {
      return createResponse(req, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, ctx.groups.missingRemark(groupName));
    }
    const messageModel = String(cd.messageModel ?? 'CLUSTERING');
    if (messageModel === 'CLUSTERING') {
      ctx.topics.ensureTopic(retryTopicOf(groupName), Math.max(1, group.retryQueueNums), Perm.read | Perm.write);
    }
    const done = ctx.clients.registerConsumer(
      {
        groupName,
        consumeType: String(cd.consumeType ?? 'CONSUME_PASSIVELY'),
        messageModel,
        consumeFromWhere: String(cd.consumeFromWhere ?? 'CONSUME_FROM_LAST_OFFSET'),
        subscriptions: subscriptionsOf(cd.subscriptionDataSet),
      },
      { ...channel },
    );
    if (done === Registered.overLimit) return overLimit(ctx, req);
  }
  const producers = Array.isArray(data.producerDataSet) ? (data.producerDataSet as Array<{ groupName?: unknown }>) : [];
  for (const pd of producers) {
    const groupName = String(pd.groupName ?? '');
    if (groupName !== '' && ctx.clients.registerProducer(groupName, { ...channel }) === Registered.overLimit) {
      return overLimit(ctx, req);
    }
  }
  return createResponse(req, ResponseCode.SUCCESS);
}

function overLimit(ctx: BrokerContext, req: RemotingCommand): RemotingCommand {
  const max = ctx.clients.perConnectionMax;
  return createResponse(
    req,
    ResponseCode.SYSTEM_ERROR,
    `this connection holds ${max} producer and consumer registrations (clientRegistrationsPerConnectionMax=${max})`,
  );
}

function subscriptionsOf(raw: unknown): SubscriptionData[] {
  if (!Array.isArray(raw)) return [];
  const out: SubscriptionData[] = [];
  for (const s of raw as Array<Record<string, unknown>>) {
    if (typeof s !== 'object' || s === null || typeof s['topic'] !== 'string') continue;
    out.push({
      topic: s['topic'],
      subString: typeof s['subString'] === 'string' ? s['subString'] : '*',
      tagsSet: Array.isArray(s['tagsSet']) ? (s['tagsSet'] as unknown[]).map(String) : [],
      codeSet: Array.isArray(s['codeSet']) ? (s['codeSet'] as unknown[]).map(Number) : [],
      subVersion: Number(s['subVersion'] ?? 0),
      expressionType: typeof s['expressionType'] === 'string' ? s['expressionType'] : undefined,
      classFilterMode: s['classFilterMode'] === true,
    });
  }
  return out;
}

export function unregisterClient(ctx: BrokerContext, req: RemotingCommand) {
  const { clientID: clientId, producerGroup, consumerGroup } = decodeUnregisterClientHeader(req);
  if (producerGroup !== undefined && producerGroup !== '') ctx.clients.unregisterProducer(producerGroup, clientId);
  if (consumerGroup !== undefined && consumerGroup !== '') ctx.clients.unregisterConsumer(consumerGroup, clientId);
  return createResponse(req, ResponseCode.SUCCESS);
}

export function getConsumerListByGroup(ctx: BrokerContext, req: RemotingCommand) {
  const group = decodeConsumerGroupHeader(req).consumerGroup;
  const ids = ctx.clients.consumerIds(group);
  if (ids.length === 0) {
    return createResponse(
      req,
      ResponseCode.SYSTEM_ERROR,
      `no consumer of group ${group} has sent a heartbeat to this broker (clients heartbeat the brokers of their topics' routes)`,
    );
  }
  return createResponse(
    req,
    ResponseCode.SUCCESS,
    undefined,
    undefined,
    Buffer.from(JSON.stringify({ consumerIdList: ids })),
  );
}
