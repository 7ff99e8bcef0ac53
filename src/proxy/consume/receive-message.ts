/**
 * ReceiveMessage (server stream): one pop from every readable queue of the topic on this broker (and the group's
 * retry topic), long-polled within the call's deadline. As RocketMQ 5.3.3's proxy writes it: found → an OK status,
 * one `message` per reply, then a delivery timestamp; nothing → one MESSAGE_NOT_FOUND status; a bad request → its
 * Code. The call's cancellation aborts the pop; messages popped for a client already gone are made visible again
 * at once (RocketMQ's NACK_INVISIBLE_TIME).
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { PopResult } from '../../broker/pop/types.js';
import { clientIdOf, type ProxyContext } from '../context.js';
import { toV2Message } from '../convert/to-v2.js';
import { Code, type Message, type Status, status, type Timestamp, timestampOfMs } from '../proto.js';
import { statusOfResponse } from '../response-code.js';
import { isFifoGroup } from './group-mode.js';
import { receiveParamsOf } from './receive-params.js';
import type { ReceiveMessageRequest } from './requests.js';

export interface ReceiveMessageResponse {
  status?: Status;
  message?: Message;
  deliveryTimestamp?: Timestamp;
}

/** How long a message popped for a client that went away stays invisible (RocketMQ's NACK_INVISIBLE_TIME). */
export const undeliveredInvisibleTimeMs = 1000;

/** Milliseconds to the call's deadline; Infinity when the client set none. */
export function remainingMsOf(deadline: Date | number, nowMs = Date.now()): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? at - nowMs : Number.POSITIVE_INFINITY;
}

export async function receiveMessage(
  ctx: ProxyContext,
  call: ServerWritableStream<ReceiveMessageRequest, ReceiveMessageResponse>,
): Promise<void> {
  const clientId = clientIdOf(call.metadata);
  ctx.renewals.seen(clientId);
  const checked = receiveParamsOf(call.request ?? {}, remainingMsOf(call.getDeadline()));
  if (!checked.ok) return finish(call, checked.status);
  const p = checked.value;
  const broker = ctx.broker;
  if (broker.topics.get(p.topic) === undefined) {
    return finish(call, status(Code.TOPIC_NOT_FOUND, broker.topics.missingRemark(p.topic)));
  }
  const group = broker.groups.findOrCreate(p.group);
  if (group === undefined)
    return finish(call, status(Code.CONSUMER_GROUP_NOT_FOUND, broker.groups.missingRemark(p.group)));
  if (!group.consumeEnable) return finish(call, status(Code.FORBIDDEN, `consumer group ${p.group} may not consume`));

  const invisibleTimeMs = p.invisibleTimeMs ?? ctx.renewals.opts.firstInvisibleTimeMs;
  const abort = new AbortController();
  const onCancel = () => abort.abort();
  call.once('cancelled', onCancel);
  let r: PopResult;
  try {
    r = await broker.pop.pop(
      {
        group: p.group,
        topic: p.topic,
        queueId: -1,
        maxMessages: p.maxMessages,
        invisibleTimeMs,
        pollTimeMs: p.pollTimeMs,
        initMode: 'max',
        filter: p.filter,
        fifo: isFifoGroup(group),
        attemptId: p.attemptId,
      },
      abort.signal,
    );
  } catch (err) {
    ctx.log.warn('pop failed', { group: p.group, topic: p.topic, err });
    return finish(call, status(Code.INTERNAL_SERVER_ERROR, `pop failed: ${(err as Error).message}`));
  } finally {
    call.removeListener('cancelled', onCancel);
  }
  if (r.status === 'none') return finish(call, status(Code.MESSAGE_NOT_FOUND, 'no new message'));
  if (r.status === 'refused') return finish(call, statusOfResponse(r.code, r.remark));
  if (r.messages.length === 0) return finish(call, status(Code.MESSAGE_NOT_FOUND, 'no match message'));
  if (call.cancelled) {
    await giveBack(ctx, p.group, p.topic, r.messages);
    return;
  }
  call.write({ status: status(Code.OK) });
  for (const [i, m] of r.messages.entries()) {
    // The client went away while the batch was written: what it cannot have read is visible again soon.
    if (call.cancelled) return giveBack(ctx, p.group, p.topic, r.messages.slice(i));
    const delivery = {
      receiptHandle: m.handle,
      invisibleTimeMs: r.invisibleTimeMs,
      deliveryAttempt: m.deliveryAttempt,
    };
    call.write({ message: toV2Message(m.msg, delivery, p.topic) });
    if (p.autoRenew) ctx.renewals.add(clientId, p.group, p.topic, m.handle, r.popTimeMs, r.invisibleTimeMs);
  }
  call.write({ deliveryTimestamp: timestampOfMs(Date.now()) });
  call.end();
}

function finish(call: ServerWritableStream<ReceiveMessageRequest, ReceiveMessageResponse>, s: Status): void {
  if (call.cancelled) return;
  call.write({ status: s });
  call.write({ deliveryTimestamp: timestampOfMs(Date.now()) });
  call.end();
}

async function giveBack(
  ctx: ProxyContext,
  group: string,
  topic: string,
  messages: readonly { readonly handle: string }[],
): Promise<void> {
  await Promise.all(
    messages.map((m) =>
      ctx.broker.pop.changeInvisible(group, topic, m.handle, undeliveredInvisibleTimeMs).catch(() => undefined),
    ),
  );
}
