/**
 * Broker membership: REGISTER_BROKER (103), UNREGISTER_BROKER (104), QUERY_DATA_VERSION (322),
 * BROKER_HEARTBEAT (904).
 * 103 header: brokerName, brokerAddr, clusterName, haServerAddr, brokerId, [heartbeatTimeoutMillis],
 *   [enableActingMaster], [compressed], [bodyCrc32]; body RegisterBrokerBody (register-body.ts).
 *   Response ext: haServerAddr, masterAddr (for slaves, when the master is live); body: ORDER_TOPIC_CONFIG KV list.
 * 322 header: brokerName, brokerAddr, clusterName, brokerId; body DataVersion JSON. Response ext `changed`,
 *   body the DataVersion the NameServer holds.
 */
import * as zlib from 'node:zlib';
import { parseTolerantJson } from '../../common/json.js';
import { encodeJsonBody } from '../../common/route-data.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import {
  decodeBrokerAddrHeader,
  decodeBrokerIdentityHeader,
  decodeRegisterBrokerHeader,
  encodeDataVersionResponseHeader,
  encodeRegisterBrokerResponseHeader,
} from '../../remoting/protocol/namesrv-registration.js';
import { orderTopicConfigNamespace } from '../kv-config-manager.js';
import { decodeRegisterBrokerBody, toDataVersion } from '../register-body.js';
import type { NamesrvContext, ProcessorConnection } from './context.js';

/** RocketMQ's UtilAll.crc32: CRC32 masked to a non-negative int. */
function javaCrc32(body: Buffer): number {
  return zlib.crc32(body) & 0x7fffffff;
}

export function registerBroker(ctx: NamesrvContext, req: RemotingCommand, conn: ProcessorConnection) {
  const h = decodeRegisterBrokerHeader(req);
  const crc = h.bodyCrc32 ?? 0;
  if (crc !== 0 && typeof zlib.crc32 === 'function' && javaCrc32(req.body ?? Buffer.alloc(0)) !== crc) {
    ctx.log.warn('register broker body crc32 mismatch', { from: conn.remoteAddress });
    return createResponse(req, ResponseCode.SYSTEM_ERROR, 'crc32 not match');
  }
  const body = decodeRegisterBrokerBody(req.body, h.compressed);
  const input = {
    clusterName: h.clusterName,
    brokerAddr: h.brokerAddr,
    brokerName: h.brokerName,
    brokerId: h.brokerId,
    haServerAddr: h.haServerAddr,
    heartbeatTimeoutMillis: h.heartbeatTimeoutMillis,
    enableActingMaster: h.enableActingMaster,
    topicConfigTable: body.topicConfigSerializeWrapper.topicConfigTable,
    dataVersion: body.topicConfigSerializeWrapper.dataVersion,
    filterServerList: body.filterServerList,
    channel: conn,
  };
  const isNew = ctx.routes.queryBrokerTopicConfig(input.clusterName, input.brokerAddr) === undefined;
  const result = ctx.routes.registerBroker(input);
  if (isNew) {
    ctx.log.info('broker registered', {
      cluster: input.clusterName,
      brokerName: input.brokerName,
      brokerId: input.brokerId,
      addr: input.brokerAddr,
      topics: Object.keys(input.topicConfigTable).length,
    });
  }
  if (result.status === 'ignored') {
    ctx.log.warn('broker registration ignored: another address holds this brokerId with a newer state', {
      brokerName: input.brokerName,
      brokerId: input.brokerId,
      addr: input.brokerAddr,
    });
    return createResponse(req, ResponseCode.SUCCESS);
  }
  const orderConfigs = ctx.kv.list(orderTopicConfigNamespace);
  return createResponse(
    req,
    ResponseCode.SUCCESS,
    undefined,
    encodeRegisterBrokerResponseHeader({ haServerAddr: result.haServerAddr, masterAddr: result.masterAddr }),
    orderConfigs === undefined ? undefined : encodeJsonBody({ table: orderConfigs }),
  );
}

export function unregisterBroker(ctx: NamesrvContext, req: RemotingCommand) {
  const who = decodeBrokerIdentityHeader(req);
  ctx.routes.unregisterBroker(who);
  ctx.log.info('broker unregistered', { brokerName: who.brokerName, addr: who.brokerAddr });
  return createResponse(req, ResponseCode.SUCCESS);
}

export function queryDataVersion(ctx: NamesrvContext, req: RemotingCommand) {
  const { clusterName, brokerAddr } = decodeBrokerAddrHeader(req);
  const theirs = toDataVersion(req.body === undefined ? undefined : parseTolerantJson(req.body.toString('utf8')));
  const changed = ctx.routes.isBrokerTopicConfigChanged(clusterName, brokerAddr, theirs);
  ctx.routes.updateBrokerInfoUpdateTimestamp(clusterName, brokerAddr);
  const ours = ctx.routes.queryBrokerTopicConfig(clusterName, brokerAddr);
  return createResponse(
    req,
    ResponseCode.SUCCESS,
    undefined,
    encodeDataVersionResponseHeader(changed),
    ours && encodeJsonBody(ours),
  );
}

export function brokerHeartbeat(ctx: NamesrvContext, req: RemotingCommand) {
  const { clusterName, brokerAddr } = decodeBrokerAddrHeader(req);
  ctx.routes.updateBrokerInfoUpdateTimestamp(clusterName, brokerAddr);
  return createResponse(req, ResponseCode.SUCCESS);
}
