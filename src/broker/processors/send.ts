/**
 * SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320).
 * Bodies go to the store as sent (compressed stay compressed); only the properties string is parsed.
 */

import { SysFlag, transactionTypeOf } from '../../common/message.js';
import { pooledInt32Array } from '../../common/pooled-arrays.js';
import { keySeparator } from '../../common/properties.js';
import { isSendForbiddenTopic, retryTopicPrefix } from '../../common/topics.js';
import { checkTopicName } from '../../common/validate.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import {
  decodeSendHeader,
  decodeSendHeaderV2,
  isSendHeaderV2,
  type SendMessageRequestHeader as SendHeader,
} from '../../remoting/protocol/send.js';
import type { RemotingConnection } from '../../remoting/server.js';
import { PlainItem, plainItemFields } from '../../store/dispatch.js';
import { type PlainBatch, type PutResult, uniqKeyTextOf } from '../../store/types.js';
import type { BrokerContext } from '../context.js';
import { tagsCodeOf } from '../filter/tag-filter.js';
import { ipv4HostOf } from '../host.js';
import { isWriteable } from '../metadata/perm.js';
import { answerOfPutStatus } from '../put/put-status.js';
import { type PutMessage, PutRefusal } from '../put/types.js';
import { batchMessagesMax, forEachBatchItem, itemFixedBytes } from './batch-codec.js';
import { sendDeduped } from './send-dedup.js';
import { type ItemPropsScan, scanItemProps, scanItemPropsAt, scanViewFor, sendPropsOf } from './send-props.js';
import { answeredQueueId, sendResponse } from './send-response.js';
import { needsSplit, sendSplit } from './send-split-batch.js';
import { unsupportedSysFlag } from './send-sysflag.js';

let queuePick = 0;

export function sendMessageV1(ctx: BrokerContext, req: RemotingCommand, conn: RemotingConnection) {
  return send(ctx, req, conn, decodeSendHeader(req), false);
}

export function sendMessageV2(ctx: BrokerContext, req: RemotingCommand, conn: RemotingConnection) {
  return send(ctx, req, conn, decodeSendHeaderV2(req), false);
}

export function sendBatchMessage(ctx: BrokerContext, req: RemotingCommand, conn: RemotingConnection) {
  return send(ctx, req, conn, isSendHeaderV2(req) ? decodeSendHeaderV2(req) : decodeSendHeader(req), true);
}

