/**
 * HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38), CHECK_CLIENT_CONFIG (46).
 * Heartbeat body (HeartbeatData): {clientID, producerDataSet:[{groupName}], consumerDataSet:[{groupName,
 * consumeType, messageModel, consumeFromWhere, subscriptionDataSet:[SubscriptionData], unitMode}]}.
 * 46 body (CheckClientRequestBody): {clientId, group, subscriptionData: SubscriptionData}.
 */
import { parseTolerantJson } from '../../common/json.js';
import { createLogger } from '../../common/log.js';
import { retryTopicOf } from '../../common/topics.js';
import { checkGroupName } from '../../common/validate.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { decodeConsumerGroupHeader, decodeUnregisterClientHeader } from '../../remoting/protocol/clients.js';
import type { RemotingConnection } from '../../remoting/server.js';
import { type ClientChannel, Registered, type SubscriptionData } from '../clients/client-manager.js';
import type { BrokerContext } from '../context.js';
import { ExpressionType, filterTypeUnknown, filterTypeUnsupported, isTagType } from '../filter/expression-type.js';
import { compiledSql92 } from '../filter/sql92-filter.js';
import { Perm } from '../metadata/perm.js';

const log = createLogger('broker.clients');

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
  const consumers = Array.isArray(data.consumerDataSet) ? (data.consumerDataSet as unknown[]) : [];
  const producers = Array.isArray(data.producerDataSet) ? (data.producerDataSet as unknown[]) : [];
  const notObject = notAnObject('consumerDataSet', consumers) ?? notAnObject('producerDataSet', producers);
  if (notObject !== undefined) return createResponse(req, ResponseCode.SYSTEM_ERROR, notObject);
  for (const cd of consumers as ConsumerDataJson[]) {
    const groupName = textOf(cd.groupName) ?? '';
    const bad = checkGroupName(groupName);
    if (bad !== undefined) return createResponse(req, ResponseCode.INVALID_PARAMETER, bad);
    const group = ctx.groups.findOrCreate(groupName);
    if (group === undefined) {
      return createResponse(req, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, ctx.groups.missingRemark(groupName));
    }
    const messageModel = textOf(cd.messageModel) ?? 'CLUSTERING';
    if (messageModel === 'CLUSTERING') {
      ctx.topics.ensureTopic(retryTopicOf(groupName), Math.max(1, group.retryQueueNums), Perm.read | Perm.write);
    }
    const subscriptions = subscriptionsOf(cd.subscriptionDataSet);
    for (const sub of subscriptions) {
      if (isTagType(sub.expressionType)) continue;
      // Compiled now, when it arrives, never at pull time. As RocketMQ, the heartbeat succeeds either way (the
      // group's membership holds); a bad expression's pulls are answered FILTER_DATA_NOT_EXIST naming the error,
      // and clients learn of it before that through CHECK_CLIENT_CONFIG (46). Logged once per subscription.
      const problem = subscriptionProblem(ctx, sub.expressionType as string, sub.subString);
      const prev = ctx.clients.subscription(groupName, sub.topic);
      const changed =
        prev === undefined || prev.expressionType !== sub.expressionType || prev.subString !== sub.subString;
      if (problem !== undefined && changed) {
        log.warn('a consumer subscribes with a filter this broker does not serve; its pulls are refused', {
          group: groupName,
          topic: sub.topic,
          expressionType: sub.expressionType,
          expression: sub.subString,
          clientId: data.clientID,
          problem: problem.remark,
        });
      }
    }
    const done = ctx.clients.registerConsumer(
      {
        groupName,
        consumeType: textOf(cd.consumeType) ?? 'CONSUME_PASSIVELY',
        messageModel,
        consumeFromWhere: textOf(cd.consumeFromWhere) ?? 'CONSUME_FROM_LAST_OFFSET',
        subscriptions,
      },
      { ...channel },
    );
    if (done === Registered.overLimit) return overLimit(ctx, req);
    if (ctx.config.enablePropertyFilter) ctx.consumerFilters.registerAll(groupName, subscriptions);
  }
  for (const pd of producers as Array<{ groupName?: unknown }>) {
    const groupName = textOf(pd.groupName) ?? '';
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

/** A JSON scalar as the text Java would read; objects and arrays (which Java would not take as a String) are none. */
function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

function isDefined<T>(v: T | undefined): v is T {
  return v !== undefined;
}

function notAnObject(name: string, entries: readonly unknown[]): string | undefined {
  const i = entries.findIndex((e) => typeof e !== 'object' || e === null || Array.isArray(e));
  return i < 0 ? undefined : `heartbeat body: ${name}[${i}] is not an object`;
}

function subscriptionsOf(raw: unknown): SubscriptionData[] {
  if (!Array.isArray(raw)) return [];
  const out: SubscriptionData[] = [];
  for (const s of raw as Array<Record<string, unknown>>) {
    if (typeof s !== 'object' || s === null || typeof s['topic'] !== 'string') continue;
    out.push({
      topic: s['topic'],
      subString: typeof s['subString'] === 'string' ? s['subString'] : '*',
      tagsSet: Array.isArray(s['tagsSet']) ? (s['tagsSet'] as unknown[]).map(textOf).filter(isDefined) : [],
      codeSet: Array.isArray(s['codeSet']) ? (s['codeSet'] as unknown[]).map(Number).filter(Number.isFinite) : [],
      subVersion: Number(s['subVersion'] ?? 0),
      expressionType: typeof s['expressionType'] === 'string' ? s['expressionType'] : undefined,
      classFilterMode: s['classFilterMode'] === true,
    });
  }
  return out;
}

/**
 * CHECK_CLIENT_CONFIG (46): the Java client asks it for each non-TAG subscription before its consumer starts.
 * TAG (or no subscription) → SUCCESS; SQL92 with enablePropertyFilter on → compiled: SUCCESS, or
 * SUBSCRIPTION_PARSE_FAILED naming the position; off → SYSTEM_ERROR with RocketMQ's remark, so the consumer fails
 * to start instead of being served unfiltered.
 */
export function checkClientConfig(ctx: BrokerContext, req: RemotingCommand) {
  let body: unknown;
  try {
    body = req.body === undefined || req.body.length === 0 ? null : parseTolerantJson(req.body.toString('utf8'));
  } catch (err) {
    return createResponse(
      req,
      ResponseCode.SYSTEM_ERROR,
      `check client config body is not JSON: ${(err as Error).message}`,
    );
  }
  const sub = (body as { subscriptionData?: unknown } | null)?.subscriptionData;
  if (typeof sub !== 'object' || sub === null) return createResponse(req, ResponseCode.SUCCESS);
  const type = (sub as { expressionType?: unknown }).expressionType ?? undefined;
  if (type !== undefined && typeof type !== 'string') {
    return createResponse(req, ResponseCode.SYSTEM_ERROR, 'subscriptionData.expressionType is not a string');
  }
  if (isTagType(type)) return createResponse(req, ResponseCode.SUCCESS);
  const expression = (sub as { subString?: unknown }).subString;
  const problem = subscriptionProblem(ctx, type as string, typeof expression === 'string' ? expression : '');
  if (problem !== undefined) return createResponse(req, problem.code, problem.remark);
  return createResponse(req, ResponseCode.SUCCESS);
}

/** Why a non-TAG subscription cannot be served: property filter off, unknown type, or an expression that fails. */
function subscriptionProblem(
  ctx: BrokerContext,
  type: string,
  expression: string,
): { code: number; remark: string } | undefined {
  if (!ctx.config.enablePropertyFilter) return { code: ResponseCode.SYSTEM_ERROR, remark: filterTypeUnsupported(type) };
  if (type !== ExpressionType.sql92)
    return { code: ResponseCode.SUBSCRIPTION_PARSE_FAILED, remark: filterTypeUnknown(type) };
  const c = compiledSql92(expression);
  return c.ok ? undefined : { code: ResponseCode.SUBSCRIPTION_PARSE_FAILED, remark: c.error.message };
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
