/**
 * Request-reply (RocketMQ's RequestResponseFuture / MessageUtil): a request carries CORRELATION_ID, REPLY_TO_CLIENT
 * (the requester's client id) and TTL; the broker adds CLUSTER when it stores it; the responder answers with
 * `createReply`, a message to `<CLUSTER>_REPLY_TOPIC` with MSG_TYPE "reply" that the producer sends with
 * SEND_REPLY_MESSAGE_V2; the broker pushes it to the requester (PUSH_REPLY_MESSAGE_TO_CLIENT), where `ReplyWaiters`
 * hands it to the request with the same CORRELATION_ID.
 */
import { inflateSync } from 'node:zlib';
import { InvalidArgumentError, TsRocketError } from '../common/errors.js';
import { SysFlag } from '../common/message.js';
import { decodeProperties, Prop, replyMessageFlag } from '../common/properties.js';
import { replyTopicOf } from '../common/topics.js';
import { ResponseCode } from '../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../remoting/command.js';
import { decodeReplyMessageHeader } from '../remoting/protocol/reply.js';
import type { Message } from './message.js';

/** No reply came within the request's timeout (the request itself was sent). */
export class RequestTimeoutError extends TsRocketError {
  constructor(
    readonly topic: string,
    readonly correlationId: string,
    readonly timeoutMs: number,
  ) {
    super(`request to topic ${topic} got no reply within ${timeoutMs} ms (correlationId ${correlationId})`);
  }
}

/** A reply as the requester receives it. */
export interface ReplyMessage {
  topic: string;
  /** Inflated when it was sent compressed. */
  body: Buffer;
  properties: Map<string, string>;
  correlationId: string;
  producerGroup: string;
  flag: number;
  bornTimestamp: bigint;
  bornHost: string;
  storeHost: string;
  storeTimestamp: bigint;
}

/** What createReply needs of a received request: its properties. */
export interface RequestLike {
  readonly properties: ReadonlyMap<string, string>;
}

/**
 * The reply to `request` (RocketMQ's MessageUtil.createReplyMessage), to send with `producer.send`. Throws
 * InvalidArgumentError when the request has no CLUSTER property (it did not come through a broker).
 */
export function createReply(request: RequestLike, body: Buffer | string): Message {
  const cluster = request.properties.get(Prop.clusterName);
  if (cluster === undefined || cluster === '') {
    throw new InvalidArgumentError(`cannot reply: the request has no ${Prop.clusterName} property`);
  }
  const properties: Record<string, string> = { [Prop.msgType]: replyMessageFlag };
  for (const name of [Prop.correlationId, Prop.replyToClient, Prop.ttl]) {
    const v = request.properties.get(name);
    if (v !== undefined) properties[name] = v;
  }
  return { topic: replyTopicOf(cluster), body, properties };
}

interface Waiter {
  resolve(reply: ReplyMessage): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Requests of one client instance awaiting their reply, by CORRELATION_ID. */
export class ReplyWaiters {
  private readonly waiting = new Map<string, Waiter>();

  get pending(): number {
    return this.waiting.size;
  }

  /** A promise of the reply to `correlationId`, rejected with RequestTimeoutError after `timeoutMs`. */
  expect(correlationId: string, topic: string, timeoutMs: number): Promise<ReplyMessage> {
    return new Promise<ReplyMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(correlationId);
        reject(new RequestTimeoutError(topic, correlationId, timeoutMs));
      }, timeoutMs);
      this.waiting.set(correlationId, { resolve, reject, timer });
    });
  }

  /** Stops waiting (the request could not be sent); the promise rejects with `err`. */
  cancel(correlationId: string, err: Error): void {
    const w = this.waiting.get(correlationId);
    if (w === undefined) return;
    this.waiting.delete(correlationId);
    clearTimeout(w.timer);
    w.reject(err);
  }

  /** Fails every waiting request (the client closed). */
  cancelAll(err: Error): void {
    for (const id of [...this.waiting.keys()]) this.cancel(id, err);
  }

  /** PUSH_REPLY_MESSAGE_TO_CLIENT: hands the reply to its request; unmatched (late) replies are dropped. */
  onPush(req: RemotingCommand): RemotingCommand {
    const h = decodeReplyMessageHeader(req);
    const properties = decodeProperties(h.properties);
    properties.set(Prop.replyArriveTime, String(Date.now()));
    const correlationId = properties.get(Prop.correlationId) ?? '';
    const w = this.waiting.get(correlationId);
    if (w !== undefined) {
      this.waiting.delete(correlationId);
      clearTimeout(w.timer);
      let body = req.body ?? Buffer.alloc(0);
      try {
        if ((h.sysFlag & SysFlag.compressed) !== 0) body = inflateSync(body);
      } catch (err) {
        w.reject(new TsRocketError(`reply to ${correlationId} has a body that does not inflate`, { cause: err }));
        return createResponse(req, ResponseCode.SUCCESS);
      }
      w.resolve({
        topic: h.topic,
        body,
        properties,
        correlationId,
        producerGroup: h.producerGroup,
        flag: h.flag,
        bornTimestamp: h.bornTimestamp,
        bornHost: h.bornHost,
        storeHost: h.storeHost,
        storeTimestamp: h.storeTimestamp,
      });
    }
    return createResponse(req, ResponseCode.SUCCESS);
  }
}
