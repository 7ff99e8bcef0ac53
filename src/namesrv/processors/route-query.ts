/**
 * GET_ROUTEINFO_BY_TOPIC (105). Header: topic, [acceptStandardJsonOnly]. Body: TopicRouteData as strict JSON
 * (brokerAddrs keys quoted) for every client version — ali-ons parses it with a strict parser.
 * Unknown topic → TOPIC_NOT_EXIST (17) with a remark naming the topic.
 */

import { encodeJsonBody } from '../../common/route-data.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { decodeTopicHeader } from '../../remoting/protocol/topic-admin.js';
import { orderTopicConfigNamespace } from '../kv-config-manager.js';
import type { NamesrvContext } from './context.js';

export function getRouteInfoByTopic(ctx: NamesrvContext, req: RemotingCommand) {
  const { topic } = decodeTopicHeader(req);
  const route = ctx.routes.pickupTopicRouteData(topic);
  if (route === undefined) {
    return createResponse(
      req,
      ResponseCode.TOPIC_NOT_EXIST,
      `No topic route info in name server for the topic: ${topic}`,
    );
  }
  if (ctx.config.orderMessageEnable) {
    const conf = ctx.kv.get(orderTopicConfigNamespace, topic);
    if (conf !== undefined) route.orderTopicConf = conf;
  }
  return createResponse(req, ResponseCode.SUCCESS, undefined, undefined, encodeJsonBody(route));
}
