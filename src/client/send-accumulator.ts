/**
 * Auto-batching of plain sends (RocketMQ 5's ProduceAccumulator, without its linger). Sends issued during one
 * event-loop turn are collected per topic and leave at the end of that turn (setImmediate) as one
 * SEND_BATCH_MESSAGE, or at once when a batch reaches its message or byte bound. A batch of one leaves as a
 * plain SEND_MESSAGE_V2, so a lone send looks on the wire exactly as without batching. Every send resolves
 * with its own SendResult: its UNIQ_KEY, its own offsetMsgId and queue offset (first + index in the batch).
 *
 * Delayed, timer and half (TRAN_MSG) messages are batched too: tsrocket's broker stores each member where it would
 * go alone and answers each member's queue and offset (`memberQueues`). RocketMQ's broker refuses such a batch
 * (MESSAGE_ILLEGAL: the batch header carries DELAY, or the PREPARED sysFlag, for that reason; a Java broker would
 * otherwise store members' own DELAY unscheduled); its members are then sent one by one, and the producer
 * remembers that broker (SplitBatchRefusedError). Half messages travel in batches of their own, as the PREPARED
 * flag of the header applies to every member.
 */
import { InvalidArgumentError } from '../common/errors.js';
import { Prop, replyMessageFlag } from '../common/properties.js';
import { isRetryTopic } from '../common/topics.js';
import { parseMemberQueues } from '../remoting/protocol/send.js';
import { SplitBatchRefusedError } from './errors.js';
import {
  bodyBuffer,
  encodeMessageProperties,
  isScheduledMessage,
  type Message,
  propertiesBytesMax,
  validateMessage,
} from './message.js';
import { createUniqId } from './msg-id.js';
import { type SendOptions, SendResult } from './send-result.js';

/** Most messages in one automatic batch. */
export const batchMaxMessagesDefault = 256;
/** Largest encoded body of one automatic batch (bytes). */
export const batchMaxBytesDefault = 1024 * 1024;
/** TOTALSIZE 4 | MAGIC 4 | BODYCRC 4 | FLAG 4 | BODY len 4 | PROPERTIES len 2 (MessageDecoder.encodeMessages). */
export const batchEntryFixedBytes = 4 + 4 + 4 + 4 + 4 + 2;

/** What a batch member is: bits of the batch's `kinds` (the header the batch needs, and the broker's split). */
export const MemberKind = { plain: 0, scheduled: 1, prepared: 2 } as const;
export type MemberKind = (typeof MemberKind)[keyof typeof MemberKind];

/** One validated send, ready for the wire. */
export interface PreparedSend {
  topic: string;
  kind: MemberKind;
  body: Buffer;
  flag: number;
  /** Encoded properties (UNIQ_KEY included). */
  properties: string;
  propertiesBytes: number;
  uniqId: string;
  /** Absolute time (ms since epoch) after which no attempt starts. */
  deadlineMs: number;
}

/** How a batch reaches the broker: the producer's queue selection, retries and fault avoidance. */
export interface BatchTransport {
  sendSingle(send: PreparedSend): Promise<SendResult>;
  /**
   * Resolves with the batch's result: comma-separated offsetMsgIds and the first queue offset, and each member's
   * queue and offset when the broker split the batch. `kinds` = the MemberKind bits of its members. Rejects with
   * SplitBatchRefusedError when a broker does not take such a batch.
   */
  sendBatch(topic: string, body: Buffer, deadlineMs: number, kinds: number): Promise<BatchAnswer>;
  /** Keeps the producer's shutdown waiting for `p`. */
  track(p: Promise<unknown>): void;
}

export interface BatchAnswer {
  result: SendResult;
  /** `memberQueues` of the answer (a split batch): each member's `queueId:queueOffset`. */
  memberQueues?: string | undefined;
}

export interface BatchLimits {
  bodyBytesMax: number;
  compressBodyBytesMin: number;
  sendTimeoutMs: number;
}

