/**
 * POP_MESSAGE (200050): the remoting face of PopService. The answer carries RocketMQ's header (popTime,
 * invisibleTime, reviveQid, restNum, startOffsetInfo, msgOffsetInfo, orderCountInfo) and, as body, the messages in
 * the pulled-record layout: a first delivery as stored (clients build its handle from the offset lists, as with
 * RocketMQ's broker), a revived or FIFO-redelivered one re-encoded under its original topic with POP_CK set. Nothing within
 * pollTime → POLLING_TIMEOUT; more than 32 messages asked → INVALID_PARAMETER.
 */
import { setMaxListeners } from 'node:events';
import { encodeProperties } from '../../common/properties.js';
import { encodeRecord } from '../../common/record.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { decodePopMessageHeader, encodePopMessageResponseHeader, PopInitMode } from '../../remoting/protocol/pop.js';
import type { RemotingConnection } from '../../remoting/server.js';
import type { BrokerContext } from '../context.js';
import { ExpressionType, isTagType } from '../filter/expression-type.js';
import { msgOffsetInfoOf, orderCountInfoOf, startOffsetInfoOf } from '../pop/extra-info.js';
import { StoredPopped } from '../pop/stored-popped.js';
import type { PoppedMessage } from '../pop/types.js';

export async function popMessage(ctx: BrokerContext, req: RemotingCommand, conn: RemotingConnection) {
  const h = decodePopMessageHeader(req);
  const type = isTagType(h.expType) ? 'TAG' : h.expType === ExpressionType.sql92 ? 'SQL92' : undefined;
  if (type === undefined) {
    return createResponse(
      req,
      ResponseCode.INVALID_PARAMETER,
      `unknown expression type ${JSON.stringify(h.expType)} (TAG or SQL92)`,
    );
  }
  if (h.initMode !== PopInitMode.min && h.initMode !== PopInitMode.max) {
    return createResponse(req, ResponseCode.INVALID_PARAMETER, `initMode ${h.initMode} is neither 0 (MIN) nor 1 (MAX)`);
  }
  const r = await ctx.pop.pop(
    {
      group: h.consumerGroup,
      topic: h.topic,
      queueId: h.queueId,
      maxMessages: h.maxMsgNums,
      invisibleTimeMs: safeNumber(h.invisibleTime),
      pollTimeMs: safeNumber(h.pollTime),
      initMode: h.initMode === PopInitMode.min ? 'min' : 'max',
      filter: { type, expression: h.exp ?? '*' },
      fifo: h.order === true,
      attemptId: h.attemptId,
    },
    closeSignalOf(conn),
  );
  if (r.status === 'refused') return createResponse(req, r.code, r.remark);
  if (r.status === 'none') return createResponse(req, ResponseCode.POLLING_TIMEOUT, 'no new message');
  const resp = createResponse(req, ResponseCode.SUCCESS);
  resp.extFields = encodePopMessageResponseHeader({
    popTime: r.popTimeMs,
    invisibleTime: r.invisibleTimeMs,
    reviveQid: r.reviveQid,
    restNum: r.restNum,
    startOffsetInfo: startOffsetInfoOf(r.queues),
    msgOffsetInfo: msgOffsetInfoOf(r.queues),
    orderCountInfo: h.order === true ? orderCountInfoOf(r.queues) : undefined,
  });
  resp.bodyParts = bodyPartsOf(r.messages);
  return resp;
}

/** Records going out as stored stay in their pop's buffer: one part per run of them; the others re-encoded. */
function bodyPartsOf(messages: readonly PoppedMessage[]): Buffer[] {
  const parts: Buffer[] = [];
  let run: Buffer | undefined;
  let start = 0;
  let end = 0;
  for (const p of messages) {
    if (p instanceof StoredPopped && p.asStored) {
      if (p.buf === run && p.at === end) {
        end += p.storeSize;
        continue;
      }
      if (run !== undefined) parts.push(run.subarray(start, end));
      run = p.buf;
      start = p.at;
      end = p.at + p.storeSize;
      continue;
    }
    if (run !== undefined) parts.push(run.subarray(start, end));
    run = undefined;
    parts.push(recordOf(p));
  }
  if (run !== undefined) parts.push(run.subarray(start, end));
  return parts;
}

/** The message re-encoded as stored, with the properties (POP_CK) and topic it is handed out with. */
function recordOf(p: PoppedMessage): Buffer {
  const m = p.msg;
  return encodeRecord(
    {
      topic: m.topic,
      queueId: m.queueId,
      flag: m.flag,
      body: m.body,
      properties: encodeProperties(m.properties),
      sysFlag: m.sysFlag,
      bornTimestamp: m.bornTimestamp,
      bornHost: m.bornHost,
      reconsumeTimes: m.reconsumeTimes,
      preparedTransactionOffset: m.preparedTransactionOffset,
    },
    m.queueOffset,
    m.commitLogOffset,
    m.storeTimestamp,
    m.storeHost,
  );
}

/** Header longs as numbers; absurd values become a number the service refuses. */
function safeNumber(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(v);
}

const closeSignals = new WeakMap<RemotingConnection, AbortSignal>();

/** One signal per connection, aborted when it closes: a held pop of a gone client takes no messages. */
function closeSignalOf(conn: RemotingConnection): AbortSignal {
  let signal = closeSignals.get(conn);
  if (signal === undefined) {
    const ac = new AbortController();
    // Every pop held on the connection listens to it: no leak warning past 10.
    setMaxListeners(0, ac.signal);
    conn.onClose(() => ac.abort());
    signal = ac.signal;
    closeSignals.set(conn, signal);
  }
  return signal;
}
