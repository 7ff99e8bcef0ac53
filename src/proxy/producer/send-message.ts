/**
 * SendMessage (RocketMQ's SendMessageActivity, local mode): the messages of one request share a topic and go to
 * one queue the proxy picks (queue-select.ts), through the broker's put pipeline, so delay/timer, half messages,
 * typed topics and the store's statuses are the remoting path's. One message is a put; several are a batch, stored
 * together in one queue. Each entry answers the client's message id (UNIQ_KEY), its queue offset, and for a
 * transactional message the transaction id EndTransaction gives back (the half's offsetMsgId).
 */
import type { Metadata } from '@grpc/grpc-js';
import { ipv4HostOf } from '../../broker/host.js';
import { isWriteable } from '../../broker/metadata/perm.js';
import { answerOfPutStatus } from '../../broker/put/put-status.js';
import { type PutMessage, PutRefusal } from '../../broker/put/types.js';
import { encodeRecallHandle } from '../../broker/timer/recall.js';
import { restrictedMessageTypeOf } from '../../common/topic-attributes.js';
import { isSystemTopic } from '../../common/topics.js';
import { ResponseCode } from '../../remoting/codes.js';
import { offsetMsgIdsOf } from '../../store/results.js';
import type { ProxyContext } from '../context.js';
import { Code, type Message, MessageType, type Status, status, timestampMsOf } from '../proto.js';
import { checkTopicResource } from '../resources.js';
import { statusOfResponse } from '../response-code.js';
import { topicForRoute } from '../route/query-route.js';
import { inboundMessageOf, messageTypeOfV2 } from './message-in.js';
import { queueForSend } from './queue-select.js';

export interface SendMessageRequest {
  messages: Message[];
}

export interface SendResultEntry {
  status: Status;
  messageId: string;
  transactionId: string;
  offset: string;
  recallHandle: string;
}

export interface SendMessageResponse {
  status: Status;
  entries: SendResultEntry[];
}

/** Messages one request may carry (RocketMQ's batch limit is by bytes; this bounds the per-entry work). */
export const sendBatchMessagesMax = 1024;

/** A DELAY message still ahead can be recalled (RecallMessage); others get no handle. */
function recallHandleOf(topic: string, brokerName: string, m: Message, messageId: string, nowMs: number): string {
  const deliverMs = timestampMsOf(m.systemProperties?.deliveryTimestamp);
  if (deliverMs === undefined || deliverMs <= nowMs) return '';
  return encodeRecallHandle({ topic, brokerName, deliverMs, messageId });
}

function refused(s: Status): SendMessageResponse {
  return { status: s, entries: [] };
}

export async function sendMessage(
  ctx: ProxyContext,
  req: SendMessageRequest,
  _metadata: Metadata,
  peer: string,
): Promise<SendMessageResponse> {
  const msgs = req.messages;
  const first = msgs[0];
  if (first === undefined) return refused(status(Code.MESSAGE_CORRUPTED, 'no message to send'));
  if (msgs.length > sendBatchMessagesMax) {
    return refused(
      status(Code.PAYLOAD_TOO_LARGE, `${msgs.length} messages in one request, max ${sendBatchMessagesMax}`),
    );
  }
  const bad = checkTopicResource(first.topic);
  if (bad !== undefined) return refused(bad);
  const topic = first.topic?.name as string;
  if (isSystemTopic(topic)) return refused(status(Code.ILLEGAL_TOPIC, `cannot send to system topic ${topic}`));
  const b = ctx.broker;
  if (!isWriteable(b.config.brokerPermission)) {
    return refused(status(Code.FORBIDDEN, `the broker[${b.config.brokerName}] sending message is forbidden`));
  }
  const tc = topicForRoute(b, topic);
  if (tc === undefined) return refused(status(Code.TOPIC_NOT_FOUND, b.topics.missingRemark(topic)));
  if (!isWriteable(tc.perm)) return refused(status(Code.FORBIDDEN, `the topic[${topic}] sending message is forbidden`));
  const type = messageTypeOfV2(first);
  const accepted = restrictedMessageTypeOf(tc.attributes);
  for (const m of msgs) {
    if (m.topic?.name !== topic)
      return refused(status(Code.MESSAGE_CORRUPTED, 'the messages of one request must share a topic'));
    const t = messageTypeOfV2(m);
    if (t !== type) return refused(status(Code.MESSAGE_CORRUPTED, `one request mixes ${type} and ${t} messages`));
  }
  if (accepted !== undefined && accepted !== type) {
    return refused(
      status(
        Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
        `the topic[${topic}] accepts ${accepted} messages only; this message is ${type} (topic attribute message.type)`,
      ),
    );
  }
  const writeQueues = Math.min(tc.writeQueueNums, tc.readQueueNums) || tc.writeQueueNums;
  const group = msgs.length === 1 ? (first.systemProperties?.messageGroup ?? undefined) : undefined;
  const queueId = queueForSend(group ?? undefined, writeQueues);
  const bornHost = ipv4HostOf(peer);
  const nowMs = Date.now();
  const puts: PutMessage[] = [];
  const ids: string[] = [];
  for (const m of msgs) {
    const inbound = inboundMessageOf(m, topic, queueId, bornHost, b.config.maxMessageSize, nowMs);
    if (!('put' in inbound)) return refused(inbound);
    const propBytes = Buffer.byteLength(inbound.put.properties);
    if (propBytes > b.config.maxPropertiesBytes) {
      return refused(
        status(
          Code.MESSAGE_PROPERTIES_TOO_LARGE,
          `message properties are ${propBytes} bytes, more than the ${b.config.maxPropertiesBytes} allowed`,
        ),
      );
    }
    puts.push(inbound.put);
    ids.push(inbound.messageId);
  }
  const readonly = b.store.readonlyReason();
  if (readonly !== undefined) return refused(statusOfResponse(ResponseCode.SERVICE_NOT_AVAILABLE, readonly));
  const putReq = { reconsumeTimes: 0, maxReconsumeTimes: undefined, batch: puts.length > 1 };
  const put = puts.length === 1 ? b.put.put(puts[0] as PutMessage, putReq) : b.put.putBatch(puts, putReq);
  if (put instanceof PutRefusal) {
    // The timer hook refuses a delivery time it cannot serve (beyond timerMaxDelaySec, timers off).
    const s = statusOfResponse(put.code, put.remark);
    return refused(
      type === MessageType.DELAY && put.code === ResponseCode.MESSAGE_ILLEGAL
        ? status(Code.ILLEGAL_DELIVERY_TIME, put.remark)
        : s,
    );
  }
  const result = await put;
  const answer = answerOfPutStatus(result.status, result.remark);
  if (!answer.stored) return refused(statusOfResponse(answer.code, answer.remark));
  b.stats.recordPut(topic, result.msgNum, result.wroteBytes);
  // Stored, possibly with a flush or replica timeout: each entry says so, as RocketMQ's per-entry statuses do.
  const entryStatus =
    answer.code === ResponseCode.SUCCESS ? status(Code.OK) : statusOfResponse(answer.code, answer.remark);
  const brokerName = b.config.brokerName;
  const offsetMsgIds = offsetMsgIdsOf(result);
  const entries: SendResultEntry[] = ids.map((messageId, i) => ({
    status: entryStatus,
    messageId,
    transactionId: type === MessageType.TRANSACTION ? (offsetMsgIds[i] ?? '') : '',
    offset: String(result.queueOffset + BigInt(i)),
    recallHandle: recallHandleOf(topic, brokerName, msgs[i] as Message, messageId, nowMs),
  }));
  return { status: entryStatus, entries };
}
