/**
 * The messages a transaction makes from a stored half message (RocketMQ's EndTransactionProcessor,
 * TransactionalMessageBridge, TransactionalMessageUtil): the committed message for its real topic, the op record
 * that marks a half message done, the re-put copy a check makes, and the CHECK_TRANSACTION_STATE body.
 */
import type { MessageExt } from '../../common/message.js';
import { SysFlag } from '../../common/message.js';
import { encodeProperties, keySeparator, Prop, scheduledPropNames } from '../../common/properties.js';
import { encodeRecord } from '../../common/record.js';
import { SystemTopic } from '../../common/topics.js';
import { tagsCodeOf } from '../filter/tag-filter.js';
import { messageInputOf } from '../put/message-input.js';
import { halfQueueId } from '../put/transaction-hook.js';
import type { PutMessage } from '../put/types.js';

/** Tags of an op record: the half message it names is done ("d", RocketMQ's REMOVETAG). */
export const opRemoveTag = 'd';

/** The real topic and queue a half message goes to on commit; undefined when the record is not a half message. */
export function realTargetOf(msg: MessageExt): { topic: string; queueId: number } | undefined {
  if (msg.topic !== SystemTopic.transHalf) return undefined;
  const topic = msg.properties.get(Prop.realTopic);
  const queueId = Number(msg.properties.get(Prop.realQueueId));
  if (topic === undefined || topic === '' || !Number.isInteger(queueId) || queueId < 0) return undefined;
  return { topic, queueId };
}

/** The half queue offset that first stored this message (copies made by checks carry it), else its own. */
export function originOffsetOf(msg: MessageExt): bigint {
  const v = msg.properties.get(Prop.tranPreparedQueueOffset);
  return v !== undefined && /^\d+$/.test(v) ? BigInt(v) : msg.queueOffset;
}

function keysOf(props: ReadonlyMap<string, string>): string[] | undefined {
  return props
    .get(Prop.keys)
    ?.split(keySeparator)
    .filter((k) => k !== '');
}

/**
 * The committed message: real topic and queue, REAL_* and TRAN_MSG removed, transaction type COMMIT,
 * PREPARED_TX_OFFSET = the half's CommitLog offset. `scheduled` is set from DELAY / timer properties so the put
 * hooks delay it as any other send.
 */
export function committedMessageOf(half: MessageExt, target: { topic: string; queueId: number }): PutMessage {
  const props = new Map(half.properties);
  props.delete(Prop.realTopic);
  props.delete(Prop.realQueueId);
  props.delete(Prop.transactionPrepared);
  // Fields set on the fresh object rather than spread into another: a turn's commits run this once per message.
  const m: PutMessage = messageInputOf(half, props, target.topic, target.queueId);
  m.sysFlag = (half.sysFlag & ~SysFlag.transactionRollbackType) | SysFlag.transactionCommitType;
  m.preparedTransactionOffset = half.commitLogOffset;
  m.transactionPrepared = false;
  m.scheduled = scheduledPropNames.some((p) => props.has(p));
  return m;
}

/**
 * The op record marking half queue offsets done: RMQ_SYS_TRANS_OP_HALF_TOPIC, the half's queue id, tags "d",
 * body = the offsets in decimal, comma-separated (RocketMQ 4.x writes one, 5.x a comma list).
 */
export function opRecordOf(halfOffsets: readonly bigint[], bornHost: string): PutMessage {
  const props = new Map([
    [Prop.tags, opRemoveTag],
    [Prop.waitStoreMsgOk, 'false'],
  ]);
  return {
    topic: SystemTopic.transOpHalf,
    queueId: halfQueueId,
    flag: 0,
    body: Buffer.from(halfOffsets.join(','), 'latin1'),
    properties: encodeProperties(props),
    sysFlag: 0,
    bornTimestamp: BigInt(Date.now()),
    bornHost,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: tagsCodeOf(opRemoveTag),
  };
}

/** The half queue offsets an op record's body names; malformed parts are skipped. */
export function opOffsetsOf(body: Buffer): bigint[] {
  const out: bigint[] = [];
  for (const part of body.toString('latin1').split(',')) {
    const s = part.trim();
    if (/^\d{1,19}$/.test(s)) out.push(BigInt(s));
  }
  return out;
}

/** The offsets an op record for this half message names: its own and, for a check's copy, the first one. */
export function offsetsToMarkDone(half: MessageExt): bigint[] {
  const origin = originOffsetOf(half);
  return origin === half.queueOffset ? [half.queueOffset] : [half.queueOffset, origin];
}

/**
 * The copy a check puts back at the end of the half queue (RocketMQ's putBackHalfMsgQueue):
 * TRANSACTION_CHECK_TIMES = `checkTimes`, TRAN_PREPARED_QUEUE_OFFSET = the first copy's offset, so an op record
 * for any copy of the message marks every copy done.
 */
export function checkCopyOf(half: MessageExt, checkTimes: number): PutMessage {
  const props = new Map(half.properties);
  props.set(Prop.transactionCheckTimes, String(checkTimes));
  props.set(Prop.tranPreparedQueueOffset, String(originOffsetOf(half)));
  return {
    topic: SystemTopic.transHalf,
    queueId: halfQueueId,
    flag: half.flag,
    body: half.body,
    properties: encodeProperties(props),
    sysFlag: half.sysFlag,
    bornTimestamp: half.bornTimestamp,
    bornHost: half.bornHost,
    reconsumeTimes: half.reconsumeTimes,
    preparedTransactionOffset: 0n,
    tagsCode: half.properties.has(Prop.tags) ? tagsCodeOf(half.properties.get(Prop.tags)) : 0n,
    keys: keysOf(props),
    uniqKey: props.get(Prop.uniqKey),
    transactionPrepared: true,
  };
}

/** CHECK_TRANSACTION_STATE body: the half message as a v1 record, its topic and queue the real ones. */
export function checkBodyOf(half: MessageExt, target: { topic: string; queueId: number }): Buffer {
  return encodeRecord(
    {
      topic: target.topic,
      queueId: target.queueId,
      flag: half.flag,
      body: half.body,
      properties: encodeProperties(half.properties),
      sysFlag: half.sysFlag,
      bornTimestamp: half.bornTimestamp,
      bornHost: half.bornHost,
      reconsumeTimes: half.reconsumeTimes,
      preparedTransactionOffset: half.preparedTransactionOffset,
    },
    half.queueOffset,
    half.commitLogOffset,
    half.storeTimestamp,
    half.storeHost,
  );
}
