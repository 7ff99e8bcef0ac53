/**
 * A stored message (MessageExt, v4 layout) as an `apache.rocketmq.v2.Message` object, shaped the way
 * @grpc/proto-loader serializes it (snake_case fields become camelCase, enums as names, int64 as strings).
 * Facts from RocketMQ 5.3.3's proxy GrpcConverter.buildMessage (WIRE-FACTS §11): message id = UNIQ_KEY,
 * message type from TRAN_MSG / delay and timer properties / sharding key, delivery attempt = reconsumeTimes + 1.
 */

import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { type MessageExt, SysFlag } from '../../common/message.js';
import { keySeparator, Prop } from '../../common/properties.js';
import { MessageType } from '../proto.js';

/** google.protobuf.Timestamp / Duration as proto-loader takes them (seconds as a decimal string). */
export interface ProtoTime {
  readonly seconds: string;
  readonly nanos: number;
}

export const V2Encoding = { identity: 'IDENTITY', gzip: 'GZIP' } as const;
export type V2Encoding = (typeof V2Encoding)[keyof typeof V2Encoding];

export interface V2SystemProperties {
  tag?: string;
  keys: string[];
  messageId: string;
  bodyDigest: { type: 'MD5'; checksum: string };
  bodyEncoding: V2Encoding;
  messageType: MessageType;
  bornTimestamp: ProtoTime;
  bornHost: string;
  storeTimestamp: ProtoTime;
  storeHost: string;
  deliveryTimestamp?: ProtoTime;
  receiptHandle?: string;
  queueId: number;
  queueOffset: string;
  invisibleDuration?: ProtoTime;
  deliveryAttempt: number;
  messageGroup?: string;
  traceContext?: string;
}

export interface V2Message {
  topic: { resourceNamespace: string; name: string };
  userProperties: Record<string, string>;
  systemProperties: V2SystemProperties;
  body: Buffer;
}

/** What POP adds to a delivered message: its receipt handle, how long it stays invisible, which attempt this is. */
export interface Delivery {
  readonly receiptHandle: string;
  readonly invisibleTimeMs: number;
  readonly deliveryAttempt: number;
}

/**
 * A body stored zlib-compressed by a 4.x client is inflated up to this size (the largest body a broker accepts);
 * past it the stored bytes go out unchanged rather than a gRPC frame the client refuses.
 */
export const inflatedBodyBytesMax = 4 * 1024 * 1024;

/** Every property key the broker or clients set for themselves: never shown to v5 clients as user properties. */
const systemPropNames: ReadonlySet<string> = new Set<string>(Object.values(Prop));

const gzipMagic0 = 0x1f;
const gzipMagic1 = 0x8b;

export function protoTimeOfMs(ms: number | bigint): ProtoTime {
  const n = typeof ms === 'bigint' ? ms : BigInt(Math.trunc(ms));
  let seconds = n / 1000n;
  let rest = n % 1000n;
  if (rest < 0n) {
    seconds -= 1n;
    rest += 1000n;
  }
  return { seconds: seconds.toString(), nanos: Number(rest) * 1_000_000 };
}

/** The stored body as a v5 client reads it: zlib bodies inflated, gzip bodies (sent by v5 clients) kept as GZIP. */
export function deliveredBody(msg: MessageExt): { body: Buffer; encoding: V2Encoding } {
  const body = msg.body;
  if ((msg.sysFlag & SysFlag.compressed) === 0) return { body, encoding: V2Encoding.identity };
  if (body.length >= 2 && body[0] === gzipMagic0 && body[1] === gzipMagic1) {
    return { body, encoding: V2Encoding.gzip };
  }
  try {
    return { body: inflateSync(body, { maxOutputLength: inflatedBodyBytesMax }), encoding: V2Encoding.identity };
  } catch {
    // Not zlib, or larger than any accepted body: deliver what is stored; the client's digest still matches.
    return { body, encoding: V2Encoding.identity };
  }
}

export function messageTypeOf(props: ReadonlyMap<string, string>): MessageType {
  if (props.get(Prop.transactionPrepared) === 'true') return MessageType.TRANSACTION;
  if (
    props.has(Prop.delayLevel) ||
    props.has(Prop.timerDeliverMs) ||
    props.has(Prop.timerDelaySec) ||
    props.has(Prop.timerDequeueMs)
  ) {
    return MessageType.DELAY;
  }
  if (props.has(Prop.shardingKey)) return MessageType.FIFO;
  return MessageType.NORMAL;
}

/**
 * The delivery time of a delayed message: TIMER_DELIVER_MS or an ONS start time when it carries one; a fired timer
 * message (the timer drops its request properties, RocketMQ keeps them) says when it fired, TIMER_DEQUEUE_MS.
 */
function deliveryTimestampOf(props: ReadonlyMap<string, string>): ProtoTime | undefined {
  const at = props.get(Prop.timerDeliverMs) ?? props.get(Prop.startDeliverTime) ?? props.get(Prop.timerDequeueMs);
  if (at === undefined || !/^\d{1,16}$/.test(at)) return undefined;
  return protoTimeOfMs(Number(at));
}

function hostOnly(hostPort: string): string {
  const colon = hostPort.lastIndexOf(':');
  return colon > 0 ? hostPort.slice(0, colon) : hostPort;
}

/** `msg` as a v2 Message; `topic` is the topic the consumer asked for (a retried message keeps its original one). */
export function toV2Message(msg: MessageExt, delivery?: Delivery, topic = msg.topic): V2Message {
  const props = msg.properties;
  const userProperties: Record<string, string> = {};
  for (const [k, v] of props) {
    if (!systemPropNames.has(k)) userProperties[k] = v;
  }
  const { body, encoding } = deliveredBody(msg);
  const sys: V2SystemProperties = {
    keys: [],
    messageId: props.get(Prop.uniqKey) ?? msg.offsetMsgId,
    bodyDigest: { type: 'MD5', checksum: createHash('md5').update(body).digest('hex').toUpperCase() },
    bodyEncoding: encoding,
    messageType: messageTypeOf(props),
    bornTimestamp: protoTimeOfMs(msg.bornTimestamp),
    bornHost: props.get(Prop.bornHost) || hostOnly(msg.bornHost),
    storeTimestamp: protoTimeOfMs(msg.storeTimestamp),
    storeHost: msg.storeHost,
    queueId: msg.queueId,
    queueOffset: msg.queueOffset.toString(),
    deliveryAttempt: delivery?.deliveryAttempt ?? msg.reconsumeTimes + 1,
  };
  const tag = props.get(Prop.tags);
  if (tag !== undefined) sys.tag = tag;
  const keys = props.get(Prop.keys);
  if (keys) sys.keys = keys.split(keySeparator).filter((k) => k.length > 0);
  const deliveryTimestamp = deliveryTimestampOf(props);
  if (deliveryTimestamp) sys.deliveryTimestamp = deliveryTimestamp;
  const group = props.get(Prop.shardingKey);
  if (group !== undefined) sys.messageGroup = group;
  const trace = props.get(Prop.traceContext);
  if (trace !== undefined) sys.traceContext = trace;
  if (delivery) {
    sys.receiptHandle = delivery.receiptHandle;
    sys.invisibleDuration = protoTimeOfMs(delivery.invisibleTimeMs);
  }
  return { topic: { resourceNamespace: '', name: topic }, userProperties, systemProperties: sys, body };
}
