/**
 * GET_BROKER_RUNTIME_INFO (28, KVTable), GET_TOPIC_STATS_INFO (202), GET_CONSUME_STATS (208), GET_BROKER_CONFIG (26).
 * Java writes MessageQueue-keyed maps with object keys (not JSON); we write strict JSON whose keys are the
 * MessageQueue JSON text `{"topic":…,"brokerName":…,"queueId":…}`.
 * Every figure is measured or read from the store; one we cannot know is left out, never made up.
 */
import { RecordPos } from '../../common/record.js';
import { retryTopicOf } from '../../common/topics.js';
import { packageVersion, rocketmqVersionDesc } from '../../common/version.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, ourVersion, type RemotingCommand } from '../../remoting/command.js';
import { decodeConsumeStatsHeader } from '../../remoting/protocol/stats.js';
import { decodeTopicHeader } from '../../remoting/protocol/topic-admin.js';
import type { BrokerContext } from '../context.js';

function json(req: RemotingCommand, value: unknown, extFields?: Record<string, string>): RemotingCommand {
  return createResponse(req, ResponseCode.SUCCESS, undefined, extFields, Buffer.from(JSON.stringify(value)));
}

function mqKey(topic: string, brokerName: string, queueId: number): string {
  return JSON.stringify({ topic, brokerName, queueId });
}

/** brokerVersionDesc: tsrocket's own version in RocketMQ's `V<major>_<minor>_<patch>` form. */
export const brokerVersionDesc = packageVersion === undefined ? undefined : rocketmqVersionDesc(packageVersion);

/**
 * Store time (ms) of the message at `offset` of a queue (RocketMQ's getMessageStoreTimeStamp), undefined when
 * it is not there. Admin path only: it reads the record.
 */
async function storeTimestampAt(
  ctx: BrokerContext,
  topic: string,
  queueId: number,
  offset: bigint,
): Promise<number | undefined> {
  const r = await ctx.store.getMessage(topic, queueId, offset, 1, 1);
  try {
    const first = (r.bodyParts ?? r.records)[0];
    if (first === undefined || r.queueOffsets[0] !== offset) return undefined;
    return Number(first.readBigInt64BE(RecordPos.storeTimestamp));
  } finally {
    r.release?.();
  }
}

export function getBrokerRuntimeInfo(ctx: BrokerContext, req: RemotingCommand) {
  const s = ctx.stats;
  const table: Record<string, string> = {
    // The RocketMQ protocol version this broker speaks (RemotingCommand.version), as RocketMQ's brokerVersion.
    brokerVersion: String(ourVersion),
    bootTimestamp: String(ctx.startedAtMs),
    runtime: `${Math.floor((Date.now() - ctx.startedAtMs) / 1000)} s`,
    msgPutTotalTodayNow: String(s.putMessages),
    msgGetTotalTodayNow: String(s.getMessages),
    putTps: s.putTps(),
    getTransferedTps: s.getTransferedTps(),
    putBytesTotal: String(s.putBytes),
    getBytesTotal: String(s.getBytes),
    commitLogMinOffset: String(ctx.store.getMinPhyOffset()),
    commitLogMaxOffset: String(ctx.store.getMaxPhyOffset()),
    heldPullRequests: String(ctx.pullHolds.size()),
    pullRequestsTotal: String(s.pullRequests),
    rss: String(process.memoryUsage.rss()),
    topicCount: String(ctx.topics.all().length),
    consumerGroupCount: String(ctx.clients.consumers.size),
    brokerRole: ctx.config.brokerRole,
  };
  if (brokerVersionDesc !== undefined) table['brokerVersionDesc'] = brokerVersionDesc;
  for (const [k, v] of Object.entries(ctx.store.stats())) table[k] = String(v);
  for (const [k, v] of Object.entries(ctx.connectionStats())) table[k] = String(v);
  for (const [k, v] of Object.entries(ctx.delay.runtimeInfo())) table[k] = v;
  for (const [k, v] of Object.entries(ctx.dedup.stats())) table[k] = String(v);
  for (const [k, v] of Object.entries(ctx.pop.stats?.() ?? {})) table[k] = String(v);
  const readonly = ctx.store.readonlyReason();
  if (readonly !== undefined) table['storeReadonlyReason'] = readonly;
  return json(req, { table });
}

export async function getTopicStatsInfo(ctx: BrokerContext, req: RemotingCommand) {
  const { topic } = decodeTopicHeader(req);
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
    const max = ctx.store.getMaxOffsetInQueue(topic, q);
    // The store time of the queue's last message; 0 only for an empty queue (as RocketMQ).
    const last = max > 0n ? await storeTimestampAt(ctx, topic, q, max - 1n) : 0;
    offsetTable[mqKey(topic, ctx.config.brokerName, q)] = {
      minOffset: Number(ctx.store.getMinOffsetInQueue(topic, q)),
      maxOffset: Number(max),
      ...(last === undefined ? {} : { lastUpdateTimestamp: last }),
    };
  }
  return json(req, { offsetTable, topicPutTps: ctx.stats.topicPutTps(topic) });
}

export async function getConsumeStats(ctx: BrokerContext, req: RemotingCommand) {
  const { consumerGroup: group, topic: only } = decodeConsumeStatsHeader(req);
  const topics = new Set(only !== undefined && only !== '' ? [only] : ctx.offsets.topicsOf(group));
  for (const t of ctx.clients.consumers.get(group)?.subscriptions.keys() ?? []) if (!only) topics.add(t);
  if (!only) topics.add(retryTopicOf(group));
  const offsetTable: Record<string, unknown> = {};
  let consumeTps = 0;
  for (const topic of topics) {
    const tc = ctx.topics.get(topic);
    if (tc === undefined) continue;
    const committed = ctx.offsets.queueOffsets(group, topic);
    for (let q = 0; q < tc.readQueueNums; q++) {
      const consumerOffset = committed.get(q) ?? 0n;
      // Store time of the last consumed message (RocketMQ's lastTimestamp); left out when there is none.
      const last = consumerOffset > 0n ? await storeTimestampAt(ctx, topic, q, consumerOffset - 1n) : undefined;
      offsetTable[mqKey(topic, ctx.config.brokerName, q)] = {
        brokerOffset: Number(ctx.store.getMaxOffsetInQueue(topic, q)),
        consumerOffset: Number(consumerOffset),
        ...(last === undefined ? {} : { lastTimestamp: last }),
      };
    }
    consumeTps += ctx.stats.groupGetTps(group, topic);
  }
  if (Object.keys(offsetTable).length === 0 && ctx.groups.get(group) === undefined) {
    return createResponse(
      req,
      ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
      `consumer group [${group}] has no offsets on this broker`,
    );
  }
  return json(req, { offsetTable, consumeTps });
}

/**
 * The broker's configuration as `key=value` lines. No `version` field: the configuration cannot change while
 * the broker runs (no UPDATE_BROKER_CONFIG yet), so it has no data version to report.
 */
export function getBrokerConfig(ctx: BrokerContext, req: RemotingCommand) {
  const text = Object.entries(ctx.config)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n');
  return createResponse(req, ResponseCode.SUCCESS, undefined, undefined, Buffer.from(`${text}\n`));
}
