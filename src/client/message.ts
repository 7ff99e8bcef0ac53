/**
 * The message a user sends, its validation, and its wire form (properties string, sysFlag, compressed body).
 */
import { deflateSync } from 'node:zlib';
import { InvalidArgumentError } from '../common/errors.js';
import { SysFlag } from '../common/message.js';
import {
  encodedProperty,
  encodeProperties,
  keySeparator,
  nameSeparator,
  Prop,
  propertySeparator,
} from '../common/properties.js';
import { isSendForbiddenTopic } from '../common/topics.js';
import { checkMessageGroup, checkTopicName } from '../common/validate.js';
import { createUniqId } from './msg-id.js';

/** A message to send. */
export interface Message {
  topic: string;
  /** Strings are sent as UTF-8. */
  body: Buffer | string;
  /** One tag; consumers filter on it ("TagA", subscribed as "TagA || TagB"). */
  tags?: string | undefined;
  /** Business keys, indexed by the broker for query by key. */
  keys?: string | string[] | undefined;
  /** User properties. */
  properties?: Record<string, string> | undefined;
  /** Delay level 1-18 (1s 5s 10s 30s 1m … 2h); 0 or absent = deliver now. */
  delayTimeLevel?: number | undefined;
  /**
   * Deliver at this time (epoch ms; sent as TIMER_DELIVER_MS): a timer message, delivered at or after it (within
   * the broker's timerPrecisionMs), up to its timerMaxDelaySec (3 days by default) ahead. A past time = now.
   */
  deliverTimeMs?: number | undefined;
  /** Deliver this many ms after the broker stores it (sent as TIMER_DELAY_MS). */
  delayMs?: number | undefined;
  /** Opaque int kept with the message. */
  flag?: number | undefined;
  /**
   * FIFO message group (RocketMQ 5's messageGroup): messages of one group go to one queue (chosen by the group's
   * hash, sent as the `__SHARDINGKEY` property) and a FIFO consumer group receives them in send order, the next
   * only after the previous is acked. Not with a delay level or timer.
   */
  messageGroup?: string | undefined;
}

/** Largest body a producer accepts (RocketMQ's maxMessageSize, 4 MiB). */
export const bodyBytesMaxDefault = 4 * 1024 * 1024;
/** Bodies of at least this many bytes are zlib-compressed (compressMsgBodyOverHowmuch). */
export const compressBodyBytesMinDefault = 4 * 1024;
/** Largest encoded properties string (bytes). */
export const propertiesBytesMax = 32 * 1024;
export const delayLevelMax = 18;

/** Keys joined by this separator go into the KEYS property. */

/** The last topic name that passed validation: a producer sends to few topics, so most sends skip the regex. */
let lastValidTopic: string | undefined;

/** Throws InvalidArgumentError naming what is wrong with `msg`. */
export function validateMessage(msg: Message, bodyBytesMax = bodyBytesMaxDefault): void {
  if (msg === null || typeof msg !== 'object') throw new InvalidArgumentError('message must be an object');
  if (typeof msg.topic !== 'string') throw new InvalidArgumentError('message topic must be a string');
  if (msg.topic !== lastValidTopic) {
    const problem = checkTopicName(msg.topic);
    if (problem !== undefined) throw new InvalidArgumentError(`invalid message topic: ${problem}`);
    if (isSendForbiddenTopic(msg.topic)) throw new InvalidArgumentError(`topic '${msg.topic}' is a system topic`);
    lastValidTopic = msg.topic;
  }
  if (msg.body === undefined || msg.body === null) throw new InvalidArgumentError('message body is missing');
  const bodyBytes = typeof msg.body === 'string' ? Buffer.byteLength(msg.body) : msg.body.length;
  if (bodyBytes === 0) throw new InvalidArgumentError('message body is empty');
  if (bodyBytes > bodyBytesMax) {
    throw new InvalidArgumentError(`message body is ${bodyBytes} bytes, over the limit of ${bodyBytesMax} bytes`);
  }
  if (msg.tags !== undefined && (typeof msg.tags !== 'string' || msg.tags.includes('||'))) {
    throw new InvalidArgumentError(`message tags must be one tag without '||': ${String(msg.tags)}`);
  }
  const level = msg.delayTimeLevel;
  if (level !== undefined && (!Number.isInteger(level) || level < 0 || level > delayLevelMax)) {
    throw new InvalidArgumentError(`delayTimeLevel must be an integer 0-${delayLevelMax}, got ${level}`);
  }
  validateTimer(msg);
  validateMessageGroup(msg);
}

