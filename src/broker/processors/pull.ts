/**
 * PULL_MESSAGE (11) with broker-side filtering (tag hash; SQL92 on properties when enablePropertyFilter is on, else
 * refused with SYSTEM_ERROR) and long polling.
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
import { type BitmapProbe, type GetResult, GetStatus, type MessageFilter } from '../../store/types.js';
import type { BrokerContext } from '../context.js';
import { ExpressionType, filterTypeUnknown, filterTypeUnsupported, isTagType } from '../filter/expression-type.js';
import { compiledSql92, sqlMessageFilter } from '../filter/sql92-filter.js';
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
  if (!('filter' in filtered)) return fail(filtered.code, filtered.remark);
  const filter = filtered.filter;

  // A reset (222) this queue's consumers have not followed yet: send the pull there (RocketMQ 5's OFFSET_RESET).
  const reset = ctx.offsets.takeReset(h.consumerGroup, h.topic, h.queueId);
  if (reset !== undefined && reset !== h.queueOffset) return offsetResetAnswer(ctx, req, h, reset);

  // Commit only on the first pass (not on long-poll wake-ups), like RocketMQ, and before the read's await, so a
  // commit the client sent after this pull (a queue hand-over's final one) is not undone by it.
  if (firstTime && reset === undefined && (h.sysFlag & PullSysFlag.commitOffset) !== 0 && h.commitOffset >= 0n) {
    ctx.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
  }
  const maxNums = Math.max(1, Math.min(h.maxMsgNums, c.pullMsgNumsMax));
  const r = await ctx.store.getMessage(h.topic, h.queueId, h.queueOffset, maxNums, c.pullBytesMax, filter);
  const code = codeOfGetStatus(r, h.queueOffset);

  // A property filter that matched nothing up to the queue's end holds on from there (RocketMQ keeps such a pull
  // held too), instead of answering 20 on every arrival that does not match.
  const nothingMatched =
    code === ResponseCode.PULL_RETRY_IMMEDIATELY &&
    filter?.isMatchedByProperties !== undefined &&
    r.nextBeginOffset >= r.maxOffset;
  const holdable = code === ResponseCode.PULL_NOT_FOUND || nothingMatched;
  if (holdable && (h.sysFlag & PullSysFlag.suspend) !== 0 && c.longPollingEnable) {
    if (Date.now() < deadlineMs && !conn.closed) {
      const from = nothingMatched ? r.nextBeginOffset : h.queueOffset;
      const again = from === h.queueOffset ? h : { ...h, queueOffset: from };
      // A message that arrived while the read was in flight woke nobody: read again now instead of holding.
      if (ctx.store.getMaxOffsetInQueue(h.topic, h.queueId) > r.maxOffset) {
        r.release?.();
        return processPull(ctx, req, conn, again, deadlineMs, false);
      }
      const held = ctx.pullHolds.hold({
        topic: h.topic,
        queueId: h.queueId,
        offset: from,
        deadlineMs,
        filter,
        isAbandoned: () => conn.closed,
        wake: (final) => {
          processPull(ctx, req, conn, again, final ? 0 : deadlineMs, false).then(
            (resp) => {
              if (resp !== undefined) conn.send(resp);
            },
            (err: unknown) => conn.send(createResponse(req, ResponseCode.SYSTEM_ERROR, String(err))),
          );
        },
      });
      if (held) {
        r.release?.();
        return undefined;
      }
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

/** PULL_OFFSET_MOVED with nextBeginOffset = the reset offset: every client re-reads the queue from there. */
function offsetResetAnswer(ctx: BrokerContext, req: RemotingCommand, h: PullHeader, reset: bigint): RemotingCommand {
  const resp = createResponse(req, ResponseCode.PULL_OFFSET_MOVED, `offset reset to ${reset}`);
  resp.extFields = encodePullResponseHeader({
    nextBeginOffset: reset,
    minOffset: ctx.store.getMinOffsetInQueue(h.topic, h.queueId),
    maxOffset: ctx.store.getMaxOffsetInQueue(h.topic, h.queueId),
    suggestWhichBrokerId: 0,
  });
  return resp;
}

type Refusal = { code: number; remark: string };

