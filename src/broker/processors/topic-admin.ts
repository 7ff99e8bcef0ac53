/** UPDATE_AND_CREATE_TOPIC (17), DELETE_TOPIC_IN_BROKER (215), GET_ALL_TOPIC_CONFIG (21). */
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optionalBool, optionalInt, optionalString, requireString } from '../../remoting/fields.js';
import type { BrokerContext } from '../context.js';
import { checkTopicConfig, type TopicConfig } from '../topic-config.js';

export function updateAndCreateTopic(ctx: BrokerContext, req: RemotingCommand) {
  const topic = requireString(req, 'topic');
  const c = ctx.config;
  if (topic === c.brokerClusterName || topic === c.brokerName) {
    return createResponse(req, ResponseCode.SYSTEM_ERROR, `the topic[${topic}] is conflict with system reserved words`);
  }
  const queues = c.defaultTopicQueueNums;
  const tc: TopicConfig = {
    topicName: topic,
    readQueueNums: optionalInt(req, 'readQueueNums') ?? queues,
    writeQueueNums: optionalInt(req, 'writeQueueNums') ?? queues,
    perm: optionalInt(req, 'perm') ?? 6,
    topicFilterType: optionalString(req, 'topicFilterType') ?? 'SINGLE_TAG',
    topicSysFlag: optionalInt(req, 'topicSysFlag') ?? 0,
    order: optionalBool(req, 'order') ?? false,
  };
  const bad = checkTopicConfig(tc);
  if (bad !== undefined) return createResponse(req, ResponseCode.INVALID_PARAMETER, bad);
  ctx.topics.upsert(tc);
  return createResponse(req, ResponseCode.SUCCESS);
}

export function deleteTopicInBroker(ctx: BrokerContext, req: RemotingCommand) {
  const topic = requireString(req, 'topic');
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