/**
 * A FIFO group as RocketMQ 5's proxy accepts it: not blank, under 64 UTF-8 bytes, no control characters (which
 * would also break the properties string); not with a delay level or timer (RocketMQ 5 refuses both at once).
 */
function validateMessageGroup(msg: Message): void {
  const group = msg.messageGroup;
  if (group === undefined) return;
  if (typeof group !== 'string') throw new InvalidArgumentError('messageGroup must be a string');
  const problem = checkMessageGroup(group);
  if (problem !== undefined) throw new InvalidArgumentError(`messageGroup ${problem}`);
  if (
    msg.deliverTimeMs !== undefined ||
    msg.delayMs !== undefined ||
    (msg.delayTimeLevel !== undefined && msg.delayTimeLevel > 0)
  ) {
    throw new InvalidArgumentError('a message with a messageGroup (FIFO) cannot also be delayed or timed');
  }
}

/** The timer options: integers, one of them, not with a delay level (which the broker would prefer). */
function validateTimer(msg: Message): void {
  const at = msg.deliverTimeMs;
  const after = msg.delayMs;
  if (at !== undefined && (!Number.isSafeInteger(at) || at < 0)) {
    throw new InvalidArgumentError(`deliverTimeMs must be an epoch time in ms (a non-negative integer), got ${at}`);
  }
  if (after !== undefined && (!Number.isSafeInteger(after) || after < 0)) {
    throw new InvalidArgumentError(`delayMs must be a non-negative integer, got ${after}`);
  }
  if (at !== undefined && after !== undefined) {
    throw new InvalidArgumentError('set deliverTimeMs or delayMs, not both');
  }
  if ((at !== undefined || after !== undefined) && msg.delayTimeLevel !== undefined && msg.delayTimeLevel > 0) {
    throw new InvalidArgumentError('set a timer (deliverTimeMs / delayMs) or delayTimeLevel, not both');
  }
}

/** A message the broker holds back (delay level or timer): not sent in batches. */
export function isScheduledMessage(msg: Message): boolean {
  if ((msg.delayTimeLevel !== undefined && msg.delayTimeLevel > 0) || msg.deliverTimeMs !== undefined) return true;
  if (msg.delayMs !== undefined) return true;
  const p = msg.properties;
  return p !== undefined && scheduledPropNames.some((k) => p[k] !== undefined);
}

const scheduledPropNames: readonly string[] = [
  Prop.delayLevel,
  Prop.timerDeliverMs,
  Prop.timerDelaySec,
  Prop.timerDelayMs,
  Prop.startDeliverTime,
];

/** A message ready for the send header: what SEND_MESSAGE_V2 carries. */
export interface WireMessage {
  topic: string;
  body: Buffer;
  /** Properties including UNIQ_KEY, TAGS, KEYS, WAIT, DELAY. */
  properties: Map<string, string>;
  /** `properties` encoded (as built: stale once the Map is changed). */
  encodedProperties: string;
  sysFlag: number;
  flag: number;
  uniqId: string;
}

