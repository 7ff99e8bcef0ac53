/**
 * KV config: PUT_KV_CONFIG (100: namespace, key, value), GET_KV_CONFIG (101: namespace, key → ext `value`,
 * or QUERY_NOT_FOUND 22), DELETE_KV_CONFIG (102: namespace, key), GET_KVLIST_BY_NAMESPACE (219: namespace →
 * body KVTable `{"table":{k:v}}`, or 22).
 */

import { encodeJsonBody } from '../../common/route-data.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { requireString } from '../../remoting/fields.js';
import type { NamesrvContext } from './context.js';

export async function putKvConfig(ctx: NamesrvContext, req: RemotingCommand) {
  await ctx.kv.put(requireString(req, 'namespace'), requireString(req, 'key'), requireString(req, 'value'));
  return createResponse(req, ResponseCode.SUCCESS);
}

export function getKvConfig(ctx: NamesrvContext, req: RemotingCommand) {
  const namespace = requireString(req, 'namespace');
  const key = requireString(req, 'key');
  const value = ctx.kv.get(namespace, key);
  if (value === undefined) {
    return createResponse(req, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${namespace} Key: ${key}`);
  }
  return createResponse(req, ResponseCode.SUCCESS, undefined, { value });
}

export async function deleteKvConfig(ctx: NamesrvContext, req: RemotingCommand) {
  await ctx.kv.delete(requireString(req, 'namespace'), requireString(req, 'key'));
  return createResponse(req, ResponseCode.SUCCESS);
}

export function getKvListByNamespace(ctx: NamesrvContext, req: RemotingCommand) {
  const namespace = requireString(req, 'namespace');
  const entries = ctx.kv.list(namespace);
  if (entries === undefined) {
    return createResponse(req, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${namespace}`);
  }
  return createResponse(req, ResponseCode.SUCCESS, undefined, undefined, encodeJsonBody({ table: entries }));
}
