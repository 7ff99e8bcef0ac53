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
  readonly prefix: string;
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
  /** The handle decodePopped built: its queue's shared part and this message's offset. */
  builtQueue: QueueHandle | undefined;
  builtHandle = '';
  builtOffset = 0n;

  override get topic(): string {
    return (this.source as PopSource).topic;
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
  if (!(msg instanceof PoppedRecord)) return undefined;
  const q = msg.builtQueue;
  if (q === undefined || msg.receiptHandle !== msg.builtHandle) return undefined;
  return {
    ckOffset: q.ckOffset,
    popTimeMs: q.popTimeMs,
    invisibleTimeMs: q.invisibleTimeMs,
    reviveQid: q.reviveQid,
    retry: q.retry,
    brokerName: q.brokerName,
    queueId: q.queueId,
    queueOffset: msg.builtOffset,
  };
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
  const perQueue = new Map<string, { handle: QueueHandle | undefined; listed: string[] | undefined; seen: number }>();
  for (const m of msgs) {
    const source = m.sourceTopic;
    // A broker that rewrites revived messages (reconsumeTimes > 0) to their topic sets POP_CK itself (RocketMQ
    // does); first deliveries never carry one, so their properties stay undecoded here.
    const own = m.reconsumeTimes > 0 && !isRetryTopic(source) ? m.properties.get(Prop.popCk) : undefined;
    const mark: PopRetryMark = own === undefined ? retryMarkOf(source) : (own.split(' ')[4] as PopRetryMark);
    const key = infoKey(mark, m.queueId);
    let q = perQueue.get(key);
    if (q === undefined) {
      const ck = starts.get(key) ?? String(m.queueOffset);
      const prefix = `${ck}${handleHead}${mark} ${brokerName} ${m.queueId} `;
      const handle: QueueHandle | undefined = /^-?\d{1,19}$/.test(ck)
        ? {
            prefix,
            ckOffset: BigInt(ck),
            popTimeMs: answer.popTime,
            invisibleTimeMs: answer.invisibleTime,
            reviveQid: answer.reviveQid,
            retry: mark,
            brokerName,
            queueId: m.queueId,
          }
        : undefined;
      q = { handle, listed: offsets.get(key)?.split(','), seen: 0 };
      perQueue.set(key, q);
    }
    const listed = q.listed?.[q.seen];
    const queueOffset = listed ?? String(m.queueOffset);
    q.seen++;
    if (own !== undefined) m.receiptHandle = own;
    else {
      const text =
        (q.handle?.prefix ?? `${starts.get(key)}${handleHead}${mark} ${brokerName} ${m.queueId} `) + queueOffset;
      m.receiptHandle = text;
      if (q.handle !== undefined && (listed === undefined || /^\d{1,19}$/.test(listed))) {
        m.builtQueue = q.handle;
        m.builtHandle = text;
        m.builtOffset = listed === undefined ? m.queueOffset : BigInt(listed);
      }
    }
    if (counts !== undefined) {
      const count = Number(counts.get(infoKey(mark, m.queueId, BigInt(queueOffset))) ?? counts.get(key) ?? 0);
      if (count > 0) m.fifoCount = count;
    }
  }
  return msgs;
}