async function send(
  ctx: BrokerContext,
  req: RemotingCommand,
  conn: RemotingConnection,
  h: SendHeader,
  batch: boolean,
): Promise<RemotingCommand> {
  const fail = (code: number, remark: string) => createResponse(req, code, remark);
  const c = ctx.config;
  if (!isWriteable(c.brokerPermission)) {
    return fail(ResponseCode.NO_PERMISSION, `the broker[${c.brokerName}] sending message is forbidden`);
  }
  const badName = checkTopicName(h.topic);
  if (badName !== undefined) return fail(ResponseCode.INVALID_PARAMETER, badName);
  if (isSendForbiddenTopic(h.topic)) {
    return fail(ResponseCode.NO_PERMISSION, `sending message to topic[${h.topic}] is forbidden: it is a system topic`);
  }
  // Once per request (a batch's items share the header's sysFlag), before a topic is auto-created for it.
  const badFlag = unsupportedSysFlag(h.sysFlag);
  if (badFlag !== undefined) return fail(ResponseCode.MESSAGE_ILLEGAL, badFlag);
  const topic = h.topic;
  let tc = ctx.topics.get(topic) ?? ctx.topics.createOnSend(topic, h.defaultTopic, h.defaultTopicQueueNums);
  // A client's fallback for a failed send-back; only a group's own retry topic, so their number stays bounded.
  if (tc === undefined && topic.startsWith(retryTopicPrefix)) {
    if (ctx.groups.findOrCreate(topic.slice(retryTopicPrefix.length)) !== undefined) {
      tc = ctx.topics.ensureTopic(topic, 1, 6);
    }
  }
  if (tc === undefined) return fail(ResponseCode.TOPIC_NOT_EXIST, ctx.topics.missingRemark(topic));
  // A topic this broker just made for a send: the answer waits until topics.json holds it.
  const unwritten = ctx.topics.unwritten(topic);
  if (unwritten !== undefined) {
    try {
      await unwritten;
    } catch (err) {
      return fail(
        ResponseCode.SYSTEM_ERROR,
        `topic ${topic} was created, but not yet written to disk (tried again at the next send): ${(err as Error).message}`,
      );
    }
  }
  if (!isWriteable(tc.perm))
    return fail(ResponseCode.NO_PERMISSION, `the topic[${topic}] sending message is forbidden`);
  let queueId = h.queueId;
  const queueNums = Math.min(tc.writeQueueNums, tc.readQueueNums) || tc.writeQueueNums;
  if (queueId >= queueNums) {
    return fail(
      ResponseCode.SYSTEM_ERROR,
      `queueId[${queueId}] is illegal, topic ${topic} has ${queueNums} write queues`,
    );
  }
  if (queueId < 0) queueId = queueNums > 0 ? queuePick++ % queueNums : 0;
  const body = req.body ?? Buffer.alloc(0);
  const born = ipv4HostOf(conn.remoteAddress);

  // A batch of plain messages (the common case) is stored from the request's bytes: no object per message.
  if (
    batch &&
    ctx.put.plainBatches &&
    tc.attributes === undefined &&
    transactionTypeOf(h.sysFlag) === SysFlag.transactionNotType &&
    !topic.startsWith(retryTopicPrefix)
  ) {
    const plain = plainBatchOf(ctx, body, topic, queueId, h, born);
    if (plain !== undefined) {
      const readonly = ctx.store.readonlyReason();
      if (readonly !== undefined) return fail(ResponseCode.SERVICE_NOT_AVAILABLE, readonly);
      const result = await ctx.put.putPlainBatch(plain);
      const answer = answerOfPutStatus(result.status, result.remark);
      if (!answer.stored) return fail(answer.code, answer.remark ?? 'send failed');
      ctx.stats.recordPut(topic, result.msgNum, result.wroteBytes);
      return sendResponse(ctx, req, answer, result.offsetMsgIdsText, queueId, result.queueOffset, true);
    }
  }

  let inputs: PutMessage[];
  // A batch with delayed, timer or half members (RocketMQ refuses it): send-split-batch.ts stores it.
  let split = false;
  if (batch) {
    const batchInputs: PutMessage[] = [];
    const bad = forEachBatchItem(body, (flag, itemBody, properties) => {
      const tooBig = checkSizes(ctx, itemBody.length, properties);
      if (tooBig === undefined) {
        const input = inputOf(topic, queueId, flag, itemBody, properties, h, born);
        if (!split && needsSplit(input)) split = true;
        batchInputs.push(input);
      }
      return tooBig;
    });
    if (bad !== undefined) return fail(ResponseCode.MESSAGE_ILLEGAL, bad);
    if (batchInputs.length === 0) return fail(ResponseCode.MESSAGE_ILLEGAL, 'batch body holds no message');
    inputs = batchInputs;
  } else {
    const bad = checkSizes(ctx, body.length, h.properties);
    if (bad !== undefined) return fail(ResponseCode.MESSAGE_ILLEGAL, bad);
    inputs = [inputOf(topic, queueId, h.flag, body, h.properties, h, born)];
  }
  const readonly = ctx.store.readonlyReason();
  if (readonly !== undefined) return fail(ResponseCode.SERVICE_NOT_AVAILABLE, readonly);

  // Producer de-duplication, opt-in per topic (an attribute): a topic without attributes pays one property read.
  const dedup = tc.attributes === undefined ? undefined : ctx.dedup.tableOf(topic);
  // De-duplication and the split path's hooks read UNIQ_KEY as a string (rare paths: decoded here).
  if (dedup !== undefined || split) for (const m of inputs) m.uniqKey ??= uniqKeyTextOf(m);
  if (dedup !== undefined) return sendDeduped(ctx, req, h, batch, inputs, queueId, dedup, split);
  if (split) return sendSplit(ctx, req, inputs, h, queueId);

  // The put hooks may rewrite the topic and queue (retry past its max → DLQ) or refuse the message.
  const first = inputs[0] as PutMessage;
  const put = batch ? ctx.put.putBatch(inputs, h) : ctx.put.put(first, h);
  if (put instanceof PutRefusal) return fail(put.code, put.remark);
  const result: PutResult = await put;
  const answer = answerOfPutStatus(result.status, result.remark);
  if (!answer.stored) return fail(answer.code, answer.remark ?? 'send failed');
  ctx.stats.recordPut(first.topic, result.msgNum, result.wroteBytes);
  // RocketMQ answers the offsetMsgId(s) here; the client keeps its own UNIQ_KEY as SendResult.msgId.
  const msgId = result.offsetMsgIdsText;
  return sendResponse(ctx, req, answer, msgId, answeredQueueId(first, queueId), result.queueOffset);
}

