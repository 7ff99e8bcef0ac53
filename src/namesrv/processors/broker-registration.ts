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
import { optionalBool, optionalInt, optionalLong, requireLong, requireString } from '../../remoting/fields.js';
import { orderTopicConfigNamespace } from '../kv-config-manager.js';
import { decodeRegisterBrokerBody, toDataVersion } from '../register-body.js';
import type { NamesrvContext, ProcessorConnection } from './context.js';

/** RocketMQ's UtilAll.crc32: CRC32 masked to a non-negative int. */
function javaCrc32(body: Buffer): number {
  return zlib.crc32(body) & 0x7fffffff;
}

export function registerBroker(ctx: NamesrvContext, req: RemotingCommand, conn: ProcessorConnection) {
  const crc = optionalInt(req, 'bodyCrc32') ?? 0;
  if (crc !== 0 && typeof zlib.crc32 === 'function' && javaCrc32(req.body ?? Buffer.alloc(0)) !== crc) {
    ctx.log.warn('register broker body crc32 mismatch', { from: conn.remoteAddress });
    return createResponse(req, ResponseCode.SYSTEM_ERROR, 'crc32 not match');
  }
  const body = decodeRegisterBrokerBody(req.body, optionalBool(req, 'compressed') ?? false);
  const timeout = optionalLong(req, 'heartbeatTimeoutMillis');
  const input = {
    clusterName: requireString(req, 'clusterName'),
    brokerAddr: requireString(req, 'brokerAddr'),
    brokerName: requireString(req, 'brokerName'),
    brokerId: Number(requireLong(req, 'brokerId')),
    haServerAddr: requireString(req, 'haServerAddr'),
    heartbeatTimeoutMillis: timeout === undefined ? undefined : Number(timeout),
    enableActingMaster: optionalBool(req, 'enableActingMaster'),
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
    { haServerAddr: result.haServerAddr, masterAddr: result.masterAddr },
    orderConfigs === undefined ? undefined : encodeJsonBody({ table: orderConfigs }),
  );
}

export function unregisterBroker(ctx: NamesrvContext, req: RemotingCommand) {
  const who = {
    clusterName: requireString(req, 'clusterName'),
    brokerAddr: requireString(req, 'brokerAddr'),
    brokerName: requireString(req, 'brokerName'),
    brokerId: Number(requireLong(req, 'brokerId')),
  };
  ctx.routes.unregisterBroker(who);
  ctx.log.info('broker unregistered', { brokerName: who.brokerName, addr: who.brokerAddr });
  return createResponse(req, ResponseCode.SUCCESS);
}

export function queryDataVersion(ctx: NamesrvContext, req: RemotingCommand) {
  const clusterName = requireString(req, 'clusterName');
  const brokerAddr = requireString(req, 'brokerAddr');
  const theirs = toDataVersion(req.body === undefined ? undefined : parseTolerantJson(req.body.toString('utf8')));
  const changed = ctx.routes.isBrokerTopicConfigChanged(clusterName, brokerAddr, theirs);
  ctx.routes.updateBrokerInfoUpdateTimestamp(clusterName, brokerAddr);
  const ours = ctx.routes.queryBrokerTopicConfig(clusterName, brokerAddr);
  return createResponse(req, ResponseCode.SUCCESS, undefined, { changed }, ours && encodeJsonBody(ours));
}

export function brokerHeartbeat(ctx: NamesrvContext, req: RemotingCommand) {
  ctx.routes.updateBrokerInfoUpdateTimestamp(requireString(req, 'clusterName'), requireString(req, 'brokerAddr'));
  return createResponse(req, ResponseCode.SUCCESS);
}
