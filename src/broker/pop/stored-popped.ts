/**
 * A message of a (non-FIFO) pop as read from the store: its record stays as stored in the pop's one answer buffer,
 * and the MessageExt (with POP_CK and the popped topic) and the receipt handle are built only when asked for (the
 * gRPC endpoint asks; the remoting answer sends a first delivery's record unchanged, as RocketMQ's broker does, and
 * its clients build the handles from the answer's offset lists).
 */
import type { MessageExt } from '../../common/message.js';
import { Prop } from '../../common/properties.js';
import { decodeRecord, RecordPos } from '../../common/record.js';
import { buildExtraInfo, type ExtraInfo } from './extra-info.js';
import type { PoppedMessage } from './types.js';

export class StoredPopped implements PoppedMessage {
  private decoded: MessageExt | undefined;
  private handleText: string | undefined;

  constructor(
    /** The pop's records of this queue, back to back (a copy: the store's read buffers are given back at once). */
    readonly buf: Buffer,
    readonly at: number,
    readonly storeSize: number,
    /** The popped topic (the original one also for a revived message). */
    private readonly topic: string,
    /** The check point's extra info (its queueOffset is not this message's). */
    private readonly ck: ExtraInfo,
    private readonly queueOffset: bigint,
  ) {}

  private get info(): ExtraInfo {
    return { ...this.ck, queueOffset: this.queueOffset };
  }

  /** A first delivery from the topic itself goes out as stored; a revived one under its original topic, re-encoded. */
  get asStored(): boolean {
    return !this.ck.retry && this.reconsumeTimes === 0;
  }

  get msg(): MessageExt {
    if (this.decoded === undefined) {
      const m = decodeRecord(this.buf, this.at).msg;
      m.properties.set(Prop.popCk, buildExtraInfo(this.info));
      m.topic = this.topic;
      this.decoded = m;
    }
    return this.decoded;
  }

  get handle(): string {
    this.handleText ??= `${buildExtraInfo(this.info)} ${this.buf.readBigInt64BE(this.at + RecordPos.physicalOffset)}`;
    return this.handleText;
  }

  get deliveryAttempt(): number {
    return this.reconsumeTimes + 1;
  }

  private get reconsumeTimes(): number {
    return this.buf.readInt32BE(this.at + RecordPos.reconsumeTimes);
  }
}

/** The records of a store read as one buffer (one allocation per popped queue) and where each starts. */
export function storedPoppedOf(
  parts: readonly Buffer[],
  topic: string,
  ck: ExtraInfo,
  queueOffsets: readonly bigint[],
): StoredPopped[] {
  const buf = Buffer.concat(parts);
  const out: StoredPopped[] = [];
  let at = 0;
  for (const queueOffset of queueOffsets) {
    const size = buf.readInt32BE(at + RecordPos.totalSize);
    out.push(new StoredPopped(buf, at, size, topic, ck, queueOffset));
    at += size;
  }
  return out;
}
