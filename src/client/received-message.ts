/**
 * Messages as consumers receive them (RocketMQ's MessageExt seen through the client): body inflated, msgId =
 * UNIQ_KEY, and the original topic restored for messages redelivered through `%RETRY%<group>`.
 *
 * A pulled message is a view of the PULL response body: fields are read from the record bytes when first asked
 * for (properties, ids, hosts, BigInt offsets), so a consumer that only reads `body` pays for little else. The
 * body is a slice of the response, not a copy: a message kept alive keeps its response buffer alive.
 */
import { inspect } from 'node:util';
import { inflateSync } from 'node:zlib';
import { SysFlag } from '../common/message.js';
import { decodeProperties, keySeparator, Prop } from '../common/properties.js';
import { checkRecord, RecordFormatError, RecordPos, readHost } from '../common/record.js';

/** A consumed message. */
export interface ReceivedMessage {
  /** The topic the producer sent to (the original one for retried messages). */
  topic: string;
  /** Client id (UNIQ_KEY), or offsetMsgId when the producer set none. */
  msgId: string;
  /** Store host + commit log offset id. */
  offsetMsgId: string;
  body: Buffer;
  tags: string | undefined;
  keys: string[];
  properties: Map<string, string>;
  /** How many times it was delivered before (0 on the first delivery). */
  reconsumeTimes: number;
  brokerName: string;
  queueId: number;
  queueOffset: bigint;
  commitLogOffset: bigint;
  bornTimestamp: number;
  storeTimestamp: number;
  bornHost: string;
  storeHost: string;
  flag: number;
  sysFlag: number;
  /** Topic/queue the message was pulled from (`%RETRY%<group>` for retries). */
  sourceTopic: string;
}

/** Where a pull came from: shared by every message of one response. */
export interface PullSource {
  brokerName: string;
  /** `%RETRY%<group>` of a push consumer: only messages pulled from it get their original topic back. */
  retryTopic?: string | undefined;
}

const twoPow32 = 4294967296;

/** A record of a PULL (or POP) body, decoded on access (see the file comment). */
export class PulledMessage implements ReceivedMessage {
  private bodyView: Buffer | undefined;
  private props: Map<string, string> | undefined;
  private offset: bigint | undefined;
  private localReconsumeTimes: number | undefined;

  constructor(
    private readonly buf: Buffer,
    private readonly pos: number,
    protected readonly source: PullSource,
  ) {
    // Inflate now, so a corrupt compressed body fails at decode (the caller skips it) rather than in a handler.
    if ((this.sysFlag & SysFlag.compressed) !== 0) this.bodyView = inflateSync(this.rawBody());
  }

  get body(): Buffer {
    this.bodyView ??= this.rawBody();
    return this.bodyView;
  }

  get properties(): Map<string, string> {
    if (this.props === undefined) {
      const at = this.propsAt();
      this.props = decodeProperties(this.buf.toString('utf8', at + 2, at + 2 + this.buf.readInt16BE(at)));
    }
    return this.props;
  }

  get sourceTopic(): string {
    const at = this.topicAt();
    return this.buf.toString('utf8', at + 1, at + 1 + (this.buf[at] as number));
  }

  /** Whether the record's topic is `name` (its bytes), without decoding it. */
  protected sourceTopicIs(name: Buffer): boolean {
    const at = this.topicAt();
    const b = this.buf;
    if (b[at] !== name.length) return false;
    for (let i = 0; i < name.length; i++) if (b[at + 1 + i] !== name[i]) return false;
    return true;
  }

  get topic(): string {
    const source = this.sourceTopic;
    const original = this.properties.get(Prop.retryTopic);
    const retryTopic = this.source.retryTopic;
    return original !== undefined && (retryTopic === undefined || source === retryTopic) ? original : source;
  }

  get msgId(): string {
    return this.properties.get(Prop.uniqKey) ?? this.offsetMsgId;
  }

  get offsetMsgId(): string {
    const b = this.buf;
    const p = this.pos;
    const host = b.toString('hex', p + RecordPos.storeHost, p + RecordPos.storeHost + 8);
    return (host + b.toString('hex', p + RecordPos.physicalOffset, p + RecordPos.physicalOffset + 8)).toUpperCase();
  }

  get tags(): string | undefined {
    const tags = this.properties.get(Prop.tags);
    return tags === undefined || tags === '' ? undefined : tags;
  }

