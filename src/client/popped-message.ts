/**
 * Messages a SimpleConsumer received (POP): the records of a POP_MESSAGE answer with their receipt handle (the
 * POP_CK extra info, built from the answer's offset lists as RocketMQ's MQClientAPIImpl.processPopResponse does)
 * and their delivery attempt. A message revived from the POP retry topic reports the topic it was popped for.
 */
import { Prop } from '../common/properties.js';
import { isRetryTopic } from '../common/topics.js';
import type { PopMessageResponseHeader } from '../remoting/protocol/pop.js';
import {
  infoKey,
  type PopExtraInfo,
  type PopRetryMark,
  parseInfoList,
  retryMarkOf,
} from '../remoting/protocol/pop-extra-info.js';
import { decodePulled, PulledMessage, type PullSource, type ReceivedMessage } from './received-message.js';

/** A message received by a SimpleConsumer: ack it, or change how long it stays invisible, by its handle. */
export interface PoppedMessage extends ReceivedMessage {
  /**
   * What ack() and changeInvisibleDuration() need (RocketMQ's POP_CK: checkpoint offset, pop time, invisible
   * duration, revive queue, retry mark, broker, queue, queue offset). changeInvisibleDuration() replaces it.
   */
  receiptHandle: string;
  /** 1 on the first delivery; one more each time it came back after its invisible duration ran out. */
  readonly deliveryAttempt: number;
}

interface PopSource extends PullSource {
  /** The topic popped (the original one, also for messages revived from the POP retry topic). */
  readonly topic: string;
}

/** What the handles of one queue of a POP answer share (parsed once per answer, not once per ack). */
interface QueueHandle {
  readonly ckOffset: bigint;
  readonly popTimeMs: number;
  readonly invisibleTimeMs: number;
  readonly reviveQid: number;
  readonly retry: PopRetryMark;
  readonly brokerName: string;
  readonly queueId: number;
}

class PoppedRecord extends PulledMessage implements PoppedMessage {
  receiptHandle = '';
  /** Delivery count the broker keeps for FIFO pops (orderCountInfo), else unset. */
  fifoCount: number | undefined;
  /** The handle decodePopped built: its queue's shared part and this message's offset (the record's if unset). */
  builtQueue: QueueHandle | undefined;
  builtHandle = '';
  builtOffsetText: string | undefined;

  override get topic(): string {
    return (this.source as PopSource).topic;
  }

  /** Whether the record is of the topic named by these bytes (no string decoded). */
  isOf(topicBytes: Buffer): boolean {
    return this.sourceTopicIs(topicBytes);
  }

  get deliveryAttempt(): number {
    return (this.fifoCount ?? this.reconsumeTimes) + 1;
  }

  override toJSON(): PoppedMessage {
    return { ...super.toJSON(), receiptHandle: this.receiptHandle, deliveryAttempt: this.deliveryAttempt };
  }
}

/**
 * What the receipt handle of `msg` says, without parsing it, while it is still the one decodePopped built (else
 * undefined: parse the text).
 */
export function builtHandleOf(msg: PoppedMessage): PopExtraInfo | undefined {
  const q = builtQueueOf(msg);
  if (q === undefined) return undefined;
  const m = msg as PoppedRecord;
  const text = m.builtOffsetText;
  let queueOffset: bigint;
  if (text === undefined) queueOffset = m.queueOffset;
  else if (offsetPattern.test(text)) queueOffset = BigInt(text);
  else return undefined;
  return {
    ckOffset: q.ckOffset,
    popTimeMs: q.popTimeMs,
    invisibleTimeMs: q.invisibleTimeMs,
    reviveQid: q.reviveQid,
    retry: q.retry,
    brokerName: q.brokerName,
    queueId: q.queueId,
    queueOffset,
  };
}

const offsetPattern = /^\d{1,19}$/;

/**
 * The handle parts `msg` shares with the other messages of its queue in one POP answer (one check point), while
 * its receipt handle is still the one decodePopped built; else undefined.
 */
export function checkPointOf(msg: PoppedMessage): object | undefined {
  return builtQueueOf(msg);
}

function builtQueueOf(msg: PoppedMessage): QueueHandle | undefined {
  if (!(msg instanceof PoppedRecord)) return undefined;
  const q = msg.builtQueue;
  return q === undefined || msg.receiptHandle !== msg.builtHandle ? undefined : q;
}

/**
 * The messages of a FOUND POP answer with handles; a string answer says what in the header is malformed.
 * `fifo`: the pop was FIFO, so orderCountInfo carries each message's delivery count.
 */
