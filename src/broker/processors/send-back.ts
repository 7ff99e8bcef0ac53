/**
 * CONSUMER_SEND_MSG_BACK (36): a consumer failed a message; copy it into %RETRY%<group> (reconsumeTimes + 1,
 * RETRY_TOPIC, ORIGIN_MESSAGE_ID) for redelivery, or into %DLQ%<group> past maxReconsumeTimes.
 */
import { encodeProperties, Prop } from '../../common/properties.js';
import { decodeRecord } from '../../common/record.js';
import { dlqTopicOf, retryTopicOf } from '../../common/validate.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optionalInt, requireLong, requireString } from '../../remoting/fields.js';
import type { MessageInput } from '../../store/types.js';
import type { BrokerContext } from '../context.js';
import { isWriteable, Perm } from '../perm.js';
import { answerOfPutStatus } from '../put-status.js';
import { tagsCodeOf } from '../tag-filter.js';

export async function consumerSendMsgBack(ctx: BrokerContext, req: RemotingCommand) {
  const offset = requireLong(req, 'offset');
  const groupName = requireString(req, 'group');
  const delayLevel = optionalInt(req, 'delayLevel') ?? 0;
  const group = ctx.groups.findOrCreate(groupName);
  if (group === undefined) {
    return createResponse(
      req,
      ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
      `subscription group [${groupName}] does not exist`,
    );
  }
  if (!isWriteable(ctx.config.brokerPermission)) {
    return createResponse(
      req,
      ResponseCode.NO_PERMISSION,
      `the broker[${ctx.config.brokerName}] sending message is forbidden`,
    );
  }
  if (group.retryQueueNums <= 0) return createResponse(req, ResponseCode.SUCCESS);
  const maxReconsumeTimes = optionalInt(req, 'maxReconsumeTimes') ?? group.retryMaxTimes;

  const record = offset < 0n ? undefined : await ctx.store.lookMessageByOffset(offset);
  if (record === undefined) {
    return createResponse(req, ResponseCode.SYSTEM_ERROR, `look message by offset ${offset} failed: no such message`);
  }
  const { msg } = decodeRecord(record);
  const props = new Map(msg.properties);
  if (!props.has(Prop.retryTopic)) props.set(Prop.retryTopic, msg.topic);
  // As RocketMQ: the stored record's id, not the header's originMsgId (the Java client sends its UNIQ_KEY there).
  props.set(Prop.originMessageId, props.get(Prop.originMessageId) || msg.offsetMsgId);
  props.delete(Prop.delayLevel);
  const reconsumeTimes = msg.reconsumeTimes + 1;
  const toDlq = msg.reconsumeTimes >= maxReconsumeTimes || delayLevel < 0;
  const topic = toDlq ? dlqTopicOf(groupName) : retryTopicOf(groupName);
  const queueNums = toDlq ? 1 : Math.max(1, group.retryQueueNums);
  ctx.topics.ensureTopic(topic, queueNums, Perm.read | Perm.write);
  const input: MessageInput = {
    topic,
    queueId: Math.floor(Math.random() * queueNums),
    flag: msg.flag,
    body: msg.body,
    properties: encodeProperties(props),
    sysFlag: msg.sysFlag,
    bornTimestamp: msg.bornTimestamp,
    bornHost: msg.bornHost,
    reconsumeTimes,
    preparedTransactionOffset: 0n,
    tagsCode: tagsCodeOf(props.get(Prop.tags)),
    keys: props
      .get(Prop.keys)
      ?.split(' ')
      .filter((k) => k !== ''),
    uniqKey: props.get(Prop.uniqKey),
  };
  if (!toDlq && ctx.config.sendBackDelayMs > 0) {
    if (!ctx.sendBack.schedule(input)) {
      return createResponse(req, ResponseCode.SYSTEM_BUSY, 'too many messages waiting for redelivery, try later');
    }
    return createResponse(req, ResponseCode.SUCCESS);
  }
  const r = await ctx.store.putMessage(input);
  const answer = answerOfPutStatus(r.status, r.remark);
  return createResponse(req, answer.stored ? ResponseCode.SUCCESS : answer.code, answer.remark);
}
