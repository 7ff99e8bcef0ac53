/** In-process NameServer + Broker(s) on ephemeral loopback ports over temp dirs, for client end-to-end tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Broker } from '../../src/broker/broker.js';
import type { BrokerConfig } from '../../src/broker/config.js';
import { setLogLevel } from '../../src/common/log.js';
import { NameServer } from '../../src/namesrv/namesrv.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { fastMessageDelayLevel } from '../broker/helpers.js';

setLogLevel((process.env['TSROCKET_LOG_LEVEL'] as 'debug' | undefined) ?? 'error');

export interface TestCluster {
  nameServer: string;
  namesrv: NameServer;
  brokers: Broker[];
  dir: string;
  /** Creates the topic on every running broker and waits until the NameServer routes it to all of them. */
  createTopic(topic: string, queues?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startCluster(brokerCount = 1, over: Partial<BrokerConfig> = {}): Promise<TestCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-client-'));
  const namesrv = new NameServer({ listenPort: 0, bindAddress: '127.0.0.1' });
  await namesrv.start();
  const nameServer = `127.0.0.1:${namesrv.port}`;
  const brokers: Broker[] = [];
  try {
    await startBrokers();
  } catch (err) {
    // Nothing left listening: a refused config must fail the test, not hang the run.
    for (const b of brokers) await b.close();
    await namesrv.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  async function startBrokers(): Promise<void> {
    for (let i = 0; i < brokerCount; i++) {
      const root = path.join(dir, `broker-${i}`);
      const broker = new Broker(
        {
          brokerName: `broker-${String.fromCharCode(97 + i)}`,
          listenPort: 0,
          listenHost: '127.0.0.1',
          brokerIP1: '127.0.0.1',
          namesrvAddr: nameServer,
          storePathRootDir: root,
          longPollingSweepMs: 50,
          ...over,
        },
        {
          storePathRootDir: root,
          mappedFileSizeCommitLog: 4 * 1024 * 1024,
          mappedFileSizeConsumeQueue: 6000 * 20,
          messageDelayLevel: fastMessageDelayLevel,
        },
      );
      brokers.push(broker);
      await broker.start();
    }
  }
  const admin = new RemotingClient();
  const cluster: TestCluster = {
    nameServer,
    namesrv,
    brokers,
    dir,
    async createTopic(topic, queues = 4) {
      for (const b of brokers) {
        const r = await admin.invoke(
          b.brokerAddr,
          createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, {
            topic,
            readQueueNums: queues,
            writeQueueNums: queues,
            perm: 6,
          }),
          5000,
        );
        if (r.code !== 0) throw new Error(`create topic ${topic} failed: ${r.code} ${r.remark}`);
      }
      for (let i = 0; i < 100; i++) {
        const r = await admin.invoke(nameServer, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }), 5000);
        if (r.code === 0 && r.body !== undefined) {
          const names = (r.body.toString().match(/"brokerName":"[^"]+"/g) ?? []).length;
          if (names >= brokers.length * 2) return;
        }
        await sleep(50);
      }
      throw new Error(`topic ${topic} never showed up in the NameServer route`);
    },
    async close() {
      try {
        await admin.close();
        for (const b of brokers) await b.close();
        await namesrv.close();
      } finally {
        // A close that throws still takes the cluster's data dir with it.
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  return cluster;
}

/** Polls `cond` every 20 ms until true or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}
