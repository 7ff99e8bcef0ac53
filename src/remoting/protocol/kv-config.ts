/**
 * NameServer KV config: PUT_KV_CONFIG (100), GET_KV_CONFIG (101), DELETE_KV_CONFIG (102),
 * GET_KVLIST_BY_NAMESPACE (219).
 *
 *   PutKVConfigRequestHeader              namespace String *, key String *, value String *
 *   GetKVConfigRequestHeader, DeleteKVConfigRequestHeader   namespace String *, key String *
 *   GetKVListByNamespaceRequestHeader     namespace String *
 *   GetKVConfigResponseHeader             value String
 */
import type { RemotingCommand } from '../command.js';
import { optionalString, requireString } from '../fields.js';

export interface KvKeyRequestHeader {
  namespace: string;
  key: string;
}

export interface PutKvConfigRequestHeader extends KvKeyRequestHeader {
  value: string;
}

export function encodePutKvConfigHeader(h: PutKvConfigRequestHeader): Record<string, string> {
  return { namespace: h.namespace, key: h.key, value: h.value };
}

export function decodePutKvConfigHeader(req: RemotingCommand): PutKvConfigRequestHeader {
  return {
    namespace: requireString(req, 'namespace'),
    key: requireString(req, 'key'),
    value: requireString(req, 'value'),
  };
}

export function encodeKvKeyHeader(h: KvKeyRequestHeader): Record<string, string> {
  return { namespace: h.namespace, key: h.key };
}

export function decodeKvKeyHeader(req: RemotingCommand): KvKeyRequestHeader {
  return { namespace: requireString(req, 'namespace'), key: requireString(req, 'key') };
}

export interface KvNamespaceRequestHeader {
  namespace: string;
}

export function encodeKvNamespaceHeader(h: KvNamespaceRequestHeader): Record<string, string> {
  return { namespace: h.namespace };
}

export function decodeKvNamespaceHeader(req: RemotingCommand): KvNamespaceRequestHeader {
  return { namespace: requireString(req, 'namespace') };
}

export function encodeKvValueResponseHeader(value: string): Record<string, string> {
  return { value };
}

export function decodeKvValueResponseHeader(resp: RemotingCommand): string | undefined {
  return optionalString(resp, 'value');
}