/**
 * A SEND_BATCH_MESSAGE body as a PlainBatch (its items as places in `body`), or undefined when an item is not plain
 * (TRAN_MSG, REPLY_TO_CLIENT, DELAY or a timer property, a non-ASCII UNIQ_KEY) or anything is wrong with the body or
 * an item's sizes: the general path then decodes it again and answers as before. The items are walked here with
 * `forEachBatchItemAt`'s checks (any failing one declines the batch), not through its callback: a closure made per
 * batch and called per item, which the optimizing compiler did not inline.
 */
export function plainBatchOf(
  ctx: BrokerContext,
  body: Buffer,
  topic: string,
  queueId: number,
  h: SendHeader,
  bornHost: string,
): PlainBatch | undefined {
  let items = pooledInt32Array(64 * plainItemFields);
  let keys: (string[] | undefined)[] | undefined;
  const maxBody = ctx.config.maxMessageSize;
  const maxProps = ctx.config.maxPropertiesBytes;
  const v = scanViewFor(body);
  const length = body.length;
  let count = 0;
  let pos = 0;
  while (pos < length) {
    if (count >= batchMessagesMax || length - pos < itemFixedBytes) return undefined;
    const total = v.getInt32(pos);
    if (total < itemFixedBytes || pos + total > length) return undefined;
    const flag = v.getInt32(pos + 12);
    const bodyLen = v.getInt32(pos + 16);
    const bodyAt = pos + 20;
    if (bodyLen < 0 || bodyAt + bodyLen + 2 > pos + total) return undefined;
    const propLen = v.getUint16(bodyAt + bodyLen);
    const propAt = bodyAt + bodyLen + 2;
    if (propAt + propLen !== pos + total) return undefined;
    if (bodyLen > maxBody || propLen > maxProps) return undefined;
    const scan = scanItemPropsAt(body, propAt, propAt + propLen);
    if (scan.tranMsg !== undefined || scan.replyTo || scan.scheduled || scan.uniqKey !== undefined) return undefined;
    const f = count * plainItemFields;
    if (f + plainItemFields > items.length) {
      const grown = pooledInt32Array(items.length * 2);
      grown.set(items);
      items = grown;
    }
    items[f + PlainItem.bodyAt] = bodyAt;
    items[f + PlainItem.bodyLen] = bodyLen;
    items[f + PlainItem.propAt] = propAt;
    items[f + PlainItem.propLen] = propLen;
    items[f + PlainItem.flag] = flag;
    items[f + PlainItem.uniqAt] = scan.uniqKeyAt;
    items[f + PlainItem.uniqEnd] = scan.uniqKeyEnd;
    items[f + PlainItem.uniqHash] = scan.uniqKeyHash;
    items[f + PlainItem.tagHash] = scan.tagsHash;
    const k = keyListOf(scan.keys);
    if (k !== undefined) {
      keys ??= [];
      keys[count] = k;
    }
    count++;
    pos += total;
  }
  if (count === 0) return undefined;
  if (keys !== undefined) keys.length = count;
  return {
    topic,
    queueId,
    buf: body,
    count,
    items,
    keys,
    sysFlag: h.sysFlag,
    bornTimestamp: h.bornTimestamp,
    bornHost,
    reconsumeTimes: h.reconsumeTimes,
  };
}