export function bodyBuffer(body: Buffer | string): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** The properties RocketMQ's Message puts in its map, in its order, with a fresh UNIQ_KEY. */
export function messageProperties(msg: Message, uniqId = createUniqId()): Map<string, string> {
  const props = new Map<string, string>();
  if (msg.properties !== undefined) for (const [k, v] of Object.entries(msg.properties)) props.set(k, String(v));
  if (msg.tags !== undefined && msg.tags !== '') props.set(Prop.tags, msg.tags);
  const keys = typeof msg.keys === 'string' ? [msg.keys] : (msg.keys ?? []);
  if (keys.length > 0) props.set(Prop.keys, keys.join(keySeparator));
  if (msg.delayTimeLevel !== undefined && msg.delayTimeLevel > 0)
    props.set(Prop.delayLevel, String(msg.delayTimeLevel));
  if (msg.deliverTimeMs !== undefined) props.set(Prop.timerDeliverMs, String(msg.deliverTimeMs));
  if (msg.delayMs !== undefined) props.set(Prop.timerDelayMs, String(msg.delayMs));
  if (msg.messageGroup !== undefined) props.set(Prop.shardingKey, msg.messageGroup);
  if (!props.has(Prop.waitStoreMsgOk)) props.set(Prop.waitStoreMsgOk, 'true');
  props.set(Prop.uniqKey, uniqId);
  return props;
}

const waitStoreMsgOkTrue = encodedProperty(Prop.waitStoreMsgOk, 'true');
/** What follows a properties head up to the UNIQ_KEY's value: `head + uniqIdPrefix + id + propertySeparator`. */
export const uniqIdPrefix = waitStoreMsgOkTrue + Prop.uniqKey + nameSeparator;

/**
 * The encoded properties of a message that needs no Map (no user properties, timer or message group) before its
 * WAIT and UNIQ_KEY: TAGS, KEYS and DELAY when set, '' for most messages. Undefined for the other messages, whose
 * properties `encodeProperties(messageProperties(msg, uniqId))` builds.
 */
export function propertiesHead(msg: Message): string | undefined {
  if (
    msg.properties !== undefined ||
    msg.deliverTimeMs !== undefined ||
    msg.delayMs !== undefined ||
    msg.messageGroup !== undefined
  ) {
    return undefined;
  }
  let out = '';
  if (msg.tags !== undefined && msg.tags !== '') out += Prop.tags + nameSeparator + msg.tags + propertySeparator;
  const keys = msg.keys;
  if (keys !== undefined && (typeof keys === 'string' || keys.length > 0)) {
    out += Prop.keys + nameSeparator + (typeof keys === 'string' ? keys : keys.join(keySeparator)) + propertySeparator;
  }
  if (msg.delayTimeLevel !== undefined && msg.delayTimeLevel > 0) {
    out += encodedProperty(Prop.delayLevel, String(msg.delayTimeLevel));
  }
  return out;
}

/** `encodeProperties(messageProperties(msg, uniqId))`, without the Map for messages that have a propertiesHead. */
export function encodeMessageProperties(msg: Message, uniqId: string): string {
  const head = propertiesHead(msg);
  if (head === undefined) return encodeProperties(messageProperties(msg, uniqId));
  return head + uniqIdPrefix + uniqId + propertySeparator;
}

/** Builds the wire form: UNIQ_KEY assigned, body compressed (sysFlag bit 0) when large enough. */
export function toWireMessage(msg: Message, compressBodyBytesMin = compressBodyBytesMinDefault): WireMessage {
  const uniqId = msg.properties?.[Prop.uniqKey] ?? createUniqId();
  const properties = messageProperties(msg, uniqId);
  const encodedProperties = encodeProperties(properties);
  if (Buffer.byteLength(encodedProperties) > propertiesBytesMax) {
    throw new InvalidArgumentError(`message properties are over the limit of ${propertiesBytesMax} bytes`);
  }
  let body = bodyBuffer(msg.body);
  let sysFlag = 0;
  if (body.length >= compressBodyBytesMin) {
    // Java's Deflater default level for RocketMQ 4.x producers is 5; any zlib level inflates the same.
    body = deflateSync(body, { level: 5 });
    sysFlag |= SysFlag.compressed;
  }
  return { topic: msg.topic, body, properties, encodedProperties, sysFlag, flag: msg.flag ?? 0, uniqId };
}
