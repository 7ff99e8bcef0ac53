/**
 * SEND_REPLY_MESSAGE (324) / SEND_REPLY_MESSAGE_V2 (325): a responder's reply to a request. The broker finds the
 * requester's connection by the REPLY_TO_CLIENT property among its producers and pushes the reply there with
 * PUSH_REPLY_MESSAGE_TO_CLIENT (326), adding PUSH_REPLY_TIME; with storeReplyMessageEnable it also stores it
 * (RocketMQ's ReplyMessageProcessor). The answer is the push's: SYSTEM_ERROR naming the requester when it could
 * not be reached, else SUCCESS with the stored message's id and offsets (msgId "0" when not stored).
 */
import { decodeProperties, encodedProperty, Prop, propertySeparator } from '../../common/properties.js';
import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { createRequest, createResponse, type RemotingCommand } from '../../remoting/command.js';
import { encodeReplyMessageHeader } from '../../remoting/protocol/reply.js';
import {
  decodeSendHeader,
  decodeSendHeaderV2,
  encodeSendResponseHeader,
  type SendMessageRequestHeader as SendHeader,
} from '../../remoting/protocol/send.js';
import type { RemotingConnection } from '../../remoting/server.js';
import type { BrokerContext } from '../context.js';
import { ipv4HostOf } from '../host.js';
import { isWriteable } from '../metadata/perm.js';
import { answerOfPutStatus } from '../put/put-status.js';
import { PutRefusal } from '../put/types.js';
import { checkSizes, inputOf } from './send.js';

/** How long the requester may take to take a pushed reply (RocketMQ waits on it the same way). */
export const replyPushTimeoutMs = 3000;

export function sendReplyMessage(ctx: BrokerContext, req: RemotingCommand, conn: RemotingConnection) {
  return reply(ctx, req, conn, decodeSendHeader(req));
}

export function sendReplyMessageV2(ctx: BrokerContext, req: RemotingCommand, conn: RemotingConnection) {
  return reply(ctx, req, conn, decodeSendHeaderV2(req));
}

async function reply(
  ctx: BrokerContext,
  req: RemotingCommand,
  conn: RemotingConnection,
  h: SendHeader,
): Promise<RemotingCommand> {
  const fail = (code: number, remark: string) => createResponse(req, code, remark);
  const tc = ctx.topics.get(h.topic);
  if (tc === undefined) return fail(ResponseCode.TOPIC_NOT_EXIST, ctx.topics.missingRemark(h.topic));
  if (!isWriteable(ctx.config.brokerPermission) || !isWriteable(tc.perm)) {
    return fail(ResponseCode.NO_PERMISSION, `the topic[${h.topic}] sending message is forbidden`);
  }
  const queueNums = tc.writeQueueNums;
  if (h.queueId >= queueNums) {
    return fail(
      ResponseCode.SYSTEM_ERROR,
      `queueId[${h.queueId}] is illegal, topic ${h.topic} has ${queueNums} queues`,
    );
  }
  const queueId = h.queueId < 0 ? Math.floor(Math.random() * queueNums) : h.queueId;
  const body = req.body ?? Buffer.alloc(0);
  const tooBig = checkSizes(ctx, body.length, h.properties);
  if (tooBig !== undefined) return fail(ResponseCode.MESSAGE_ILLEGAL, tooBig);

  const pushed = await push(ctx, conn, h, queueId, body);
  const resp =
    pushed === undefined ? createResponse(req, ResponseCode.SUCCESS) : fail(ResponseCode.SYSTEM_ERROR, pushed);
  let answer = { msgId: '0', queueOffset: 0n };
  if (ctx.config.storeReplyMessageEnable) {
    const msg = inputOf(h.topic, queueId, h.flag, body, h.properties, h, ipv4HostOf(conn.remoteAddress));
    const put = ctx.put.put(msg, h);
    if (!(put instanceof PutRefusal)) {
      const result = await put;
      if (answerOfPutStatus(result.status, result.remark).stored) {
        ctx.stats.recordPut(msg.topic, result.msgNum, result.wroteBytes);
        answer = { msgId: result.offsetMsgIdsText, queueOffset: result.queueOffset };
      }
    }
  }
  if (resp.code === ResponseCode.SUCCESS) {
    resp.extFields = encodeSendResponseHeader({
      ...answer,
      queueId,
      msgRegion: ctx.config.regionId,
      traceOn: ctx.config.traceOn,
    });
  }
  return resp;
}

/** Pushes the reply to its requester; undefined when it took it, else why not. */
async function push(
  ctx: BrokerContext,
  conn: RemotingConnection,
  h: SendHeader,
  queueId: number,
  body: Buffer,
): Promise<string | undefined> {
  const requester = decodeProperties(h.properties).get(Prop.replyToClient);
  if (requester === undefined) return `reply message properties[${Prop.replyToClient}] is null`;
  const channel = ctx.clients.findProducerChannel(requester);
  if (channel === undefined) return `push reply message fail, channel of <${requester}> not found`;
  const fields = encodeReplyMessageHeader({
    producerGroup: h.producerGroup,
    topic: h.topic,
    defaultTopic: h.defaultTopic,
    defaultTopicQueueNums: h.defaultTopicQueueNums,
    queueId,
    sysFlag: h.sysFlag,
    bornTimestamp: h.bornTimestamp,
    flag: h.flag,
    properties: withSeparator(h.properties) + encodedProperty(Prop.pushReplyTime, String(Date.now())),
    reconsumeTimes: h.reconsumeTimes,
    unitMode: h.unitMode,
    bornHost: ipv4HostOf(conn.remoteAddress),
    storeHost: ctx.brokerAddr(),
    storeTimestamp: BigInt(Date.now()),
  });
  try {
    const resp = await channel.conn.invoke(
      createRequest(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, fields, body),
      replyPushTimeoutMs,
    );
    if (resp.code === ResponseCode.SUCCESS) return undefined;
    return `push reply message to ${requester} fail: ${resp.remark ?? resp.code}`;
  } catch (err) {
    return `push reply message to ${requester} fail: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** The properties string ready for one more property (a final separator may be missing on the wire). */
function withSeparator(properties: string): string {
  return properties === '' || properties.endsWith(propertySeparator) ? properties : properties + propertySeparator;
}
