/**
 * Auto-batching of plain sends (RocketMQ 5's ProduceAccumulator, without its linger). Sends issued during one
 * event-loop turn are collected per topic and leave at the end of that turn (setImmediate) as one
 * SEND_BATCH_MESSAGE, or at once when a batch reaches its message or byte bound. A batch of one leaves as a
 * plain SEND_MESSAGE_V2, so a lone send looks on the wire exactly as without batching. Every send resolves
 * with its own SendResult: its UNIQ_KEY, its own offsetMsgId and queue offset (first + index in the batch).
 */
import { InvalidArgumentError } from '../common/errors.js';
import { Prop, propertySeparator, replyMessageFlag } from '../common/properties.js';
import { isRetryTopic } from '../common/topics.js';
import { batchEntryFixedBytes, copyGeneratedId, generatedIdBytes, type IdTail, idTailOf, writeEntry } from './batch.js';
import {
  bodyBuffer,
  encodeMessageProperties,
  isScheduledMessage,
  type Message,
  propertiesBytesMax,
  propertiesHead,
  uniqIdPrefix,
  validateMessage,
} from './message.js';
import { createUniqId, uniqIdChars } from './msg-id.js';
import { type SendOptions, SendResult } from './send-result.js';

/** Most messages in one automatic batch. */
export const batchMaxMessagesDefault = 256;
/** Largest encoded body of one automatic batch (bytes). */
export const batchMaxBytesDefault = 1024 * 1024;

/** One validated send, ready for the wire. */
export interface PreparedSend {
  topic: string;
  body: Buffer;
  flag: number;
  /**
   * The encoded properties: all of them when `uniqId` is set; else the message's propertiesHead, to which WAIT and
   * a new UNIQ_KEY are added when the send is encoded (as bytes in a batch, by completeProperties alone).
   */
  properties: string;
  /** Bytes of all the encoded properties (a UNIQ_KEY still to generate included). */
  propertiesBytes: number;
  /** The UNIQ_KEY; '' until the send is encoded. */
  uniqId: string;
  /** Absolute time (ms since epoch) after which no attempt starts. */
  deadlineMs: number;
}

/** How a batch reaches the broker: the producer's queue selection, retries and fault avoidance. */
export interface BatchTransport {
  sendSingle(send: PreparedSend): Promise<SendResult>;
  /** Resolves with the batch's result: comma-separated offsetMsgIds and the first queue offset. */
  sendBatch(topic: string, body: Buffer, deadlineMs: number): Promise<SendResult>;
  /** Keeps the producer's shutdown waiting for `p`. */
  track(p: Promise<unknown>): void;
}

export interface BatchLimits {
  bodyBytesMax: number;
  compressBodyBytesMin: number;
  sendTimeoutMs: number;
}

/**
 * The send as a batch member, or undefined when it must go alone: a fixed queue, selector, sharding key or
 * message group, a delay level, a retry topic, or a body that will be compressed. Throws InvalidArgumentError for
 * a bad message.
 */
export function prepareForBatch(
  msg: Message,
  options: SendOptions | undefined,
  limits: BatchLimits,
): PreparedSend | undefined {
  if (
    options !== undefined &&
    (options.queue !== undefined || options.selector !== undefined || options.shardingKey !== undefined)
  ) {
    return undefined;
  }
  // Held-back messages go alone: a batch is stored in one topic queue, and they move to a system topic.
  // FIFO ones too: their queue is their group's.
  if (msg === null || typeof msg !== 'object' || isScheduledMessage(msg) || msg.messageGroup !== undefined) {
    return undefined;
  }
  if (typeof msg.topic !== 'string' || isRetryTopic(msg.topic)) return undefined;
  // A reply goes alone, with SEND_REPLY_MESSAGE_V2.
  if (msg.properties !== undefined && msg.properties[Prop.msgType] === replyMessageFlag) return undefined;
  validateMessage(msg, limits.bodyBytesMax);
  const body = bodyBuffer(msg.body);
  if (body.length >= limits.compressBodyBytesMin) return undefined;
  const head = propertiesHead(msg);
  let properties: string;
  let propertiesBytes: number;
  let uniqId = '';
  if (head === undefined) {
    uniqId = msg.properties?.[Prop.uniqKey] ?? createUniqId();
    properties = encodeMessageProperties(msg, uniqId);
    propertiesBytes = Buffer.byteLength(properties);
  } else {
    properties = head;
    propertiesBytes = (head.length === 0 ? 0 : Buffer.byteLength(head)) + generatedIdBytes;
  }
  if (propertiesBytes > propertiesBytesMax) {
    throw new InvalidArgumentError(`message properties are over the limit of ${propertiesBytesMax} bytes`);
  }
  return {
    topic: msg.topic,
    body,
    flag: msg.flag ?? 0,
    properties,
    propertiesBytes,
    uniqId,
    deadlineMs: Date.now() + (options?.timeoutMs ?? limits.sendTimeoutMs),
  };
}

