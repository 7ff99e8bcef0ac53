/**
 * Typed RocketMQ requests a client sends (RocketMQ's MQClientAPIImpl): each builds the request header fields
 * of the matching RocketMQ header class, invokes it, and turns the response into a value or a thrown error.
 */

import { parseTolerantJson } from '../common/json.js';
import { SystemTopic } from '../common/topics.js';
import type { RemotingClient } from '../remoting/client.js';
import { RequestCode, ResponseCode } from '../remoting/codes.js';
import { createRequest, type RemotingCommand, SerializeType } from '../remoting/command.js';
import { RemotingResponseError } from '../remoting/errors.js';
import { encodeConsumerGroupHeader, encodeUnregisterClientHeader } from '../remoting/protocol/clients.js';
import {
  decodeLockBatchResponse,
  encodeLockBatchBody,
  type LockBatchBody,
  type LockQueue,
} from '../remoting/protocol/lock.js';
import {
  decodeOffsetResponseHeader,
  encodeQueryConsumerOffsetHeader,
  encodeQueueHeader,
  encodeSearchOffsetHeader,
  encodeUpdateConsumerOffsetHeader,
} from '../remoting/protocol/offsets.js';
import {
  decodePullResponseHeader,
  encodePullHeader,
  type PullMessageRequestHeader,
} from '../remoting/protocol/pull.js';
import {
  decodeSendResponseHeader,
  defaultTopicQueueNumsDefault,
  encodeSendHeaderV2,
  type SendMessageHeaderInput,
} from '../remoting/protocol/send.js';
import { encodeSendMsgBackHeader } from '../remoting/protocol/send-back.js';
import { encodeTopicHeader } from '../remoting/protocol/topic-admin.js';
import { type EndTransactionRequestHeader, encodeEndTransactionHeader } from '../remoting/protocol/transaction.js';
import { LockResponseError } from './errors.js';
import type { HeartbeatData } from './heartbeat.js';
import { parseTopicRoute, type TopicRouteData } from './route.js';
import type { SubscriptionData } from './subscription.js';

/** Topic whose route a producer borrows for a topic that does not exist yet (the broker auto-creates it). */
export const defaultTopic = SystemTopic.autoCreate;
export const defaultTopicQueueNums = defaultTopicQueueNumsDefault;
/**
 * Send and pull go out with the ROCKETMQ binary header (RocketMQ brokers accept both; the answer comes in the
 * same type): no JSON encode/parse of headers on either side of the hot paths.
 */
const hotPathSerializeType = SerializeType.rocketmq;

/** Outcome of a stored send, as RocketMQ names it. */
export const SendStatus = {
  SEND_OK: 'SEND_OK',
  FLUSH_DISK_TIMEOUT: 'FLUSH_DISK_TIMEOUT',
  FLUSH_SLAVE_TIMEOUT: 'FLUSH_SLAVE_TIMEOUT',
  SLAVE_NOT_AVAILABLE: 'SLAVE_NOT_AVAILABLE',
} as const;
export type SendStatus = (typeof SendStatus)[keyof typeof SendStatus];

const sendStatusByCode: ReadonlyMap<number, SendStatus> = new Map([
  [ResponseCode.SUCCESS, SendStatus.SEND_OK],
  [ResponseCode.FLUSH_DISK_TIMEOUT, SendStatus.FLUSH_DISK_TIMEOUT],
  [ResponseCode.FLUSH_SLAVE_TIMEOUT, SendStatus.FLUSH_SLAVE_TIMEOUT],
  [ResponseCode.SLAVE_NOT_AVAILABLE, SendStatus.SLAVE_NOT_AVAILABLE],
]);

/** SEND_MESSAGE_V2 header (SendMessageRequestHeaderV2: short field names a…n; src/remoting/protocol/send.ts). */
export type SendHeader = SendMessageHeaderInput & { brokerName: string };

export interface SendResponse {
  status: SendStatus;
  /** offsetMsgId(s) the broker assigned (comma-separated for a batch). */
  offsetMsgId: string;
  queueId: number;
  queueOffset: bigint;
  transactionId: string | undefined;
  /** A batch the broker stored in several queues (tsrocket): each member's `queueId:queueOffset`. */
  memberQueues?: string | undefined;
}

