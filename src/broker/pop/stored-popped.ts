/**
 * A message of a (non-FIFO) pop as read from the store: its record stays as stored in its read's one buffer,
 * and the MessageExt (with POP_CK and the popped topic) and the receipt handle are built only when asked for (the
 * gRPC endpoint asks; the remoting answer sends a first delivery's record unchanged, as RocketMQ's broker does, and
 * its clients build the handles from the answer's offset lists).
 */
import type { MessageExt } from '../../common/message.js';
import { Prop } from '../../common/properties.js';
import { decodeRecord, RecordPos } from '../../common/record.js';
import { buildExtraInfo, type ExtraInfo } from './extra-info.js';
import type { StashedRead } from './read-stash.js';
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

/** Records [first, end) of a read copied into one buffer (one allocation per read, shared by the pops it serves). */
export function storedPoppedOf(
  read: StashedRead,
  first: number,
  end: number,
  topic: string,
  ck: ExtraInfo,
): StoredPopped[] {
  const { buf, starts, queueOffsets } = read;
  const out: StoredPopped[] = [];
  for (let i = first; i < end; i++) {
    const at = starts[i] as number;
    out.push(
      new StoredPopped(buf, at, buf.readInt32BE(at + RecordPos.totalSize), topic, ck, queueOffsets[i] as bigint),
    );
  }
  return out;
}
