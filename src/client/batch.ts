/**
 * Batch bodies for SEND_BATCH_MESSAGE, in RocketMQ's MessageDecoder.encodeMessages layout, per message:
 * TOTALSIZE 4 | MAGICCODE 4 (0) | BODYCRC 4 (0) | FLAG 4 | BODY len 4 + bytes | PROPERTIES len 2 + bytes.
 * Batched bodies are never compressed (RocketMQ does not compress batches).
 */
import { InvalidArgumentError } from '../common/errors.js';
import { isRetryTopic } from '../common/topics.js';
import {
  bodyBuffer,
  encodeMessageProperties,
  isScheduledMessage,
  type Message,
  propertiesBytesMax,
  validateMessage,
} from './message.js';
import { createUniqId } from './msg-id.js';

const fixedBytes = 4 + 4 + 4 + 4 + 4 + 2;
/** Most messages in one batch. */
export const batchMessagesMax = 1024;

export interface EncodedBatch {
  topic: string;
  body: Buffer;
  /** UNIQ_KEY of each message, in order. */
  uniqIds: string[];
}

function writeEntry(buf: Buffer, at: number, body: Buffer, flag: number, props: string, propsBytes: number): number {
  buf.writeInt32BE(fixedBytes + body.length + propsBytes, at);
  buf.writeInt32BE(0, at + 4); // magic: unused in batches
  buf.writeInt32BE(0, at + 8); // body CRC: the broker computes it
  buf.writeInt32BE(flag | 0, at + 12);
  buf.writeInt32BE(body.length, at + 16);
  let p = at + 20 + body.copy(buf, at + 20);
  p = buf.writeUInt16BE(propsBytes, p);
  return p + buf.write(props, p, propsBytes, 'utf8');
}

/**
 * Validates and encodes messages for one batch send: all must share a topic (and message group, if any), carry
 * no delay level and not target a retry topic. Throws InvalidArgumentError saying which rule a message broke.
 */
export function encodeBatch(msgs: readonly Message[], bodyBytesMax?: number): EncodedBatch {
  if (msgs.length === 0) throw new InvalidArgumentError('a batch needs at least one message');
  if (msgs.length > batchMessagesMax) {
    throw new InvalidArgumentError(`a batch holds at most ${batchMessagesMax} messages, got ${msgs.length}`);
  }
  const topic = (msgs[0] as Message).topic;
  const bodies: Buffer[] = [];
  const props: string[] = [];
  const propsBytes: number[] = [];
  const uniqIds: string[] = [];
  let total = 0;
  for (let i = 0; i < msgs.length; i++) {
    const msg = msgs[i] as Message;
    validateMessage(msg, bodyBytesMax);
    if (msg.topic !== topic) {
      throw new InvalidArgumentError(`batch message ${i} has topic '${msg.topic}'; all must use '${topic}'`);
    }
    if (isScheduledMessage(msg)) {
      throw new InvalidArgumentError(`batch message ${i}: delay levels and timers are not supported in batches`);
    }
    if (isRetryTopic(msg.topic)) throw new InvalidArgumentError('retry topics are not supported in batches');
    if (msg.messageGroup !== (msgs[0] as Message).messageGroup) {
      throw new InvalidArgumentError(`batch message ${i} has another messageGroup; a batch goes to one group's queue`);
    }
    const uniqId = createUniqId();
    const p = encodeMessageProperties(msg, uniqId);
    const pBytes = Buffer.byteLength(p);
    if (pBytes > propertiesBytesMax) {
      throw new InvalidArgumentError(`message properties are over the limit of ${propertiesBytesMax} bytes`);
    }
    const body = bodyBuffer(msg.body);
    uniqIds.push(uniqId);
    bodies.push(body);
    props.push(p);
    propsBytes.push(pBytes);
    total += fixedBytes + body.length + pBytes;
  }
  // One buffer for the whole batch: no per-entry Buffers and no concat.
  const body = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < bodies.length; i++) {
    at = writeEntry(body, at, bodies[i] as Buffer, msgs[i]?.flag ?? 0, props[i] as string, propsBytes[i] as number);
  }
  if (bodyBytesMax !== undefined && body.length > bodyBytesMax) {
    throw new InvalidArgumentError(`batch body is ${body.length} bytes, over the limit of ${bodyBytesMax} bytes`);
  }
  return { topic, body, uniqIds };
}