/** PULL_MESSAGE outcome (PullStatus). */
export const PullStatus = {
  FOUND: 'FOUND',
  NO_NEW_MSG: 'NO_NEW_MSG',
  NO_MATCHED_MSG: 'NO_MATCHED_MSG',
  OFFSET_ILLEGAL: 'OFFSET_ILLEGAL',
} as const;
export type PullStatus = (typeof PullStatus)[keyof typeof PullStatus];

/** PULL_MESSAGE header (src/remoting/protocol/pull.ts). */
export type PullHeader = PullMessageRequestHeader;

export interface PullResponse {
  status: PullStatus;
  nextBeginOffset: bigint;
  minOffset: bigint;
  maxOffset: bigint;
  suggestWhichBrokerId: number;
  /** The stored records as the broker sent them (FOUND only): decode with `decodePulled`. */
  body: Buffer | undefined;
}

const pullStatusByCode: ReadonlyMap<number, PullStatus> = new Map([
  [ResponseCode.SUCCESS, PullStatus.FOUND],
  [ResponseCode.PULL_NOT_FOUND, PullStatus.NO_NEW_MSG],
  [ResponseCode.PULL_RETRY_IMMEDIATELY, PullStatus.NO_MATCHED_MSG],
  [ResponseCode.PULL_OFFSET_MOVED, PullStatus.OFFSET_ILLEGAL],
]);

function expectSuccess(resp: RemotingCommand, context: string): void {
  if (resp.code !== ResponseCode.SUCCESS) throw RemotingResponseError.of(resp, context);
}

export class ClientApi {
  private nameServerIndex = 0;

  constructor(
    readonly remoting: RemotingClient,
    readonly nameServers: readonly string[],
    readonly timeoutMs: number,
  ) {}

  /** GET_ROUTEINFO_BY_TOPIC on the name servers, one after another until one answers; undefined on 17. */
  async getTopicRoute(topic: string): Promise<TopicRouteData | undefined> {
    let lastErr: unknown;
    for (let i = 0; i < this.nameServers.length; i++) {
      const addr = this.nameServers[(this.nameServerIndex + i) % this.nameServers.length] as string;
      try {
        const resp = await this.remoting.invoke(
          addr,
          createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, encodeTopicHeader({ topic })),
          this.timeoutMs,
        );
        this.nameServerIndex = (this.nameServerIndex + i) % this.nameServers.length;
        if (resp.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
        expectSuccess(resp, `route of topic ${topic} from ${addr}`);
        if (resp.body === undefined) return undefined;
        return parseTopicRoute(resp.body);
      } catch (err) {
        if (err instanceof RemotingResponseError) throw err;
        lastErr = err;
      }
    }
    throw lastErr;
  }

  /** SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE; `oneway` resolves once written with no result. */
  async send(
    addr: string,
    h: SendHeader,
    body: Buffer,
    timeoutMs: number,
    oneway = false,
    reply = false,
  ): Promise<SendResponse | undefined> {
    const code = reply
      ? RequestCode.SEND_REPLY_MESSAGE_V2
      : h.batch
        ? RequestCode.SEND_BATCH_MESSAGE
        : RequestCode.SEND_MESSAGE_V2;
    const req = createRequest(code, undefined, body);
    req.extFields = encodeSendHeaderV2(h);
    req.serializeType = hotPathSerializeType;
    if (oneway) {
      await this.remoting.invokeOneway(addr, req);
      return undefined;
    }
    const resp = await this.remoting.invoke(addr, req, timeoutMs);
    const status = sendStatusByCode.get(resp.code);
    if (status === undefined) throw RemotingResponseError.of(resp, `send to ${h.brokerName} (${addr})`);
    const r = decodeSendResponseHeader(resp);
    return {
      status,
      offsetMsgId: r.msgId ?? '',
      queueId: r.queueId ?? h.queueId,
      queueOffset: r.queueOffset ?? -1n,
      transactionId: r.transactionId,
      memberQueues: r.memberQueues,
    };
  }