export function decodePopped(
  body: Buffer,
  topic: string,
  brokerName: string,
  answer: PopMessageResponseHeader,
  fifo: boolean,
  onUndecodable: (pos: number, err: unknown) => void,
): PoppedMessage[] | string {
  const starts = parseInfoList(answer.startOffsetInfo);
  if (typeof starts === 'string') return `startOffsetInfo: ${starts}`;
  const offsets = parseInfoList(answer.msgOffsetInfo);
  if (typeof offsets === 'string') return `msgOffsetInfo: ${offsets}`;
  const counts = fifo ? parseInfoList(answer.orderCountInfo) : undefined;
  if (typeof counts === 'string') return `orderCountInfo: ${counts}`;
  const msgs = decodePulled(body, { brokerName, topic }, onUndecodable, PoppedRecord);
  const handleHead = ` ${answer.popTime} ${answer.invisibleTime} ${answer.reviveQid} `;
  /** Per `<retry>@<queueId>`: the handle up to the queue offset, and how many of its messages came before. */
  const perQueue = new Map<string, PerQueue>();
  const topicBytes = Buffer.from(topic, 'utf8');
  const topicMark = retryMarkOf(topic);
  // Messages of one queue come one after another: the last queue's entry is reused without a key.
  let q: PerQueue | undefined;
  let lastMark: PopRetryMark | undefined;
  let lastQueueId = -1;
  for (const m of msgs) {
    const fromTopic = m.isOf(topicBytes);
    // A broker that rewrites revived messages (reconsumeTimes > 0) to their topic sets POP_CK itself (RocketMQ
    // does); first deliveries never carry one, so their properties stay undecoded here.
    const own =
      m.reconsumeTimes > 0 && !isRetryTopic(fromTopic ? topic : m.sourceTopic)
        ? m.properties.get(Prop.popCk)
        : undefined;
    const mark: PopRetryMark =
      own !== undefined ? (own.split(' ')[4] as PopRetryMark) : fromTopic ? topicMark : retryMarkOf(m.sourceTopic);
    const queueId = m.queueId;
    if (q === undefined || queueId !== lastQueueId || mark !== lastMark) {
      q = perQueueOf(perQueue, mark, queueId, m, starts, offsets, handleHead, brokerName, answer);
      lastQueueId = queueId;
      lastMark = mark;
    }
    const listed = q.listed?.[q.seen];
    q.seen++;
    if (own !== undefined) m.receiptHandle = own;
    else {
      const text = q.prefix + (listed ?? String(m.queueOffset));
      m.receiptHandle = text;
      if (q.handle !== undefined) {
        m.builtQueue = q.handle;
        m.builtHandle = text;
        m.builtOffsetText = listed;
      }
    }
    if (counts !== undefined) {
      const queueOffset = listed ?? String(m.queueOffset);
      const key = infoKey(mark, queueId);
      const count = Number(counts.get(infoKey(mark, queueId, BigInt(queueOffset))) ?? counts.get(key) ?? 0);
      if (count > 0) m.fifoCount = count;
    }
  }
  return msgs;
}

interface PerQueue {
  readonly handle: QueueHandle | undefined;
  /** The handle up to the queue offset (also when its check point offset is not a number: the ack fails clearly). */
  readonly prefix: string;
  readonly listed: string[] | undefined;
  seen: number;
}

function perQueueOf(
  perQueue: Map<string, PerQueue>,
  mark: PopRetryMark,
  queueId: number,
  m: PoppedRecord,
  starts: Map<string, string>,
  offsets: Map<string, string>,
  handleHead: string,
  brokerName: string,
  answer: PopMessageResponseHeader,
): PerQueue {
  const key = infoKey(mark, queueId);
  let q = perQueue.get(key);
  if (q === undefined) {
    const ck = starts.get(key) ?? String(m.queueOffset);
    const prefix = `${ck}${handleHead}${mark} ${brokerName} ${queueId} `;
    const handle: QueueHandle | undefined = /^-?\d{1,19}$/.test(ck)
      ? {
          ckOffset: BigInt(ck),
          popTimeMs: answer.popTime,
          invisibleTimeMs: answer.invisibleTime,
          reviveQid: answer.reviveQid,
          retry: mark,
          brokerName,
          queueId,
        }
      : undefined;
    q = { handle, prefix, listed: offsets.get(key)?.split(','), seen: 0 };
    perQueue.set(key, q);
  }
  return q;
}
