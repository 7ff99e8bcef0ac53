/** VIEW_MESSAGE_BY_ID (33, by CommitLog offset) and QUERY_MESSAGE (12, by key). Bodies are stored records. */
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import {
  decodeQueryMessageHeader,
  decodeViewMessageHeader,
  encodeQueryMessageResponseHeader,
} from '../../remoting/protocol/query.js';
import type { BrokerContext } from '../context.js';

export const queryMaxNumMax = 64;

export async function viewMessageById(ctx: BrokerContext, req: RemotingCommand) {
  const { offset } = decodeViewMessageHeader(req);
  const record = offset < 0n ? undefined : await ctx.store.lookMessageByOffset(offset);
  if (record === undefined) {
    return createResponse(req, ResponseCode.SYSTEM_ERROR, `can not find message by the offset ${offset}`);
  }
  return createResponse(req, ResponseCode.SUCCESS, undefined, undefined, record);
}

export async function queryMessage(ctx: BrokerContext, req: RemotingCommand) {
  const h = decodeQueryMessageHeader(req);
  const { topic, key } = h;
  const maxNum = Math.max(1, Math.min(h.maxNum, queryMaxNumMax));
  const r = await ctx.store.queryMessage(topic, key, maxNum, BigInt(h.beginTimestamp), BigInt(h.endTimestamp));
  const fields = encodeQueryMessageResponseHeader({
    indexLastUpdateTimestamp: r.indexLastUpdateTimestamp,
    indexLastUpdatePhyoffset: r.indexLastUpdatePhyoffset,
  });
  if (r.records.length === 0) {
    return createResponse(
      req,
      ResponseCode.QUERY_NOT_FOUND,
      `no message with key ${key} in topic ${topic} in that time range`,
      fields,
    );
  }
  return createResponse(req, ResponseCode.SUCCESS, undefined, fields, Buffer.concat(r.records));
}