  /** PULL_MESSAGE; codes 0/19/20/21 become statuses, anything else throws. */
  async pull(addr: string, h: PullHeader, timeoutMs: number): Promise<PullResponse> {
    const req = createRequest(RequestCode.PULL_MESSAGE);
    req.extFields = encodePullHeader(h);
    req.serializeType = hotPathSerializeType;
    const resp = await this.remoting.invoke(addr, req, timeoutMs);
    const status = pullStatusByCode.get(resp.code);
    if (status === undefined) throw RemotingResponseError.of(resp, `pull ${h.topic}:${h.queueId} from ${addr}`);
    const r = decodePullResponseHeader(resp);
    return {
      status,
      nextBeginOffset: r.nextBeginOffset ?? h.queueOffset,
      minOffset: r.minOffset ?? 0n,
      maxOffset: r.maxOffset ?? 0n,
      suggestWhichBrokerId: r.suggestWhichBrokerId ?? 0,
      body: status === PullStatus.FOUND ? resp.body : undefined,
    };
  }

  /** QUERY_CONSUMER_OFFSET; undefined when the broker has none (22 QUERY_NOT_FOUND). */
  async queryConsumerOffset(addr: string, group: string, topic: string, queueId: number): Promise<bigint | undefined> {
    const req = createRequest(
      RequestCode.QUERY_CONSUMER_OFFSET,
      encodeQueryConsumerOffsetHeader({ consumerGroup: group, topic, queueId }),
    );
    const resp = await this.remoting.invoke(addr, req, this.timeoutMs);
    if (resp.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
    expectSuccess(resp, `query offset of ${group} ${topic}:${queueId}`);
    const offset = decodeOffsetResponseHeader(resp) ?? -1n;
    return offset < 0n ? undefined : offset;
  }

  /** UPDATE_CONSUMER_OFFSET, awaiting the broker's answer. */
  async updateConsumerOffset(
    addr: string,
    group: string,
    topic: string,
    queueId: number,
    offset: bigint,
  ): Promise<void> {
    const req = createRequest(
      RequestCode.UPDATE_CONSUMER_OFFSET,
      encodeUpdateConsumerOffsetHeader({ consumerGroup: group, topic, queueId, commitOffset: offset }),
    );
    expectSuccess(
      await this.remoting.invoke(addr, req, this.timeoutMs),
      `commit offset of ${group} ${topic}:${queueId}`,
    );
  }

  async getMaxOffset(addr: string, topic: string, queueId: number): Promise<bigint> {
    return this.offsetQuery(addr, RequestCode.GET_MAX_OFFSET, encodeQueueHeader({ topic, queueId }), 'max offset');
  }

  async getMinOffset(addr: string, topic: string, queueId: number): Promise<bigint> {
    return this.offsetQuery(addr, RequestCode.GET_MIN_OFFSET, encodeQueueHeader({ topic, queueId }), 'min offset');
  }

  /** SEARCH_OFFSET_BY_TIMESTAMP: the first offset stored at or after `timestampMs`. */
  async searchOffset(addr: string, topic: string, queueId: number, timestampMs: number): Promise<bigint> {
    const fields = encodeSearchOffsetHeader({ topic, queueId, timestamp: timestampMs });
    return this.offsetQuery(addr, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, fields, 'offset by time');
  }

  private async offsetQuery(addr: string, code: number, fields: Record<string, string>, what: string): Promise<bigint> {
    const resp = await this.remoting.invoke(addr, createRequest(code, fields), this.timeoutMs);
    expectSuccess(resp, `${what} of ${fields['topic']}:${fields['queueId']}`);
    return decodeOffsetResponseHeader(resp) ?? 0n;
  }

  /** GET_CONSUMER_LIST_BY_GROUP: client ids of the group's live members. */
  async getConsumerIds(addr: string, group: string): Promise<string[]> {
    const resp = await this.remoting.invoke(
      addr,
      createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, encodeConsumerGroupHeader({ consumerGroup: group })),
      this.timeoutMs,
    );
    expectSuccess(resp, `consumer list of ${group}`);
    if (resp.body === undefined || resp.body.length === 0) return [];
    const parsed = parseTolerantJson(resp.body.toString('utf8')) as { consumerIdList?: unknown } | null;
    const ids = parsed?.consumerIdList;
    return Array.isArray(ids) ? ids.map(String) : [];
  }

