/**
 * Broker registration with the NameServer: REGISTER_BROKER (103), UNREGISTER_BROKER (104),
 * QUERY_DATA_VERSION (322), BROKER_HEARTBEAT (904).
 *
 * RegisterBrokerRequestHeader (* = required by RocketMQ 4.9.8):
 *   brokerName String *, brokerAddr String *, clusterName String *, haServerAddr String *, brokerId Long *,
 *   compressed boolean (default false), bodyCrc32 Integer (default 0 = unchecked);
 *   5.x adds heartbeatTimeoutMillis Long and enableActingMaster Boolean.
 * RegisterBrokerResponseHeader: haServerAddr String, masterAddr String.
 * UnregisterBrokerRequestHeader, QueryDataVersionRequestHeader: brokerName, brokerAddr, clusterName String *,
 *   brokerId Long *. QueryDataVersionResponseHeader: changed Boolean *.
 * BrokerHeartbeatRequestHeader (5.x): clusterName, brokerAddr, brokerName String *, brokerId Long.
 */
import type { RemotingCommand } from '../command.js';
import { optionalBool, optionalInt, optionalLong, requireLong, requireString } from '../fields.js';

/** Who a broker is: the fields UNREGISTER_BROKER and QUERY_DATA_VERSION carry. */
export interface BrokerIdentityHeader {
  brokerName: string;
  brokerAddr: string;
  clusterName: string;
  brokerId: number;
}

export interface RegisterBrokerRequestHeader extends BrokerIdentityHeader {
  haServerAddr: string;
  compressed: boolean;
  bodyCrc32?: number | undefined;
  heartbeatTimeoutMillis?: number | undefined;
  enableActingMaster?: boolean | undefined;
}

export function encodeRegisterBrokerHeader(h: RegisterBrokerRequestHeader): Record<string, string> {
  const out: Record<string, string> = {
    brokerName: h.brokerName,
    brokerAddr: h.brokerAddr,
    clusterName: h.clusterName,
    haServerAddr: h.haServerAddr,
    brokerId: String(h.brokerId),
    compressed: String(h.compressed),
  };
  if (h.bodyCrc32 !== undefined) out['bodyCrc32'] = String(h.bodyCrc32);
  if (h.heartbeatTimeoutMillis !== undefined) out['heartbeatTimeoutMillis'] = String(h.heartbeatTimeoutMillis);
  if (h.enableActingMaster !== undefined) out['enableActingMaster'] = String(h.enableActingMaster);
  return out;
}

export function decodeRegisterBrokerHeader(req: RemotingCommand): RegisterBrokerRequestHeader {
  const timeout = optionalLong(req, 'heartbeatTimeoutMillis');
  return {
    clusterName: requireString(req, 'clusterName'),
    brokerAddr: requireString(req, 'brokerAddr'),
    brokerName: requireString(req, 'brokerName'),
    brokerId: Number(requireLong(req, 'brokerId')),
    haServerAddr: requireString(req, 'haServerAddr'),
    compressed: optionalBool(req, 'compressed') ?? false,
    bodyCrc32: optionalInt(req, 'bodyCrc32') ?? 0,
    heartbeatTimeoutMillis: timeout === undefined ? undefined : Number(timeout),
    enableActingMaster: optionalBool(req, 'enableActingMaster'),
  };
}

export interface RegisterBrokerResponseHeader {
  haServerAddr?: string | undefined;
  masterAddr?: string | undefined;
}

export function encodeRegisterBrokerResponseHeader(h: RegisterBrokerResponseHeader): Record<string, string> {
  const out: Record<string, string> = {};
  if (h.haServerAddr !== undefined) out['haServerAddr'] = h.haServerAddr;
  if (h.masterAddr !== undefined) out['masterAddr'] = h.masterAddr;
  return out;
}

export function encodeBrokerIdentityHeader(h: BrokerIdentityHeader): Record<string, string> {
  return {
    brokerName: h.brokerName,
    brokerAddr: h.brokerAddr,
    clusterName: h.clusterName,
    brokerId: String(h.brokerId),
  };
}

export function decodeBrokerIdentityHeader(req: RemotingCommand): BrokerIdentityHeader {
  return {
    clusterName: requireString(req, 'clusterName'),
    brokerAddr: requireString(req, 'brokerAddr'),
    brokerName: requireString(req, 'brokerName'),
    brokerId: Number(requireLong(req, 'brokerId')),
  };
}

/** QUERY_DATA_VERSION and BROKER_HEARTBEAT: the broker's cluster and address are all the NameServer reads. */
export interface BrokerAddrRequestHeader {
  clusterName: string;
  brokerAddr: string;
}

export function decodeBrokerAddrHeader(req: RemotingCommand): BrokerAddrRequestHeader {
  return { clusterName: requireString(req, 'clusterName'), brokerAddr: requireString(req, 'brokerAddr') };
}

export function encodeDataVersionResponseHeader(changed: boolean): Record<string, string> {
  return { changed: String(changed) };
}
