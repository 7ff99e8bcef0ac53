/** UPDATE_AND_CREATE_TOPIC (17), DELETE_TOPIC_IN_BROKER (215), GET_ALL_TOPIC_CONFIG (21). */
import { applyAttributeChanges, parseAttributeChanges } from '../../common/topic-attributes.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import {
  decodeCreateTopicHeader,
  decodeTopicHeader,
  topicFilterTypeDefault,
  topicPermDefault,
} from '../../remoting/protocol/topic-admin.js';
import type { BrokerContext } from '../context.js';
import { checkTopicConfig, type TopicConfig } from '../metadata/topic-config.js';

export async function updateAndCreateTopic(ctx: BrokerContext, req: RemotingCommand): Promise<RemotingCommand> {
  const h = decodeCreateTopicHeader(req);
  const topic = h.topic;
  const c = ctx.config;
  if (topic === c.brokerClusterName || topic === c.brokerName) {
    return createResponse(req, ResponseCode.SYSTEM_ERROR, `the topic[${topic}] is conflict with system reserved words`);
  }
  const queues = c.defaultTopicQueueNums;
  // Attributes not named in the request keep their value (RocketMQ 5); a 4.x admin sends none.
  const changes = parseAttributeChanges(h.attributes ?? '');
  if (typeof changes === 'string') return createResponse(req, ResponseCode.INVALID_PARAMETER, changes);
  const attributes = applyAttributeChanges(ctx.topics.get(topic)?.attributes, changes);
  const tc: TopicConfig = {
    topicName: topic,
    readQueueNums: h.readQueueNums ?? queues,
    writeQueueNums: h.writeQueueNums ?? queues,
    perm: h.perm ?? topicPermDefault,
    topicFilterType: h.topicFilterType ?? topicFilterTypeDefault,
    topicSysFlag: h.topicSysFlag ?? 0,
    order: h.order ?? false,
  };
  if (attributes !== undefined) tc.attributes = attributes;
  const bad = checkTopicConfig(tc);
  if (bad !== undefined) return createResponse(req, ResponseCode.INVALID_PARAMETER, bad);
  ctx.topics.upsert(tc);
  // Answered once topics.json holds the change (RocketMQ persists before answering too): a crash right after the
  // answer lost the topic, and with it the route to every message then stored in it.
  try {
    await ctx.topics.persist();
  } catch (err) {
    return createResponse(
      req,
      ResponseCode.SYSTEM_ERROR,
      `topic ${topic} changed, but not yet written to disk (the write is retried): ${(err as Error).message}`,
    );
  }
  return createResponse(req, ResponseCode.SUCCESS);
}

export function deleteTopicInBroker(ctx: BrokerContext, req: RemotingCommand) {
  const { topic } = decodeTopicHeader(req);
  if (ctx.topics.get(topic) === undefined) {
    return createResponse(
      req,
      ResponseCode.TOPIC_NOT_EXIST,
      `topic[${topic}] not exist on broker ${ctx.config.brokerName}`,
    );
  }
  ctx.topics.delete(topic);
  ctx.store.deleteTopics([topic]);
  ctx.offsets.removeTopic(topic);
  return createResponse(req, ResponseCode.SUCCESS);
}

export function getAllTopicConfig(ctx: BrokerContext, req: RemotingCommand) {
  return createResponse(
    req,
    ResponseCode.SUCCESS,
    undefined,
    undefined,
    Buffer.from(JSON.stringify(ctx.topics.toJSON())),
  );
}