  /** CHECK_CLIENT_CONFIG (46): asks the broker whether it serves a subscription; throws its refusal. */
  async checkClientConfig(addr: string, clientId: string, group: string, sub: SubscriptionData): Promise<void> {
    const body = Buffer.from(JSON.stringify({ clientId, group, subscriptionData: sub }));
    const req = createRequest(RequestCode.CHECK_CLIENT_CONFIG, undefined, body);
    expectSuccess(await this.remoting.invoke(addr, req, this.timeoutMs), `check client config at ${addr}`);
  }

  async heartbeat(addr: string, data: HeartbeatData): Promise<void> {
    const req = createRequest(RequestCode.HEART_BEAT, undefined, Buffer.from(JSON.stringify(data)));
    expectSuccess(await this.remoting.invoke(addr, req, this.timeoutMs), `heartbeat to ${addr}`);
  }

  /** END_TRANSACTION, oneway as RocketMQ's clients send it; resolves once written. */
  async endTransactionOneway(addr: string, h: EndTransactionRequestHeader): Promise<void> {
    const req = createRequest(RequestCode.END_TRANSACTION, encodeEndTransactionHeader(h));
    // One per transactional send: the binary header, as the send it follows (RocketMQ brokers read both types).
    req.serializeType = hotPathSerializeType;
    await this.remoting.invokeOneway(addr, req);
  }

  async unregisterClient(
    addr: string,
    clientId: string,
    producerGroup?: string,
    consumerGroup?: string,
  ): Promise<void> {
    const req = createRequest(
      RequestCode.UNREGISTER_CLIENT,
      encodeUnregisterClientHeader({ clientID: clientId, producerGroup, consumerGroup }),
    );
    expectSuccess(await this.remoting.invoke(addr, req, this.timeoutMs), `unregister ${clientId} at ${addr}`);
  }

  /** CONSUMER_SEND_MSG_BACK: the broker stores the message again in `%RETRY%<group>` with a delay. */
  async sendMessageBack(
    addr: string,
    msg: { commitLogOffset: bigint; msgId: string; topic: string },
    group: string,
    delayLevel: number,
    maxReconsumeTimes: number,
  ): Promise<void> {
    const req = createRequest(
      RequestCode.CONSUMER_SEND_MSG_BACK,
      encodeSendMsgBackHeader({
        offset: msg.commitLogOffset,
        group,
        delayLevel,
        originMsgId: msg.msgId,
        originTopic: msg.topic,
        unitMode: false,
        maxReconsumeTimes,
      }),
    );
    expectSuccess(await this.remoting.invoke(addr, req, this.timeoutMs), `send back ${msg.msgId} for ${group}`);
  }

  /** LOCK_BATCH_MQ: locks (or renews) queues of `group` for this client; returns those the broker granted. */
  async lockBatchMQ(addr: string, body: LockBatchBody, timeoutMs = this.timeoutMs): Promise<LockQueue[]> {
    const req = createRequest(RequestCode.LOCK_BATCH_MQ, undefined, encodeLockBatchBody(body));
    const resp = await this.remoting.invoke(addr, req, timeoutMs);
    expectSuccess(resp, `lock queues of ${body.consumerGroup} at ${addr}`);
    const locked = decodeLockBatchResponse(resp.body);
    if (typeof locked === 'string') throw new LockResponseError(addr, locked);
    return locked;
  }

  /** UNLOCK_BATCH_MQ: releases queues this client holds. */
  async unlockBatchMQ(addr: string, body: LockBatchBody): Promise<void> {
    const req = createRequest(RequestCode.UNLOCK_BATCH_MQ, undefined, encodeLockBatchBody(body));
    expectSuccess(await this.remoting.invoke(addr, req, this.timeoutMs), `unlock queues of ${body.consumerGroup}`);
  }
}