export function checkSizes(ctx: BrokerContext, bodyBytes: number, properties: string | Buffer): string | undefined {
  if (bodyBytes > ctx.config.maxMessageSize) {
    return `message body is ${bodyBytes} bytes, more than the ${ctx.config.maxMessageSize} allowed`;
  }
  const propBytes = Buffer.byteLength(properties);
  if (propBytes > ctx.config.maxPropertiesBytes) {
    return `message properties are ${propBytes} bytes, more than the ${ctx.config.maxPropertiesBytes} allowed`;
  }
  return undefined;
}

export function inputOf(
  topic: string,
  queueId: number,
  flag: number,
  body: Buffer,
  properties: string | Buffer,
  h: SendHeader,
  bornHost: string,
): PutMessage {
  if (typeof properties === 'string') {
    return putInputOf(topic, queueId, flag, body, properties, h, bornHost, sendPropsOf(properties), undefined);
  }
  // A batch item's ASCII UNIQ_KEY stays bytes (its place in the properties), hashed during the scan. The scan object
  // is shared: putInputOf reads it before the next item's scan overwrites it.
  const scan = scanItemProps(properties);
  return putInputOf(topic, queueId, flag, body, properties, h, bornHost, scan, scan.uniqKeyAt < 0 ? undefined : scan);
}

/** What the put input takes from a message's properties: a string's SendProps or a batch item's scan. */
interface PropsSeen {
  readonly tags: string | undefined;
  readonly keys: string | undefined;
  readonly uniqKey: string | undefined;
  readonly tranMsg?: string | undefined;
  readonly replyTo?: boolean;
  readonly scheduled?: boolean;
}

/** The one put-input literal (one object shape on the put path); `uniqBytes`: the UNIQ_KEY's place in `properties`. */
function putInputOf(
  topic: string,
  queueId: number,
  flag: number,
  body: Buffer,
  properties: string | Buffer,
  h: SendHeader,
  bornHost: string,
  p: PropsSeen,
  uniqBytes: ItemPropsScan | undefined,
): PutMessage {
  const tranMsg = p.tranMsg;
  return {
    topic,
    queueId,
    flag,
    body,
    properties,
    sysFlag: h.sysFlag,
    bornTimestamp: h.bornTimestamp,
    bornHost,
    reconsumeTimes: h.reconsumeTimes,
    preparedTransactionOffset: 0n,
    tagsCode: tagsCodeOf(p.tags),
    keys: keyListOf(p.keys),
    uniqKey: p.uniqKey,
    uniqKeyBytes: uniqBytes === undefined ? undefined : (properties as Buffer),
    uniqKeyAt: uniqBytes?.uniqKeyAt,
    uniqKeyEnd: uniqBytes?.uniqKeyEnd,
    uniqKeyHash: uniqBytes?.uniqKeyHash,
    transactionPrepared: tranMsg !== undefined && tranMsg.toLowerCase() === 'true',
    scheduled: p.scheduled === true,
    replyRequest: p.replyTo === true,
  };
}

function keyListOf(keys: string | undefined): string[] | undefined {
  return keys === undefined || keys === '' ? undefined : keys.split(keySeparator).filter((k) => k !== '');
}