/**
 * The send as a batch member, or undefined when it must go alone: a fixed queue, selector, sharding key or
 * message group, a retry topic, or a body that will be compressed. Throws InvalidArgumentError for a bad message.
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
  // FIFO messages go alone: their queue is their group's.
  if (msg === null || typeof msg !== 'object' || msg.messageGroup !== undefined) return undefined;
  if (typeof msg.topic !== 'string' || isRetryTopic(msg.topic)) return undefined;
  // A reply goes alone, with SEND_REPLY_MESSAGE_V2.
  if (msg.properties !== undefined && msg.properties[Prop.msgType] === replyMessageFlag) return undefined;
  validateMessage(msg, limits.bodyBytesMax);
  const body = bodyBuffer(msg.body);
  if (body.length >= limits.compressBodyBytesMin) return undefined;
  const uniqId = msg.properties?.[Prop.uniqKey] ?? createUniqId();
  const properties = encodeMessageProperties(msg, uniqId);
  const propertiesBytes = Buffer.byteLength(properties);
  if (propertiesBytes > propertiesBytesMax) {
    throw new InvalidArgumentError(`message properties are over the limit of ${propertiesBytesMax} bytes`);
  }
  const kind =
    msg.properties?.[Prop.transactionPrepared] === 'true'
      ? MemberKind.prepared
      : isScheduledMessage(msg)
        ? MemberKind.scheduled
        : MemberKind.plain;
  return {
    topic: msg.topic,
    kind,
    body,
    flag: msg.flag ?? 0,
    properties,
    propertiesBytes,
    uniqId,
    deadlineMs: Date.now() + (options?.timeoutMs ?? limits.sendTimeoutMs),
  };
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
  /** MemberKind bits of the members. */
  kinds: number;
  /** The map holding it while open. */
  openIn: Map<string, OpenBatch>;
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
  /** Half messages' batches, apart: the header's PREPARED flag applies to every member. */
  private readonly openPrepared = new Map<string, OpenBatch>();
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
      const openIn = send.kind === MemberKind.prepared ? this.openPrepared : this.open;
      let b = openIn.get(send.topic);
      if (b !== undefined && b.bytes + entryBytes > this.maxBytes) {
        this.flush(b);
        b = undefined;
      }
      if (b === undefined) {
        b = { topic: send.topic, members: [], bytes: 0, kinds: 0, openIn };
        openIn.set(send.topic, b);
      }
      b.kinds |= send.kind;
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
    for (const b of [...this.openPrepared.values()]) this.flush(b);
  }

  private flush(b: OpenBatch): void {
    if (b.openIn.get(b.topic) === b) b.openIn.delete(b.topic);
    const members = b.members;
    const first = members[0] as Member;
    if (members.length === 1) {
      sendAlone(first);
      return;
    }
    let deadlineMs = Number.POSITIVE_INFINITY;
    for (const m of members) if (m.deadlineMs < deadlineMs) deadlineMs = m.deadlineMs;
    const p = first.transport.sendBatch(b.topic, encodeMembers(members, b.bytes), deadlineMs, b.kinds);
    p.then(
      (r) => settleMembers(members, r),
      (err: Error) => {
        // A broker that does not split batches (RocketMQ): each member as a send of its own.
        if (err instanceof SplitBatchRefusedError) for (const m of members) sendAlone(m);
        else for (const m of members) m.reject(err);
      },
    );
    // Every producer with a member in the batch waits for it at shutdown.
    first.transport.track(p);
    for (const m of members) if (m.transport !== first.transport) m.transport.track(p);
  }
}

function sendAlone(m: Member): void {
  const p = m.transport.sendSingle(m);
  p.then(m.resolve, m.reject);
  m.transport.track(p);
}

/** Lays the members out as a SEND_BATCH_MESSAGE body in one buffer. */
function encodeMembers(members: readonly Member[], totalBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(totalBytes);
  let p = 0;
  for (const m of members) {
    const size = batchEntryFixedBytes + m.body.length + m.propertiesBytes;
    buf.writeInt32BE(size, p);
    buf.writeInt32BE(0, p + 4); // magic: unused in batches
    buf.writeInt32BE(0, p + 8); // body CRC: the broker computes it
    buf.writeInt32BE(m.flag | 0, p + 12);
    buf.writeInt32BE(m.body.length, p + 16);
    p += 20;
    p += m.body.copy(buf, p);
    buf.writeUInt16BE(m.propertiesBytes, p);
    p += 2;
    p += buf.write(m.properties, p, m.propertiesBytes, 'utf8');
  }
  return buf;
}

function settleMembers(members: readonly Member[], answer: BatchAnswer): void {
  const r = answer.result;
  const ids = r.offsetMsgId.split(',');
  const first = r.queueOffset;
  const split = parseMemberQueues(answer.memberQueues);
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as Member;
    let mq = r.messageQueue;
    let queueOffset = first < 0n ? first : first + BigInt(i);
    if (split !== undefined) {
      // Members stored apart (delay, timer, half): each its own queue and offset, as when sent alone.
      const queueId = split.queueIds[i] ?? mq.queueId;
      if (queueId !== mq.queueId) mq = { topic: mq.topic, brokerName: mq.brokerName, queueId };
      queueOffset = split.queueOffsets[i] ?? -1n;
    }
    m.resolve(new SendResult(r.status, m.uniqId, ids[i] ?? '', mq, queueOffset, r.transactionId));
  }
}
