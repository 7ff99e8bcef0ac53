/** Shared test doubles for NameServer tests: an embedded NameServer and a broker that registers over TCP. */

import { setLogLevel } from '../../src/common/log.js';
import type { RegisterBrokerBody } from '../../src/common/route-data.js';
import type { NamesrvConfig } from '../../src/namesrv/config.js';
import { NameServer } from '../../src/namesrv/namesrv.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/command.js';

setLogLevel('warn');

export async function startNameServer(config: Partial<NamesrvConfig> = {}): Promise<NameServer> {
  const ns = new NameServer({ listenPort: 0, bindAddress: '127.0.0.1', ...config });
  await ns.start();
  return ns;
}

export interface FakeBrokerOptions {
  brokerName: string;
  brokerAddr: string;
  clusterName?: string;
  brokerId?: number;
  topics: Record<string, number>; // topic → queue count
}

/** Registers like a broker: REGISTER_BROKER with a RegisterBrokerBody, over its own RemotingClient. */
export class FakeBroker {
  readonly client = new RemotingClient({ connectTimeoutMs: 2000, requestTimeoutMsDefault: 3000 });
  private counter = 0;
  constructor(readonly opts: FakeBrokerOptions) {}

  async register(namesrvAddr: string): Promise<RemotingCommand> {
    this.counter++;
    const topicConfigTable = Object.fromEntries(
      Object.entries(this.opts.topics).map(([topicName, n]) => [
        topicName,
        { topicName, readQueueNums: n, writeQueueNums: n, perm: 6, topicSysFlag: 0, order: false },
      ]),
    );
    const body = encodeRegisterBrokerBody({
      topicConfigSerializeWrapper: {
        topicConfigTable,
        dataVersion: { stateVersion: 0, timestamp: 1_700_000_000_000, counter: this.counter },
      },
      filterServerList: [],
    });
    const req = createRequest(
      RequestCode.REGISTER_BROKER,
      {
        brokerName: this.opts.brokerName,
        brokerAddr: this.opts.brokerAddr,
        clusterName: this.opts.clusterName ?? 'DefaultCluster',
        haServerAddr: this.opts.brokerAddr.replace(/:\d+$/, ':10912'),
        brokerId: this.opts.brokerId ?? 0,
        compressed: false,
      },
      body,
    );
    return this.client.invoke(namesrvAddr, req);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** GET_ROUTEINFO_BY_TOPIC; resolves with the parsed route, or the response code when not 0. */
export async function queryRoute(
  client: RemotingClient,
  namesrvAddr: string,
  topic: string,
): Promise<{
  code: number;
  route?: {
    brokerDatas: Array<{ brokerName: string; brokerAddrs: Record<string, string> }>;
    queueDatas: Array<{ brokerName: string; writeQueueNums: number }>;
  };
}> {
  const res = await client.invoke(namesrvAddr, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }));
  if (res.code !== 0) return { code: res.code };
  return { code: 0, route: JSON.parse(res.body?.toString('utf8') ?? 'null') };
}

/** Polls `check` until it returns true or `timeoutMs` passes (generous bounds: the machine is shared). */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

/** A REGISTER_BROKER body as strict JSON (the uncompressed form a broker sends). */
export function encodeRegisterBrokerBody(body: RegisterBrokerBody): Buffer {
  return Buffer.from(JSON.stringify(body), 'utf8');
}
