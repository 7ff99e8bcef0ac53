/**
 * UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200), GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201), DELETE_SUBSCRIPTIONGROUP (207),
 * GET_CONSUMER_CONNECTION_LIST (203), GET_ALL_CONSUMER_OFFSET (43).
 */
import { parseTolerantJson } from '../../common/json.js';
import { checkGroupName } from '../../common/validate.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { decodeConsumerGroupHeader } from '../../remoting/protocol/clients.js';
import { decodeDeleteSubscriptionGroupHeader } from '../../remoting/protocol/group-admin.js';
import type { BrokerContext } from '../context.js';
import { type SubscriptionGroupConfig, subscriptionGroupOf } from '../metadata/subscription-groups.js';

function json(req: RemotingCommand, value: unknown): RemotingCommand {
  return createResponse(req, ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify(value)));
}

export function updateAndCreateSubscriptionGroup(ctx: BrokerContext, req: RemotingCommand) {
  let raw: Partial<SubscriptionGroupConfig>;
  try {
    raw = parseTolerantJson((req.body ?? Buffer.alloc(0)).toString('utf8')) as Partial<SubscriptionGroupConfig>;
  } catch (err) {
    return createResponse(
      req,
      ResponseCode.INVALID_PARAMETER,
      `subscription group body is not JSON: ${(err as Error).message}`,
    );
  }
  const name = typeof raw?.groupName === 'string' ? raw.groupName : '';
  const bad = checkGroupName(name);
  if (bad !== undefined) return createResponse(req, ResponseCode.INVALID_PARAMETER, bad);
  const g = subscriptionGroupOf(name, raw);
  if (!Number.isInteger(g.retryQueueNums) || g.retryQueueNums < 0 || g.retryMaxTimes < 0) {
    return createResponse(
      req,
      ResponseCode.INVALID_PARAMETER,
      'retryQueueNums and retryMaxTimes must be non-negative integers',
    );
  }
  ctx.groups.upsert(g);
  return createResponse(req, ResponseCode.SUCCESS);
}

export function getAllSubscriptionGroupConfig(ctx: BrokerContext, req: RemotingCommand) {
  return json(req, ctx.groups.toJSON());
}

export function deleteSubscriptionGroup(ctx: BrokerContext, req: RemotingCommand) {
  const { groupName: name, cleanOffset } = decodeDeleteSubscriptionGroupHeader(req);
  if (!ctx.groups.delete(name)) {
    return createResponse(
      req,
      ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
      `subscription group [${name}] does not exist`,
    );
  }
  if (cleanOffset) ctx.offsets.removeGroup(name);
  return createResponse(req, ResponseCode.SUCCESS);
}

export function getConsumerConnectionList(ctx: BrokerContext, req: RemotingCommand) {
  const group = decodeConsumerGroupHeader(req).consumerGroup;
  const info = ctx.clients.consumers.get(group);
  if (info === undefined || info.clients.size === 0) {
    return createResponse(req, ResponseCode.CONSUMER_NOT_ONLINE, `the consumer group [${group}] is not online`);
  }
  return json(req, {
    connectionSet: [...info.clients.values()].map((c) => ({
      clientId: c.clientId,
      clientAddr: c.conn.remoteAddress,
      language: c.language,
      version: c.version,
    })),
    subscriptionTable: Object.fromEntries(info.subscriptions),
    consumeType: info.consumeType,
    messageModel: info.messageModel,
    consumeFromWhere: info.consumeFromWhere,
  });
}

export function getAllConsumerOffset(ctx: BrokerContext, req: RemotingCommand) {
  return json(req, ctx.offsets.toJSON());
}
