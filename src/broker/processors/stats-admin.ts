/**
 * GET_BROKER_RUNTIME_INFO (28, KVTable), GET_TOPIC_STATS_INFO (202), GET_CONSUME_STATS (208), GET_BROKER_CONFIG (26).
 * Java writes MessageQueue-keyed maps with object keys (not JSON); we write strict JSON whose keys are the
 * MessageQueue JSON text `{"topic":…,"brokerName":…,"queueId":…}`.
 */
import { retryTopicOf } from '../../common/validate.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optionalString, requireString } from '../../remoting/fields.js';
import type { BrokerContext } from '../context.js';

function json(req: RemotingCommand, value: unknown, extFields?: Record<string, string>): RemotingCommand {
  return createResponse(req, ResponseCode.SUCCESS, undefined, extFields, Buffer.from(JSON.stringify(value)));
}

function mqKey(topic: string, brokerName: string, queueId: number): string {
  return JSON.stringify({ topic, brokerName, queueId });
}

export const brokerVersionDesc = 'V4_9_4';
export const brokerVersion = 453;

export function getBrokerRuntimeInfo(ctx: BrokerContext, req: RemotingCommand) {
  const s = ctx.stats;
  const table: Record<string, string> = {
    brokerVersionDesc,
    brokerVersion: String(brokerVersion),
    bootTimestamp: String(ctx.startedAtMs),
    runtime: `${Math.floor((Date.now() - ctx.startedAtMs) / 1000)} s`,
    msgPutTotalTodayNow: String(s.putMessages),
    msgGetTotalTodayNow: String(s.getMessages),
    putBytesTotal: String(s.putBytes),
    getBytesTotal: String(s.getBytes),
    commitLogMinOffset: String(ctx.store.getMinPhyOffset()),
    commitLogMaxOffset: String(ctx.store.getMaxPhyOffset()),
    heldPullRequests: String(ctx.pullHolds.size()),
    pullRequestsTotal: String(s.pullRequests),
    rss: String(process.memoryUsage.rss()),
    pendingRedeliveries: String(ctx.sendBack.size()),
    topicCount: String(ctx.topics.all().length),
    consumerGroupCount: String(ctx.clients.consumers.size),
    brokerRole: ctx.config.brokerRole,
  };
  for (const [k, v] of Object.entries(ctx.store.stats())) table[k] = String(v);
  const readonly = ctx.store.readonlyReason();
  if (readonly !== undefined) table['storeReadonlyReason'] = readonly;
  return json(req, { table });
}

export function getTopicStatsInfo(ctx: BrokerContext, req: RemotingCommand) {
  const topic = requireString(req, 'topic');
  const tc = ctx.topics.get(topic);
  if (tc === undefined) {
    return createResponse(
      req,
      ResponseCode.TOPIC_NOT_EXIST,
      `topic[${topic}] not exist on broker ${ctx.config.brokerName}`,
    );
  }
  const offsetTable: Record<string, unknown> = {};
  for (let q = 0; q < tc.writeQueueNums; q++) {
    offsetTable[mqKey(topic, ctx.config.brokerName, q)] = {
      minOffset: Number(ctx.store.getMinOffsetInQueue(topic, q)),
      maxOffset: Number(ctx.store.getMaxOffsetInQueue(topic, q)),
      lastUpdateTimestamp: 0,
    };
  }
  return json(req, { offsetTable });
}

export function getConsumeStats(ctx: BrokerContext, req: RemotingCommand) {
  const group = requireString(req, 'consumerGroup');
  const only = optionalString(req, 'topic');
  const topics = new Set(only !== undefined && only !== '' ? [only] : ctx.offsets.topicsOf(group));
  for (const t of ctx.clients.consumers.get(group)?.subscriptions.keys() ?? []) if (!only) topics.add(t);
  if (!only) topics.add(retryTopicOf(group));
  const offsetTable: Record<string, unknown> = {};
  for (const topic of topics) {
    const tc = ctx.topics.get(topic);
    if (tc === undefined) continue;
    const committed = ctx.offsets.queueOffsets(group, topic);
    for (let q = 0; q < tc.readQueueNums; q++) {
      offsetTable[mqKey(topic, ctx.config.brokerName, q)] = {
        brokerOffset: Number(ctx.store.getMaxOffsetInQueue(topic, q)),
        consumerOffset: Number(committed.get(q) ?? 0n),
        lastTimestamp: 0,
      };
    }
  }
  if (Object.keys(offsetTable).length === 0 && ctx.groups.get(group) === undefined) {
    return createResponse(
      req,
      ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
      `consumer group [${group}] has no offsets on this broker`,
    );
  }
  return json(req, { offsetTable, consumeTps: 0 });
}

export function getBrokerConfig(ctx: BrokerContext, req: RemotingCommand) {
  const text = Object.entries(ctx.config)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n');
  const version = JSON.stringify(ctx.topics.dataVersion());
  return createResponse(req, ResponseCode.SUCCESS, undefined, { version }, Buffer.from(`${text}\n`));
}
