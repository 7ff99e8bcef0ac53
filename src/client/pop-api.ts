/**
 * The POP requests a SimpleConsumer sends (RocketMQ's MQClientAPIImpl popMessageAsync, ackMessageAsync,
 * changeInvisibleTimeAsync): each returns a status value for the answers a caller handles and throws the rest.
 */
import type { RemotingClient } from '../remoting/client.js';
import { RequestCode, ResponseCode } from '../remoting/codes.js';
import { createRequest, type RemotingCommand } from '../remoting/command.js';
import { RemotingResponseError } from '../remoting/errors.js';
import {
  type AckMessageRequestHeader,
  type BatchAckBody,
  type BatchAckExpired,
  type ChangeInvisibleTimeRequestHeader,
  type ChangeInvisibleTimeResponseHeader,
  decodeBatchAckResponseHeader,
  decodeChangeInvisibleTimeResponseHeader,
  decodePopMessageResponseHeader,
  encodeAckMessageHeader,
  encodeBatchAckBody,
  encodeChangeInvisibleTimeHeader,
  encodePopMessageHeader,
  type PopMessageRequestHeader,
  type PopMessageResponseHeader,
} from '../remoting/protocol/pop.js';

export type PopAnswer =
  | { readonly status: 'found'; readonly header: PopMessageResponseHeader; readonly body: Buffer }
  /** Nothing within the poll time (POLLING_TIMEOUT, PULL_NOT_FOUND), or the broker holds too many polls. */
  | { readonly status: 'none'; readonly pollingFull: boolean };

/**
 * An ACK / CHANGE the broker did not apply: 'gone' (NO_MESSAGE) when the handle no longer names an invisible
 * message (its time ran out, or it was acked or changed already), 'invalid' (INVALID_PARAMETER) when the broker
 * cannot read it.
 */
export type HandleRefusal = {
  readonly status: 'gone' | 'invalid';
  readonly code: number;
  readonly remark: string | undefined;
};

export type AckAnswer = { readonly status: 'ok' } | HandleRefusal;

export type ChangeAnswer =
  | { readonly status: 'ok'; readonly header: ChangeInvisibleTimeResponseHeader }
  | HandleRefusal;

function refusalOf(resp: RemotingCommand): HandleRefusal | undefined {
  if (resp.code === ResponseCode.NO_MESSAGE) return { status: 'gone', code: resp.code, remark: resp.remark };
  if (resp.code === ResponseCode.INVALID_PARAMETER) return { status: 'invalid', code: resp.code, remark: resp.remark };
  return undefined;
}

/**
 * JSON headers: the ROCKETMQ binary header holds the request code in 16 bits, and the POP codes (200050…) do not
 * fit (RocketMQ's clients send them as JSON too).
 */
function request(code: number, fields: Record<string, string>): RemotingCommand {
  return createRequest(code, fields);
}

/** POP_MESSAGE; wait up to `timeoutMs` (the poll time plus the request timeout). */
export async function popMessage(
  remoting: RemotingClient,
  addr: string,
  h: PopMessageRequestHeader,
  timeoutMs: number,
): Promise<PopAnswer> {
  const resp = await remoting.invoke(addr, request(RequestCode.POP_MESSAGE, encodePopMessageHeader(h)), timeoutMs);
  switch (resp.code) {
    case ResponseCode.SUCCESS:
      // A header missing a field throws HeaderFieldError naming it.
      return { status: 'found', header: decodePopMessageResponseHeader(resp), body: resp.body ?? Buffer.alloc(0) };
    case ResponseCode.POLLING_TIMEOUT:
    case ResponseCode.PULL_NOT_FOUND:
      return { status: 'none', pollingFull: false };
    case ResponseCode.POLLING_FULL:
      return { status: 'none', pollingFull: true };
    default:
      throw RemotingResponseError.of(resp, `pop ${h.topic} for ${h.consumerGroup} from ${addr}`);
  }
}

/** ACK_MESSAGE. */
export async function ackMessage(
  remoting: RemotingClient,
  addr: string,
  h: AckMessageRequestHeader,
  timeoutMs: number,
): Promise<AckAnswer> {
  const resp = await remoting.invoke(addr, request(RequestCode.ACK_MESSAGE, encodeAckMessageHeader(h)), timeoutMs);
  if (resp.code === ResponseCode.SUCCESS) return { status: 'ok' };
  const refused = refusalOf(resp);
  if (refused !== undefined) return refused;
  throw RemotingResponseError.of(resp, `ack ${h.topic}:${h.queueId}@${h.offset} for ${h.consumerGroup}`);
}

/**
 * BATCH_ACK_MESSAGE: 'ok' with the offsets the broker found too late (the rest are acked), or 'unsupported' from
 * a broker without the request (RocketMQ before 5.1): ack one by one there.
 */
export type BatchAckAnswer =
  | { readonly status: 'ok'; readonly expired: readonly BatchAckExpired[] }
  | { readonly status: 'unsupported' }
  | HandleRefusal;

export async function batchAckMessage(
  remoting: RemotingClient,
  addr: string,
  body: BatchAckBody,
  timeoutMs: number,
): Promise<BatchAckAnswer> {
  const resp = await remoting.invoke(
    addr,
    createRequest(RequestCode.BATCH_ACK_MESSAGE, undefined, encodeBatchAckBody(body)),
    timeoutMs,
  );
  if (resp.code === ResponseCode.SUCCESS) {
    const h = decodeBatchAckResponseHeader(resp);
    if (typeof h === 'string') throw RemotingResponseError.of(resp, `batch ack to ${addr}: ${h}`);
    return { status: 'ok', expired: h.expired };
  }
  if (resp.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED) return { status: 'unsupported' };
  const refused = refusalOf(resp);
  if (refused !== undefined) return refused;
  throw RemotingResponseError.of(resp, `batch ack of ${body.acks.length} check points to ${addr}`);
}

/** CHANGE_MESSAGE_INVISIBLETIME. */
export async function changeInvisibleTime(
  remoting: RemotingClient,
  addr: string,
  h: ChangeInvisibleTimeRequestHeader,
  timeoutMs: number,
): Promise<ChangeAnswer> {
  const req = request(RequestCode.CHANGE_MESSAGE_INVISIBLETIME, encodeChangeInvisibleTimeHeader(h));
  const resp = await remoting.invoke(addr, req, timeoutMs);
  if (resp.code === ResponseCode.SUCCESS)
    return { status: 'ok', header: decodeChangeInvisibleTimeResponseHeader(resp) };
  const refused = refusalOf(resp);
  if (refused !== undefined) return refused;
  throw RemotingResponseError.of(resp, `change invisible time of ${h.topic}:${h.queueId}@${h.offset}`);
}
