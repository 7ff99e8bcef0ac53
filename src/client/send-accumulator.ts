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
import { Prop, propertySeparator, replyMessageFlag } from '../common/properties.js';
import { isRetryTopic } from '../common/topics.js';
import { parseMemberQueues } from '../remoting/protocol/send.js';
import {
  batchEntryFixedBytes,
  copyGeneratedId,
  generatedIdBytes,
  type IdTail,
  idTailOf,
  viewOf,
  writeEntry,
} from './batch.js';
import { takeBatchBuffer } from './batch-buffers.js';
import { SplitBatchRefusedError } from './errors.js';
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

/** What a batch member is: bits of the batch's `kinds` (the header the batch needs, and the broker's split). */
export const MemberKind = { plain: 0, scheduled: 1, prepared: 2 } as const;
export type MemberKind = (typeof MemberKind)[keyof typeof MemberKind];

/** One validated send, ready for the wire. */
export interface PreparedSend {
  topic: string;
  kind: MemberKind;
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
  /**
   * Resolves with the batch's result: comma-separated offsetMsgIds and the first queue offset, and each member's
   * queue and offset when the broker split the batch. `kinds` = the MemberKind bits of its members. Rejects with
   * SplitBatchRefusedError when a broker does not take such a batch. `body` is from takeBatchBuffer: the transport
   * gives it back when it knows no socket will read it again.
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
  const kind =
    msg.properties?.[Prop.transactionPrepared] === 'true'
      ? MemberKind.prepared
      : isScheduledMessage(msg)
        ? MemberKind.scheduled
        : MemberKind.plain;
  // Built with a Member's fields (set by SendAccumulator.add): adding them later would move them out of the object.
  const send: Member = {
    topic: msg.topic,
    kind,
    body,
    flag: msg.flag ?? 0,
    properties,
    propertiesBytes,
    uniqId,
    deadlineMs: Date.now() + (options?.timeoutMs ?? limits.sendTimeoutMs),
    transport: unattached,
    resolve: unattached.settle,
    reject: unattached.settle,
  };
  return send;
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

/** A prepared send's transport until SendAccumulator.add gives it its producer's. */
const unattached = {
  sendSingle: () => Promise.reject(new InvalidArgumentError('send not added to an accumulator')),
  sendBatch: () => Promise.reject(new InvalidArgumentError('send not added to an accumulator')),
  track: () => undefined,
  settle: () => undefined,
} as const;

/** The resolving functions of the promise add() just made: one executor for all, no closure per send. */
let capturedResolve: (r: SendResult) => void = unattached.settle;
let capturedReject: (err: Error) => void = unattached.settle;
function capture(resolve: (r: SendResult) => void, reject: (err: Error) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
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
    const promise = new Promise<SendResult>(capture);
    const m = send as Member;
    m.transport = transport;
    m.resolve = capturedResolve;
    m.reject = capturedReject;
    try {
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
    } catch (err) {
      // As a throw in a promise executor: the send's own promise rejects.
      m.reject(err instanceof Error ? err : new InvalidArgumentError(String(err)));
    }
    return promise;
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
        if (err instanceof SplitBatchRefusedError) for (const m of members) sendAlone(withGeneratedId(m));
        else for (const m of members) m.reject(err);
      },
    );
    // Every producer with a member in the batch waits for it at shutdown.
    first.transport.track(p);
    for (const m of members) if (m.transport !== first.transport) m.transport.track(p);
  }
}

function sendAlone(m: Member): void {
  completeProperties(m);
  const p = m.transport.sendSingle(m);
  p.then(m.resolve, m.reject);
  m.transport.track(p);
}

/**
 * A member of a refused batch, sent alone: its properties get the UNIQ_KEY the batch's encoding generated as bytes
 * (a member whose properties are only the head counts those bytes in propertiesBytes).
 */
function withGeneratedId(m: Member): Member {
  if (Buffer.byteLength(m.properties) < m.propertiesBytes) {
    m.properties = m.properties + uniqIdPrefix + m.uniqId + propertySeparator;
  }
  return m;
}

/**
 * Lays the members out as a SEND_BATCH_MESSAGE body in one buffer, generating the UNIQ_KEYs still missing as bytes
 * there; their strings are slices of one string of all of them.
 */
function encodeMembers(members: readonly Member[], totalBytes: number): Buffer {
  // Given back by the producer once answered (BatchTransport.sendBatch).
  const buf = takeBatchBuffer(totalBytes);
  const view = viewOf(buf);
  let idTail: IdTail | undefined;
  let ids: Buffer | undefined;
  let p = 0;
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as Member;
    if (m.uniqId !== '') {
      p = writeEntry(buf, view, p, m.body, m.flag, m.properties, m.propertiesBytes, undefined);
      continue;
    }
    idTail ??= idTailOf(Date.now());
    p = writeEntry(buf, view, p, m.body, m.flag, m.properties, m.propertiesBytes, idTail);
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

function settleMembers(members: readonly Member[], answer: BatchAnswer): void {
  const r = answer.result;
  const ids = r.offsetMsgId.split(',');
  const split = parseMemberQueues(answer.memberQueues);
  // Member i holds the batch's first offset + i (-1 for all when the broker gave none), unless the broker stored
  // the members apart (delay, timer, half): then each has its own queue and offset, as when sent alone.
  const known = r.queueOffset >= 0n;
  let offset = r.queueOffset;
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as Member;
    let mq = r.messageQueue;
    let queueOffset = offset;
    if (split !== undefined) {
      const queueId = split.queueIds[i] ?? mq.queueId;
      if (queueId !== mq.queueId) mq = { topic: mq.topic, brokerName: mq.brokerName, queueId };
      queueOffset = split.queueOffsets[i] ?? -1n;
    }
    m.resolve(new SendResult(r.status, m.uniqId, ids[i] ?? '', mq, queueOffset, r.transactionId));
    if (known) offset += 1n;
  }
}
