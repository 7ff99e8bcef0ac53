/**
 * PULL_MESSAGE (11) with broker-side tag filtering and long polling; a SQL92 subscription is refused (SYSTEM_ERROR).
 * sysFlag bits (PullSysFlag): 1 commit offset, 2 suspend, 4 subscription in request, 8 class filter.
 */
import { PullSysFlag, ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import {
  decodePullHeader,
  encodePullResponseHeader,
  type PullMessageRequestHeader as PullHeader,
} from '../../remoting/protocol/pull.js';
import type { RemotingConnection } from '../../remoting/server.js';
import { type GetResult, GetStatus, type MessageFilter } from '../../store/types.js';
import type { BrokerContext } from '../context.js';
import { filterTypeUnsupported, isTagType } from '../filter/expression-type.js';
import { codeSetFilterOf, tagFilterOf } from '../filter/tag-filter.js';
import { isReadable } from '../metadata/perm.js';

export function pullMessage(ctx: BrokerContext, req: RemotingCommand, conn: RemotingConnection) {
  ctx.stats.pullRequests++;
  const h = decodePullHeader(req);
  const holdMs = Math.max(0, Math.min(h.suspendTimeoutMillis, ctx.config.longPollingHoldMsMax));
  return processPull(ctx, req, conn, h, Date.now() + holdMs, true);
}

async function processPull(
  ctx: BrokerContext,
  req: RemotingCommand,
  conn: RemotingConnection,
  h: PullHeader,
  deadlineMs: number,
  firstTime: boolean,
): Promise<RemotingCommand | undefined> {
  const fail = (code: number, remark: string) => createResponse(req, code, remark);
  const c = ctx.config;
  if (!isReadable(c.brokerPermission)) {
    return fail(ResponseCode.NO_PERMISSION, `the broker[${c.brokerName}] pulling message is forbidden`);
  }
  const group = ctx.groups.findOrCreate(h.consumerGroup);
  if (group === undefined) {
    return fail(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, ctx.groups.missingRemark(h.consumerGroup));
  }
  if (!group.consumeEnable) {
    return fail(ResponseCode.NO_PERMISSION, `subscription group [${h.consumerGroup}] has consumption disabled`);
  }
  const tc = ctx.topics.get(h.topic);
  if (tc === undefined) {
    return fail(
      ResponseCode.TOPIC_NOT_EXIST,
      `topic[${h.topic}] not exist on broker ${c.brokerName}, apply first please`,
    );
  }
  if (!isReadable(tc.perm))
    return fail(ResponseCode.NO_PERMISSION, `the topic[${h.topic}] pulling message is forbidden`);
  if (h.queueId < 0 || h.queueId >= tc.readQueueNums) {
    return fail(
      ResponseCode.SYSTEM_ERROR,
      `queueId[${h.queueId}] is illegal, topic ${h.topic} has ${tc.readQueueNums} read queues`,
    );
  }
  const filtered = filterOf(ctx, h);
  if (typeof filtered === 'string') return fail(ResponseCode.SYSTEM_ERROR, filtered);
  const filter = filtered.filter;

  // Commit only on the first pass (not on long-poll wake-ups), like RocketMQ, and before the read's await, so a
  // commit the client sent after this pull (a queue hand-over's final one) is not undone by it.
  if (firstTime && (h.sysFlag & PullSysFlag.commitOffset) !== 0 && h.commitOffset >= 0n) {
    ctx.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
  }
  const maxNums = Math.max(1, Math.min(h.maxMsgNums, c.pullMsgNumsMax));
  const r = await ctx.store.getMessage(h.topic, h.queueId, h.queueOffset, maxNums, c.pullBytesMax, filter);
  const code = codeOfGetStatus(r, h.queueOffset);

  if (code === ResponseCode.PULL_NOT_FOUND && (h.sysFlag & PullSysFlag.suspend) !== 0 && c.longPollingEnable) {
    if (Date.now() < deadlineMs && !conn.closed) {
      const held = ctx.pullHolds.hold({
        topic: h.topic,
        queueId: h.queueId,
        offset: h.queueOffset,
        deadlineMs,
        filter,
        isAbandoned: () => conn.closed,
        wake: (final) => {
          processPull(ctx, req, conn, h, final ? 0 : deadlineMs, false).then(
            (resp) => {
              if (resp !== undefined) conn.send(resp);
            },
            (err: unknown) => conn.send(createResponse(req, ResponseCode.SYSTEM_ERROR, String(err))),
          );
        },
      });
      if (held) return undefined;
    }
  }
  if (code === ResponseCode.SUCCESS) {
    ctx.stats.recordGet(h.consumerGroup, h.topic, r.recordCount ?? r.records.length, r.bufferTotalBytes);
  }
  const resp = createResponse(req, code, remarkOf(code, r));
  resp.extFields = encodePullResponseHeader({
    nextBeginOffset: r.nextBeginOffset,
    minOffset: r.minOffset,
    maxOffset: r.maxOffset,
    suggestWhichBrokerId: r.suggestPullingFromSlave ? group.whichBrokerWhenConsumeSlowly : 0,
  });
  // The stored bytes as they are: slices of the store's reads, written without concatenating them.
  if (code === ResponseCode.SUCCESS) {
    resp.bodyParts = r.bodyParts ?? r.records;
    resp.onWritten = r.release;
  } else r.release?.();
  return resp;
}

/**
 * The request's subscription (subscription bit) or else the heartbeat's; a string is the refusal of a type other
 * than TAG (SQL92 is not built: enablePropertyFilter is off), whichever of the header and the heartbeat names it,
 * so a SQL92 consumer whose heartbeat is not in yet is refused too, never served unfiltered.
 */
function filterOf(ctx: BrokerContext, h: PullHeader): { filter: MessageFilter | undefined } | string {
  if (!isTagType(h.expressionType)) return filterTypeUnsupported(h.expressionType as string);
  if ((h.sysFlag & PullSysFlag.subscription) !== 0 && h.subscription !== undefined) {
    return { filter: tagFilterOf(h.subscription) };
  }
  const sub = ctx.clients.subscription(h.consumerGroup, h.topic);
  // No heartbeat subscription yet (e.g. right after a broker restart): deliver all, the client filters tags.
  if (sub === undefined) return { filter: undefined };
  if (!isTagType(sub.expressionType)) return filterTypeUnsupported(sub.expressionType as string);
  return { filter: codeSetFilterOf(sub.subString, sub.codeSet ?? []) };
}

/** GetStatus → pull response code (RocketMQ's PullMessageProcessor on a master). */
function codeOfGetStatus(r: GetResult, requestedOffset: bigint): number {
  switch (r.status) {
    case GetStatus.FOUND:
      return ResponseCode.SUCCESS;
    case GetStatus.MESSAGE_WAS_REMOVING:
    case GetStatus.NO_MATCHED_MESSAGE:
      return ResponseCode.PULL_RETRY_IMMEDIATELY;
    case GetStatus.NO_MATCHED_LOGIC_QUEUE:
    case GetStatus.NO_MESSAGE_IN_QUEUE:
      return requestedOffset !== 0n ? ResponseCode.PULL_OFFSET_MOVED : ResponseCode.PULL_NOT_FOUND;
    case GetStatus.OFFSET_FOUND_NULL:
    case GetStatus.OFFSET_OVERFLOW_ONE:
      return ResponseCode.PULL_NOT_FOUND;
    case GetStatus.OFFSET_OVERFLOW_BADLY:
    case GetStatus.OFFSET_TOO_SMALL:
      return ResponseCode.PULL_OFFSET_MOVED;
    default:
      return ResponseCode.SYSTEM_ERROR;
  }
}

function remarkOf(code: number, r: GetResult): string | undefined {
  switch (code) {
    case ResponseCode.SUCCESS:
      return undefined;
    case ResponseCode.PULL_NOT_FOUND:
      return 'no new message';
    case ResponseCode.PULL_RETRY_IMMEDIATELY:
      return `no message matched the subscription (${r.status})`;
    case ResponseCode.PULL_OFFSET_MOVED:
      return `offset out of range (${r.status}), valid ${r.minOffset}..${r.maxOffset}`;
    default:
      return r.status;
  }
}
