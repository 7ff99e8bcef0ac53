/**
 * AckMessage: each entry's receipt handle acked through POP, with a status per entry (RocketMQ 5.3.3's
 * AckMessageActivity); entries of one check point are acked together. A handle that is malformed, past its invisible time or already acked is
 * INVALID_RECEIPT_HANDLE with the reason; the response's status is OK when all are, the one entry's status when
 * there is one, MULTIPLE_RESULTS otherwise.
 */
import type { Metadata } from '@grpc/grpc-js';
import { parseExtraInfo } from '../../broker/pop/extra-info.js';
import type { AckResult } from '../../broker/pop/types.js';
import { clientIdOf, type ProxyContext } from '../context.js';
import { Code, type Status, status } from '../proto.js';
import { statusOfResponse } from '../response-code.js';
import { checkedGroup, checkedTopic } from './receive-params.js';
import type { AckMessageRequest } from './requests.js';

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
  // Entries of one receive share a check point: acked together, one revive-log record for them.
  const given = entries.map((e) => e.receiptHandle ?? '');
  const statuses: (Status | undefined)[] = given.map(checkReceiptHandle);
  const valid: number[] = [];
  for (let i = 0; i < given.length; i++) if (statuses[i] === undefined) valid.push(i);
  const handles = await Promise.all(valid.map((i) => ctx.renewals.take(clientId, given[i] as string)));
  const acked = await ctx.broker.pop.ackHandles(group.value, topic.value, handles);
  for (let j = 0; j < valid.length; j++) statuses[valid[j] as number] = statusOfAck(acked[j] as AckResult);
  const results: AckMessageResultEntry[] = entries.map((e, i) => ({
    messageId: e.messageId ?? '',
    receiptHandle: given[i] as string,
    status: statuses[i] as Status,
  }));
  const failed = results.filter((r) => r.status.code !== Code.OK);
  let overall: Status;
  if (failed.length === 0) overall = status(Code.OK);
  else if (results.length === 1) overall = (failed[0] as AckMessageResultEntry).status;
  else overall = status(Code.MULTIPLE_RESULTS, `${failed.length} of ${results.length} entries not acked`);
  return { status: overall, entries: results };
}

function statusOfAck(r: AckResult): Status {
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
