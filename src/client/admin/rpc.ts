/** Request plumbing shared by the admin operations: NameServer fail-over and response-code checks. */

import { TsRocketError } from '../../common/errors.js';
import { RemotingClient } from '../../remoting/client.js';
import { RequestCode, ResponseCode, requestCodeName } from '../../remoting/codes.js';
import { createRequest, type RemotingCommand } from '../../remoting/command.js';
import { RemotingResponseError } from '../../remoting/errors.js';
import { encodeTopicHeader } from '../../remoting/protocol/topic-admin.js';
import { parseNameServerList } from '../name-server.js';
import {
  type BrokerData,
  type ClusterInfo,
  decodeClusterInfo,
  decodeTopicRoute,
  type TopicRouteData,
} from './bodies.js';

export const adminTimeoutMsDefault = 5_000;
export const nameServerDefault = '127.0.0.1:9876';

type Fields = Record<string, string | number | boolean | bigint | undefined>;

/** Splits `host:port;host2:port` (RocketMQ's namesrvAddr) into addresses. */
export function masterAddrOf(bd: BrokerData): string | undefined {
  return bd.brokerAddrs['0'];
}

export class AdminRpc {
  readonly nameServers: string[];
  readonly client: RemotingClient;
  readonly timeoutMs: number;

  constructor(nameServer: string, timeoutMs: number) {
    this.nameServers = parseNameServerList(nameServer);
    this.timeoutMs = timeoutMs;
    this.client = new RemotingClient({ requestTimeoutMsDefault: timeoutMs, connectTimeoutMs: timeoutMs });
  }

  /** Sends to `addr`; any non-SUCCESS code not listed in `accept` becomes a RemotingResponseError. */
  async call(
    addr: string,
    code: number,
    fields?: Fields,
    body?: Buffer,
    accept: readonly number[] = [],
  ): Promise<RemotingCommand> {
    const resp = await this.client.invoke(addr, createRequest(code, fields, body), this.timeoutMs);
    if (resp.code !== ResponseCode.SUCCESS && !accept.includes(resp.code)) {
      throw RemotingResponseError.of(resp, `${requestCodeName(code)} to ${addr}`);
    }
    return resp;
  }

  /** Asks NameServers in order; a transport failure moves to the next, a response error is final. */
  async callNameServer(code: number, fields?: Fields): Promise<RemotingCommand> {
    let lastError: unknown;
    for (const ns of this.nameServers) {
      try {
        return await this.call(ns, code, fields);
      } catch (e) {
        if (e instanceof RemotingResponseError) throw e;
        lastError = e;
      }
    }
    throw lastError;
  }

  async clusterInfo(): Promise<ClusterInfo> {
    return decodeClusterInfo((await this.callNameServer(106)).body);
  }

  async topicRoute(topic: string): Promise<TopicRouteData> {
    return decodeTopicRoute(
      (await this.callNameServer(RequestCode.GET_ROUTEINFO_BY_TOPIC, encodeTopicHeader({ topic }))).body,
    );
  }

  /** Master addresses of every broker of `cluster` (all clusters when undefined). */
  async clusterMasters(cluster?: string): Promise<Array<{ brokerName: string; addr: string }>> {
    const info = await this.clusterInfo();
    const names =
      cluster === undefined ? Object.keys(info.brokerAddrTable) : (info.clusterAddrTable[cluster] ?? undefined);
    if (names === undefined) {
      throw new TsRocketError(
        `cluster '${cluster}' not found (known: ${Object.keys(info.clusterAddrTable).join(', ') || 'none'})`,
      );
    }
    const out: Array<{ brokerName: string; addr: string }> = [];
    for (const name of [...names].sort()) {
      const bd = info.brokerAddrTable[name];
      const addr = bd === undefined ? undefined : masterAddrOf(bd);
      if (addr !== undefined) out.push({ brokerName: name, addr });
    }
    return out;
  }

  /** Master addresses of the brokers that serve `topic`, from its route. */
  async topicMasters(topic: string): Promise<Array<{ brokerName: string; addr: string }>> {
    const route = await this.topicRoute(topic);
    const out: Array<{ brokerName: string; addr: string }> = [];
    for (const bd of route.brokerDatas) {
      const addr = masterAddrOf(bd);
      if (addr !== undefined) out.push({ brokerName: bd.brokerName, addr });
    }
    return out.sort((a, b) => a.brokerName.localeCompare(b.brokerName));
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
