/**
 * An apache.rocketmq.v2 Message as the broker stores it (RocketMQ's SendMessageActivity.buildMessage): user
 * properties as they are (none may take a system name), tag → TAGS, keys → KEYS, message_id → UNIQ_KEY,
 * message_group → __SHARDINGKEY, delivery_timestamp → TIMER_DELIVER_MS (the timer hook takes it from there),
 * TRANSACTION → TRAN_MSG + the PREPARED flag (the half-message hook takes it from there) with the topic as PGROUP,
 * as RocketMQ's proxy does; a GZIP body is stored zlib-compressed with COMPRESSED, what 4.x clients inflate.
 * The properties string is built by concatenation: no Map, no JSON on the send path.
 */
import { deflateSync, gunzipSync } from 'node:zlib';
import type { PutMessage } from '../../broker/put/types.js';
import { tagsCodeOf } from '../../common/hash.js';
import { SysFlag } from '../../common/message.js';
import { encodedProperty, keySeparator, Prop } from '../../common/properties.js';
import { checkMessageGroup, controlCharacter } from '../../common/validate.js';
import { Code, type Message, MessageType, type Status, status, timestampMsOf } from '../proto.js';

/** User properties one message may carry (RocketMQ proxy's userPropertyMaxNum). */
export const userPropertiesMax = 128;

const systemNames: ReadonlySet<string> = new Set(Object.values(Prop));

/** The message's type: as declared, else as its fields make it (the client always declares it). */
export function messageTypeOfV2(msg: Message): MessageType {
  const sp = msg.systemProperties;
  if (sp != null && sp.messageType !== 'MESSAGE_TYPE_UNSPECIFIED') return sp.messageType;
  if (sp?.messageGroup != null && sp.messageGroup !== '') return MessageType.FIFO;
  if (sp?.deliveryTimestamp != null) return MessageType.DELAY;
  return MessageType.NORMAL;
}

export interface InboundMessage {
  readonly put: PutMessage;
  readonly messageId: string;
}

/**
 * The stored form of `msg` for `topic` / `queueId`, or the Status refusing it. `bornHost` is the caller's IPv4
 * "ip:port"; `bodyBytesMax` the broker's maxMessageSize.
 */
export function inboundMessageOf(
  msg: Message,
  topic: string,
  queueId: number,
  bornHost: string,
  bodyBytesMax: number,
  nowMs: number,
): InboundMessage | Status {
  const sp = msg.systemProperties;
  if (sp == null) return status(Code.MESSAGE_CORRUPTED, 'message has no system_properties');
  const messageId = sp.messageId;
  if (messageId.trim() === '') return status(Code.ILLEGAL_MESSAGE_ID, 'message id cannot be empty');
  let body = msg.body;
  if (body.length === 0) return status(Code.MESSAGE_BODY_EMPTY, 'message body cannot be empty');
  if (body.length > bodyBytesMax) {
    return status(
      Code.MESSAGE_BODY_TOO_LARGE,
      `message body is ${body.length} bytes, more than the max ${bodyBytesMax}`,
    );
  }
  let sysFlag = 0;
  if (sp.bodyEncoding === 'GZIP') {
    try {
      body = deflateSync(gunzipSync(body));
    } catch (err) {
      return status(
        Code.MESSAGE_CORRUPTED,
        `body_encoding is GZIP but the body is not gzip: ${(err as Error).message}`,
      );
    }
    sysFlag |= SysFlag.compressed;
  }
  const type = messageTypeOfV2(msg);
  let props = '';
  const user = msg.userProperties;
  let userCount = 0;
  for (const k in user) {
    const v = user[k] as string;
    if (++userCount > userPropertiesMax) {
      return status(Code.MESSAGE_PROPERTIES_TOO_LARGE, `too many user properties, max is ${userPropertiesMax}`);
    }
    if (systemNames.has(k)) return status(Code.ILLEGAL_MESSAGE_PROPERTY_KEY, `property is used by system: ${k}`);
    if (k === '' || controlCharacter.test(k)) {
      return status(
        Code.ILLEGAL_MESSAGE_PROPERTY_KEY,
        'the key of a property cannot be empty or hold a control character',
      );
    }
    if (controlCharacter.test(v)) {
      return status(Code.ILLEGAL_MESSAGE_PROPERTY_KEY, `the value of property ${k} cannot contain a control character`);
    }
    props += encodedProperty(k, v);
  }
  const tag = sp.tag ?? '';
  if (tag !== '') {
    if (tag.trim() === '') return status(Code.ILLEGAL_MESSAGE_TAG, 'tag cannot be the char sequence of whitespace');
    if (tag.includes('|')) return status(Code.ILLEGAL_MESSAGE_TAG, "tag cannot contain '|'");
    if (controlCharacter.test(tag)) return status(Code.ILLEGAL_MESSAGE_TAG, 'tag cannot contain control character');
    props += encodedProperty(Prop.tags, tag);
  }
  const keys = sp.keys;
  for (const key of keys) {
    if (key.trim() === '') return status(Code.ILLEGAL_MESSAGE_KEY, 'key cannot be empty or whitespace');
    if (controlCharacter.test(key) || key.includes(keySeparator)) {
      return status(Code.ILLEGAL_MESSAGE_KEY, 'key cannot contain a control character or a space');
    }
  }
  if (keys.length > 0) props += encodedProperty(Prop.keys, keys.join(keySeparator));
  props += encodedProperty(Prop.uniqKey, messageId);
  let prepared = false;
  if (type === MessageType.TRANSACTION) {
    prepared = true;
    sysFlag |= SysFlag.transactionPreparedType;
    props += encodedProperty(Prop.transactionPrepared, 'true') + encodedProperty(Prop.producerGroup, topic);
    const recoveryMs = timestampMsOf(sp.orphanedTransactionRecoveryDuration);
    if (recoveryMs !== undefined && recoveryMs > 0) {
      props += encodedProperty(Prop.checkImmunityTimeInSeconds, String(Math.floor(recoveryMs / 1000)));
    }
  }
  const deliverMs = timestampMsOf(sp.deliveryTimestamp);
  const scheduled = deliverMs !== undefined;
  if (scheduled) {
    if (deliverMs <= 0) return status(Code.ILLEGAL_DELIVERY_TIME, `delivery_timestamp ${deliverMs} is not a time`);
    props += encodedProperty(Prop.timerDeliverMs, String(deliverMs));
  }
  const group = sp.messageGroup ?? '';
  if (group !== '') {
    const problem = checkMessageGroup(group);
    if (problem !== undefined) return status(Code.ILLEGAL_MESSAGE_GROUP, `message group ${problem}`);
    props += encodedProperty(Prop.shardingKey, group);
  }
  if (sp.traceContext != null && sp.traceContext !== '') props += encodedProperty(Prop.traceContext, sp.traceContext);
  if (sp.bornHost !== '') props += encodedProperty(Prop.bornHost, sp.bornHost);
  const bornMs = timestampMsOf(sp.bornTimestamp) ?? nowMs;
  return {
    messageId,
    put: {
      topic,
      queueId,
      flag: 0,
      body,
      properties: props,
      sysFlag,
      bornTimestamp: BigInt(bornMs),
      bornHost,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0n,
      tagsCode: tagsCodeOf(tag === '' ? undefined : tag),
      keys: keys.length > 0 ? keys : undefined,
      uniqKey: messageId,
      transactionPrepared: prepared,
      scheduled,
    },
  };
}
