/**
 * AckMessage: each entry's receipt handle acked through POP, with a status per entry (RocketMQ 5.3.3's
 * AckMessageActivity). A handle that is malformed, past its invisible time or already acked is
 * INVALID_RECEIPT_HANDLE with the reason; the response's status is OK when all are, the one entry's status when
 * there is one, MULTIPLE_RESULTS otherwise.
 */
import type { Metadata } from '@grpc/grpc-js';
import { parseExtraInfo } from '../../broker/pop/extra-info.js';
import { clientIdOf, type ProxyContext } from '../context.js';
import { Code, type Status, status } from '../proto.js';
import { statusOfResponse } from '../response-code.js';
import { checkedGroup, checkedTopic } from './receive-params.js';
import type { AckMessageEntry, AckMessageRequest } from './requests.js';

export interface AckMessageResultEntry {
  messageId: string;
  receiptHandle: string;
  status: Status;
}

export interface AckMessageResponse {
  status: Status;
  entries: AckMessageResultEntry[];
}

/** Most entries one AckMessage may carry (a receive returns at most 32; clients batch a few receives). */
export const ackEntriesMax = 1024;

export async function ackMessage(
  ctx: ProxyContext,
  req: AckMessageRequest,
  metadata: Metadata,
): Promise<AckMessageResponse> {
  const group = checkedGroup(req.group);
  if (!group.ok) return { status: group.status, entries: [] };
  const topic = checkedTopic(req.topic);
  if (!topic.ok) return { status: topic.status, entries: [] };
  const entries = req.entries ?? [];
  if (entries.length === 0) return { status: status(Code.BAD_REQUEST, 'no entries to ack'), entries: [] };
  if (entries.length > ackEntriesMax) {
    return {
      status: status(Code.BAD_REQUEST, `${entries.length} entries, at most ${ackEntriesMax} per ack`),
      entries: [],
    };
  }
  const clientId = clientIdOf(metadata);
  ctx.renewals.seen(clientId);
  const results = await Promise.all(
    entries.map(async (e) => ({
      messageId: e.messageId ?? '',
      receiptHandle: e.receiptHandle ?? '',
      status: await ackOne(ctx, clientId, group.value, topic.value, e),
    })),
  );
  const failed = results.filter((r) => r.status.code !== Code.OK);
  let overall: Status;
  if (failed.length === 0) overall = status(Code.OK);
  else if (results.length === 1) overall = (failed[0] as AckMessageResultEntry).status;
  else overall = status(Code.MULTIPLE_RESULTS, `${failed.length} of ${results.length} entries not acked`);
  return { status: overall, entries: results };
}

async function ackOne(
  ctx: ProxyContext,
  clientId: string,
  group: string,
  topic: string,
  e: AckMessageEntry,
): Promise<Status> {
  const given = e.receiptHandle ?? '';
  const bad = checkReceiptHandle(given);
  if (bad !== undefined) return bad;
  const handle = await ctx.renewals.take(clientId, given);
  const r = await ctx.broker.pop.ack(group, topic, handle);
  if (r.status === 'ok') return status(Code.OK);
  if (r.status === 'expired') return expiredStatus();
  return statusOfResponse(r.code, r.remark);
}

/** INVALID_RECEIPT_HANDLE naming what is wrong with a handle, or undefined when it reads as one. */
export function checkReceiptHandle(handle: string): Status | undefined {
  if (handle === '') return status(Code.INVALID_RECEIPT_HANDLE, 'receipt handle is missing');
  const parsed = parseExtraInfo(handle);
  if (typeof parsed === 'string') return status(Code.INVALID_RECEIPT_HANDLE, parsed);
  if (parsed.commitLogOffset === undefined) {
    return status(Code.INVALID_RECEIPT_HANDLE, 'malformed receipt handle: no commitLogOffset');
  }
  return undefined;
}

export function expiredStatus(): Status {
  return status(
    Code.INVALID_RECEIPT_HANDLE,
    'receipt handle has expired: its invisible time ended, or the message was already acked or changed',
  );
}