/**
 * The request's subscription (subscription bit) or else the heartbeat's. TAG filters by tag hash. SQL92, with
 * enablePropertyFilter on, uses the expression compiled when the subscription arrived; off, it is refused
 * whichever of the header and the heartbeat names it, so a SQL92 consumer is never served unfiltered. Without its
 * own subscription a pull newer than the broker's copy is answered as RocketMQ's PullMessageProcessor does:
 * SUBSCRIPTION_NOT_LATEST (the heartbeat's is older), FILTER_DATA_NOT_EXIST (no SQL92 filter data registered),
 * FILTER_DATA_NOT_LATEST (the filter data is older: the newer expression did not compile); the client heartbeats
 * and pulls again, so a changed expression is applied. A SQL92 filter uses the store's filter bitmap when it was
 * computed for this group and expression.
 */
function filterOf(ctx: BrokerContext, h: PullHeader): { filter: MessageFilter | undefined } | Refusal {
  if ((h.sysFlag & PullSysFlag.subscription) !== 0 && h.subscription !== undefined) {
    if (isTagType(h.expressionType)) return { filter: tagFilterOf(h.subscription) };
    const refused = propertyFilterRefusal(ctx, h.expressionType as string);
    if (refused !== undefined) return refused;
    const c = compiledSql92(h.subscription);
    if (!c.ok) {
      return {
        code: ResponseCode.SUBSCRIPTION_PARSE_FAILED,
        remark: `parse the consumer's subscription failed: ${c.error.message}`,
      };
    }
    return { filter: sqlMessageFilter(c.filter, bitmapOf(ctx, h, h.subscription)) };
  }
  const sub = ctx.clients.subscription(h.consumerGroup, h.topic);
  if (sub !== undefined && h.subVersion !== undefined && sub.subVersion < h.subVersion) {
    return {
      code: ResponseCode.SUBSCRIPTION_NOT_LATEST,
      remark: `the consumer's subscription not latest: the broker has version ${sub.subVersion} of group ${h.consumerGroup}'s subscription to ${h.topic}, the pull ${h.subVersion}`,
    };
  }
  if (!isTagType(h.expressionType) || (sub !== undefined && !isTagType(sub.expressionType))) {
    const type = (isTagType(h.expressionType) ? sub?.expressionType : h.expressionType) as string;
    const refused = propertyFilterRefusal(ctx, type);
    if (refused !== undefined) return refused;
    // A SQL92 consumer whose heartbeat is not in yet: nothing to filter with, and its client cannot filter.
    if (sub === undefined || isTagType(sub.expressionType)) {
      return {
        code: ResponseCode.SUBSCRIPTION_NOT_EXIST,
        remark: `the consumer's subscription not exist: no ${type} subscription of group ${h.consumerGroup} to topic ${h.topic} has arrived in a heartbeat`,
      };
    }
    const data = ctx.consumerFilters.get(h.consumerGroup, h.topic);
    if (data === undefined) {
      // RocketMQ's answer when the heartbeat's expression did not compile, with what was wrong.
      const c = compiledSql92(sub.subString);
      return {
        code: ResponseCode.FILTER_DATA_NOT_EXIST,
        remark: `The broker's consumer filter data is not exist!Your expression may be wrong! ${c.ok ? '' : c.error.message}`,
      };
    }
    if (h.subVersion !== undefined && data.version < h.subVersion) {
      const c = compiledSql92(sub.subString);
      return {
        code: ResponseCode.FILTER_DATA_NOT_LATEST,
        remark: `the consumer's consumer filter data not latest: version ${data.version} of group ${h.consumerGroup}'s filter on ${h.topic}, the pull ${h.subVersion}${c.ok ? '' : `; the newer expression: ${c.error.message}`}`,
      };
    }
    return { filter: sqlMessageFilter(data.filter, bitmapOf(ctx, h, data.expression)) };
  }
  // No heartbeat subscription yet (e.g. right after a broker restart): deliver all, the client filters tags.
  if (sub === undefined) return { filter: undefined };
  return { filter: codeSetFilterOf(sub.subString, sub.codeSet ?? []) };
}

/** The group's bits in the store's filter bitmap, when they were computed for this very expression. */
function bitmapOf(ctx: BrokerContext, h: PullHeader, expression: string): BitmapProbe | undefined {
  return ctx.store.filterBitmap?.probe(h.topic, h.consumerGroup, expression);
}

/** Why a non-TAG type is not served: enablePropertyFilter off (RocketMQ's SYSTEM_ERROR) or a type not known. */
function propertyFilterRefusal(ctx: BrokerContext, type: string): Refusal | undefined {
  if (!ctx.config.enablePropertyFilter) return { code: ResponseCode.SYSTEM_ERROR, remark: filterTypeUnsupported(type) };
  if (type !== ExpressionType.sql92)
    return { code: ResponseCode.SUBSCRIPTION_PARSE_FAILED, remark: filterTypeUnknown(type) };
  return undefined;
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
