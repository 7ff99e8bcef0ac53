/**
 * Batch bodies for SEND_BATCH_MESSAGE, in RocketMQ's MessageDecoder.encodeMessages layout, per message:
 * TOTALSIZE 4 | MAGICCODE 4 (0) | BODYCRC 4 (0) | FLAG 4 | BODY len 4 + bytes | PROPERTIES len 2 + bytes.
 * Batched bodies are never compressed (RocketMQ does not compress batches). The whole batch is one buffer; a
 * message without user properties gets its WAIT and UNIQ_KEY written as bytes, with no per-message string.
 */
import { InvalidArgumentError } from '../common/errors.js';
import { encodeProperties, Prop, propertySeparatorCode } from '../common/properties.js';
import { isRetryTopic } from '../common/topics.js';
import { takeBatchBuffer } from './batch-buffers.js';
import {
  bodyBuffer,
  isScheduledMessage,
  type Message,
  messageProperties,
  propertiesBytesMax,
  propertiesHead,
  uniqIdPrefix,
  validateMessage,
} from './message.js';
import { createUniqId, uniqIdChars, uniqIdHeadChars, writeUniqIdCounter, writeUniqIdHead } from './msg-id.js';

/** TOTALSIZE 4 | MAGIC 4 | BODYCRC 4 | FLAG 4 | BODY len 4 | PROPERTIES len 2 (MessageDecoder.encodeMessages). */
export const batchEntryFixedBytes = 4 + 4 + 4 + 4 + 4 + 2;
/** Most messages in one batch. */
export const batchMessagesMax = 1024;
const uniqIdPrefixBytes = Buffer.from(uniqIdPrefix, 'latin1');
/** Bytes that writeEntry appends to a properties head: WAIT, the UNIQ_KEY name, 32 hex digits, separator. */
export const generatedIdBytes = uniqIdPrefixBytes.length + uniqIdChars + 1;
const commaCode = 0x2c;

export interface EncodedBatch {
  topic: string;
  body: Buffer;
  /** The messages' UNIQ_KEYs, comma-separated, in order (RocketMQ's MessageBatch msgId). */
  msgId: string;
}

/**
 * What writeEntry appends to the properties head of a message whose id it generates: WAIT, the UNIQ_KEY name and
 * the id's first 28 characters, shared by the ids generated at one time; `idHead` is those 28 characters.
 */
export interface IdTail {
  bytes: Buffer;
  idHead: Buffer;
}

/** The IdTail for ids generated at `nowMs`. */
export function idTailOf(nowMs: number): IdTail {
  const bytes = Buffer.allocUnsafe(uniqIdPrefixBytes.length + uniqIdHeadChars);
  bytes.set(uniqIdPrefixBytes);
  writeUniqIdHead(bytes, uniqIdPrefixBytes.length, nowMs);
  return { bytes, idHead: bytes.subarray(uniqIdPrefixBytes.length) };
}

/** A DataView over all of `buf` (a Buffer may be a view into a larger pool), for writeEntry's integer fields. */
export function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.length);
}

/**
 * Writes one entry at `at` and returns the position after it. `props` is the whole properties string, or with
 * `idTail` the head (propertiesHead) to which WAIT and a new UNIQ_KEY are appended as bytes: the id is then the 32
 * bytes before the entry's last. `propsBytes` counts everything. `view` = viewOf(buf): its integer stores cost a
 * fraction of Buffer#writeInt32BE's (no argument checks; every value here was validated before).
 */
export function writeEntry(
  buf: Buffer,
  view: DataView,
  at: number,
  body: Buffer,
  flag: number,
  props: string,
  propsBytes: number,
  idTail: IdTail | undefined,
): number {
  const bodyBytes = body.length;
  view.setInt32(at, batchEntryFixedBytes + bodyBytes + propsBytes);
  view.setInt32(at + 4, 0); // magic: unused in batches
  view.setInt32(at + 8, 0); // body CRC: the broker computes it
  view.setInt32(at + 12, flag | 0);
  view.setInt32(at + 16, bodyBytes);
  buf.set(body, at + 20);
  let p = at + 20 + bodyBytes;
  view.setUint16(p, propsBytes);
  p += 2;
  if (idTail === undefined) return p + buf.write(props, p, propsBytes, 'utf8');
  if (props.length > 0) p += buf.write(props, p, propsBytes - generatedIdBytes, 'utf8');
  // ~45 bytes: a loop costs less than a TypedArray#set call for so few.
  const tail = idTail.bytes;
  for (let i = 0; i < tail.length; i++) buf[p + i] = tail[i] as number;
  p += tail.length;
  writeUniqIdCounter(buf, p);
  p += uniqIdChars - uniqIdHeadChars;
  buf[p] = propertySeparatorCode;
  return p + 1;
}

