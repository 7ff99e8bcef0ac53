/**
 * KV config: PUT_KV_CONFIG (100: namespace, key, value), GET_KV_CONFIG (101: namespace, key → ext `value`,
 * or QUERY_NOT_FOUND 22), DELETE_KV_CONFIG (102: namespace, key), GET_KVLIST_BY_NAMESPACE (219: namespace →
 * body KVTable `{"table":{k:v}}`, or 22).
 */

import { encodeJsonBody } from '../../common/route-data.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import {
  decodeKvKeyHeader,
  decodeKvNamespaceHeader,
  decodePutKvConfigHeader,
  encodeKvValueResponseHeader,
} from '../../remoting/protocol/kv-config.js';
import type { NamesrvContext } from './context.js';

export async function putKvConfig(ctx: NamesrvContext, req: RemotingCommand) {
  const h = decodePutKvConfigHeader(req);
  await ctx.kv.put(h.namespace, h.key, h.value);
  return createResponse(req, ResponseCode.SUCCESS);
}

export function getKvConfig(ctx: NamesrvContext, req: RemotingCommand) {
  const { namespace, key } = decodeKvKeyHeader(req);
  const value = ctx.kv.get(namespace, key);
  if (value === undefined) {
    return createResponse(req, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${namespace} Key: ${key}`);
  }
  return createResponse(req, ResponseCode.SUCCESS, undefined, encodeKvValueResponseHeader(value));
}

export async function deleteKvConfig(ctx: NamesrvContext, req: RemotingCommand) {
  const { namespace, key } = decodeKvKeyHeader(req);
  await ctx.kv.delete(namespace, key);
  return createResponse(req, ResponseCode.SUCCESS);
}

export function getKvListByNamespace(ctx: NamesrvContext, req: RemotingCommand) {
  const { namespace } = decodeKvNamespaceHeader(req);
  const entries = ctx.kv.list(namespace);
  if (entries === undefined) {
    return createResponse(req, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${namespace}`);
  }
  return createResponse(req, ResponseCode.SUCCESS, undefined, undefined, encodeJsonBody({ table: entries }));
}