  get keys(): string[] {
    const keys = this.properties.get(Prop.keys);
    return keys === undefined ? [] : keys.split(keySeparator).filter((k) => k !== '');
  }

  get brokerName(): string {
    return this.source.brokerName;
  }

  get queueId(): number {
    return this.buf.readInt32BE(this.pos + RecordPos.queueId);
  }

  get queueOffset(): bigint {
    this.offset ??= this.buf.readBigInt64BE(this.pos + RecordPos.queueOffset);
    return this.offset;
  }

  get commitLogOffset(): bigint {
    return this.buf.readBigInt64BE(this.pos + RecordPos.physicalOffset);
  }

  get bornTimestamp(): number {
    return this.long(RecordPos.bornTimestamp);
  }

  get storeTimestamp(): number {
    return this.long(RecordPos.storeTimestamp);
  }

  get bornHost(): string {
    return readHost(this.buf, this.pos + RecordPos.bornHost);
  }

  get storeHost(): string {
    return readHost(this.buf, this.pos + RecordPos.storeHost);
  }

  get reconsumeTimes(): number {
    return this.localReconsumeTimes ?? this.buf.readInt32BE(this.pos + RecordPos.reconsumeTimes);
  }

  /** Orderly consumption counts its local retries here (RocketMQ's setReconsumeTimes). */
  set reconsumeTimes(n: number) {
    this.localReconsumeTimes = n;
  }

  get flag(): number {
    return this.buf.readInt32BE(this.pos + RecordPos.flag);
  }

  get sysFlag(): number {
    return this.buf.readInt32BE(this.pos + RecordPos.sysFlag);
  }

  /** Every field as a plain object (what JSON.stringify and console.log show). */
  toJSON(): ReceivedMessage {
    return {
      topic: this.topic,
      msgId: this.msgId,
      offsetMsgId: this.offsetMsgId,
      body: this.body,
      tags: this.tags,
      keys: this.keys,
      properties: this.properties,
      reconsumeTimes: this.reconsumeTimes,
      brokerName: this.brokerName,
      queueId: this.queueId,
      queueOffset: this.queueOffset,
      commitLogOffset: this.commitLogOffset,
      bornTimestamp: this.bornTimestamp,
      storeTimestamp: this.storeTimestamp,
      bornHost: this.bornHost,
      storeHost: this.storeHost,
      flag: this.flag,
      sysFlag: this.sysFlag,
      sourceTopic: this.sourceTopic,
    };
  }

  [inspect.custom](): ReceivedMessage {
    return this.toJSON();
  }

  /** A signed 64-bit field as a number (timestamps stay far below 2^53). */
  private long(at: number): number {
    return this.buf.readInt32BE(this.pos + at) * twoPow32 + this.buf.readUInt32BE(this.pos + at + 4);
  }

  private rawBody(): Buffer {
    const start = this.pos + RecordPos.body;
    return this.buf.subarray(start, start + this.buf.readInt32BE(this.pos + RecordPos.bodyLength));
  }

  private topicAt(): number {
    return this.pos + RecordPos.body + this.buf.readInt32BE(this.pos + RecordPos.bodyLength);
  }

  private propsAt(): number {
    const at = this.topicAt();
    return at + 1 + (this.buf[at] as number);
  }
}

/**
 * Splits a PULL response body into messages. Record structure (magic, sizes) is checked and a malformed body
 * throws RecordFormatError; BODYCRC is not (like RocketMQ's client: TCP already checksums the transfer, and the
 * broker checked it on write). A message whose compressed body does not inflate goes to `onUndecodable`.
 * `view` builds each message (a POP answer's messages are PulledMessage subclasses with a receipt handle).
 */
export function decodePulled<M extends ReceivedMessage = ReceivedMessage, S extends PullSource = PullSource>(
  body: Buffer,
  source: S,
  onUndecodable: (pos: number, err: unknown) => void,
  view: new (buf: Buffer, pos: number, source: S) => M = PulledMessage as unknown as new (
    buf: Buffer,
    pos: number,
    source: S,
  ) => M,
): M[] {
  const out: M[] = [];
  let pos = 0;
  while (pos < body.length) {
    const size = checkRecord(body, pos, false);
    if (typeof size === 'string') throw new RecordFormatError(`record at ${pos}: ${size}`);
    try {
      out.push(new view(body, pos, source));
    } catch (err) {
      onUndecodable(pos, err);
    }
    pos += size;
  }
  return out;
}