/** Gives `send` its UNIQ_KEY and whole properties string, for a send that goes alone. */
export function completeProperties(send: PreparedSend): void {
  if (send.uniqId !== '') return;
  send.uniqId = createUniqId();
  send.properties = send.properties + uniqIdPrefix + send.uniqId + propertySeparator;
}

interface Member extends PreparedSend {
  transport: BatchTransport;
  resolve: (r: SendResult) => void;
  reject: (err: Error) => void;
}

interface OpenBatch {
  topic: string;
  members: Member[];
  bytes: number;
}

const shared = new WeakMap<object, Map<string, SendAccumulator>>();

/**
 * The accumulator of a client instance for these bounds: producers sharing a connection also share batches
 * (as RocketMQ's producers share the ProduceAccumulator of their MQClientInstance).
 */
export function accumulatorOf(owner: object, maxMessages: number, maxBytes: number): SendAccumulator {
  let byBounds = shared.get(owner);
  if (byBounds === undefined) {
    byBounds = new Map();
    shared.set(owner, byBounds);
  }
  const key = `${maxMessages}/${maxBytes}`;
  let acc = byBounds.get(key);
  if (acc === undefined) {
    acc = new SendAccumulator(maxMessages, maxBytes);
    byBounds.set(key, acc);
  }
  return acc;
}

export class SendAccumulator {
  private readonly open = new Map<string, OpenBatch>();
  private flushScheduled = false;

  constructor(
    readonly maxMessages = batchMaxMessagesDefault,
    readonly maxBytes = batchMaxBytesDefault,
  ) {}

  /**
   * Queues one send; the returned promise settles as that send alone would. A batch goes out through the
   * transport of its first member (its producer's queue selection, retries and fault avoidance).
   */
  add(send: PreparedSend, transport: BatchTransport): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      const entryBytes = batchEntryFixedBytes + send.body.length + send.propertiesBytes;
      let b = this.open.get(send.topic);
      if (b !== undefined && b.bytes + entryBytes > this.maxBytes) {
        this.flush(b);
        b = undefined;
      }
      if (b === undefined) {
        b = { topic: send.topic, members: [], bytes: 0 };
        this.open.set(send.topic, b);
      }
      const m = send as Member;
      m.transport = transport;
      m.resolve = resolve;
      m.reject = reject;
      b.members.push(m);
      b.bytes += entryBytes;
      if (b.members.length >= this.maxMessages) this.flush(b);
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flushAll();
        });
      }
    });
  }

  /** Sends every open batch now (end of turn, shutdown). */
  flushAll(): void {
    for (const b of [...this.open.values()]) this.flush(b);
  }

  private flush(b: OpenBatch): void {
    if (this.open.get(b.topic) === b) this.open.delete(b.topic);
    const members = b.members;
    const first = members[0] as Member;
    if (members.length === 1) {
      completeProperties(first);
      const p = first.transport.sendSingle(first);
      p.then(first.resolve, first.reject);
      first.transport.track(p);
      return;
    }
    let deadlineMs = Number.POSITIVE_INFINITY;
    for (const m of members) if (m.deadlineMs < deadlineMs) deadlineMs = m.deadlineMs;
    const p = first.transport.sendBatch(b.topic, encodeMembers(members, b.bytes), deadlineMs);
    p.then(
      (r) => settleMembers(members, r),
      (err: Error) => {
        for (const m of members) m.reject(err);
      },
    );
    // Every producer with a member in the batch waits for it at shutdown.
    first.transport.track(p);
    for (const m of members) if (m.transport !== first.transport) m.transport.track(p);
  }
}

/**
 * Lays the members out as a SEND_BATCH_MESSAGE body in one buffer, generating the UNIQ_KEYs still missing as bytes
 * there; their strings are slices of one string of all of them.
 */
function encodeMembers(members: readonly Member[], totalBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(totalBytes);
  let idTail: IdTail | undefined;
  let ids: Buffer | undefined;
  let p = 0;
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as Member;
    if (m.uniqId !== '') {
      p = writeEntry(buf, p, m.body, m.flag, m.properties, m.propertiesBytes, undefined);
      continue;
    }
    idTail ??= idTailOf(Date.now());
    p = writeEntry(buf, p, m.body, m.flag, m.properties, m.propertiesBytes, idTail);
    ids ??= Buffer.allocUnsafe(members.length * uniqIdChars);
    copyGeneratedId(idTail, buf, p, ids, i * uniqIdChars);
  }
  if (ids !== undefined) {
    const all = ids.toString('latin1');
    for (let i = 0; i < members.length; i++) {
      const m = members[i] as Member;
      if (m.uniqId === '') m.uniqId = all.slice(i * uniqIdChars, (i + 1) * uniqIdChars);
    }
  }
  return buf;
}

function settleMembers(members: readonly Member[], r: SendResult): void {
  const ids = r.offsetMsgId.split(',');
  // Member i holds the batch's first offset + i (-1 for all when the broker gave none).
  const known = r.queueOffset >= 0n;
  let offset = r.queueOffset;
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as Member;
    m.resolve(new SendResult(r.status, m.uniqId, ids[i] ?? '', r.messageQueue, offset, r.transactionId));
    if (known) offset += 1n;
  }
}