/** Copies the id that writeEntry generated with `idTail` into an entry ending at `end` to `to` at `toAt`. */
export function copyGeneratedId(idTail: IdTail, buf: Buffer, end: number, to: Buffer, toAt: number): void {
  to.set(idTail.idHead, toAt);
  const from = end - 1 - (uniqIdChars - uniqIdHeadChars);
  const at = toAt + uniqIdHeadChars;
  to[at] = buf[from] as number;
  to[at + 1] = buf[from + 1] as number;
  to[at + 2] = buf[from + 2] as number;
  to[at + 3] = buf[from + 3] as number;
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
  const n = msgs.length;
  const first = msgs[0] as Message;
  const topic = first.topic;
  const bodies = new Array<Buffer>(n);
  /** The whole properties string, or the head of a message whose UNIQ_KEY is written as bytes ('' in `ids`). */
  const props = new Array<string>(n);
  const propsBytes = new Array<number>(n);
  const ids = new Array<string>(n);
  let total = 0;
  /** Some id is the user's, of any length: the msgId is then joined from strings. */
  let userIds = false;
  for (let i = 0; i < n; i++) {
    const msg = msgs[i] as Message;
    validateMessage(msg, bodyBytesMax);
    if (msg.topic !== topic) {
      throw new InvalidArgumentError(`batch message ${i} has topic '${msg.topic}'; all must use '${topic}'`);
    }
    if (isScheduledMessage(msg)) {
      throw new InvalidArgumentError(`batch message ${i}: delay levels and timers are not supported in batches`);
    }
    if (isRetryTopic(msg.topic)) throw new InvalidArgumentError('retry topics are not supported in batches');
    if (msg.messageGroup !== first.messageGroup) {
      throw new InvalidArgumentError(`batch message ${i} has another messageGroup; a batch goes to one group's queue`);
    }
    const head = propertiesHead(msg);
    let p: string;
    let pBytes: number;
    if (head === undefined) {
      // A UNIQ_KEY the user set stays (RocketMQ's MessageClientIDSetter.setUniqID): a resent batch is de-duplicated.
      const userId = msg.properties?.[Prop.uniqKey];
      if (userId !== undefined) userIds = true;
      const id = userId ?? createUniqId();
      ids[i] = id;
      p = encodeProperties(messageProperties(msg, id));
      pBytes = Buffer.byteLength(p);
    } else {
      ids[i] = '';
      p = head;
      pBytes = (head.length === 0 ? 0 : Buffer.byteLength(head)) + generatedIdBytes;
    }
    if (pBytes > propertiesBytesMax) {
      throw new InvalidArgumentError(`message properties are over the limit of ${propertiesBytesMax} bytes`);
    }
    const body = bodyBuffer(msg.body);
    bodies[i] = body;
    props[i] = p;
    propsBytes[i] = pBytes;
    total += batchEntryFixedBytes + body.length + pBytes;
  }
  if (bodyBytesMax !== undefined && total > bodyBytesMax) {
    throw new InvalidArgumentError(`batch body is ${total} bytes, over the limit of ${bodyBytesMax} bytes`);
  }
  // One buffer for the whole batch: no per-entry Buffers and no concat; the ids joined in one more.
  // Given back by the producer once answered.
  const body = takeBatchBuffer(total);
  const view = viewOf(body);
  const idList = Buffer.allocUnsafe(n * (uniqIdChars + 1) - 1);
  const idTail = idTailOf(Date.now());
  let at = 0;
  for (let i = 0; i < n; i++) {
    const id = ids[i] as string;
    const idAt = i * (uniqIdChars + 1);
    const tail = id === '' ? idTail : undefined;
    at = writeEntry(
      body,
      view,
      at,
      bodies[i] as Buffer,
      msgs[i]?.flag ?? 0,
      props[i] as string,
      propsBytes[i] as number,
      tail,
    );
    if (id === '') copyGeneratedId(idTail, body, at, idList, idAt);
    else if (!userIds) idList.write(id, idAt, 'latin1');
    if (i < n - 1) idList[idAt + uniqIdChars] = commaCode;
  }
  const joined = idList.toString('latin1');
  if (!userIds) return { topic, body, msgId: joined };
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const id = ids[i] as string;
    parts[i] = id === '' ? joined.slice(i * (uniqIdChars + 1), i * (uniqIdChars + 1) + uniqIdChars) : id;
  }
  return { topic, body, msgId: parts.join(',') };
}
