/**
 * Where a benchmark runs: an embedded NameServer + Broker over a temp dir (default), or a remote cluster
 * reached through its NameServer. Also creates the topic and reads the broker's RSS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Broker } from '../broker/broker.js';
import { Admin } from '../client/admin/admin.js';
import { setLogLevel } from '../common/log.js';
import { NameServer } from '../namesrv/namesrv.js';
import { FlushDiskType } from '../store/config.js';
import type { BenchOptions } from './options.js';

/** Smaller than the 1 GiB default so a short run does not allocate a huge first segment. */
const benchSegmentBytes = 256 * 1024 * 1024;
const routeWaitMs = 10_000;
const routePollMs = 50;

export interface BenchTarget {
  nameServer: string;
  /** 'embedded' or the NameServer address. */
  label: string;
  embedded: boolean;
  /** "host:port" of the embedded broker's gRPC endpoint; undefined for a remote cluster. */
  grpcEndpoint?: string | undefined;
  /** Broker RSS in bytes (embedded: this process; remote: runtime info `rss` when the broker reports one). */
  brokerRssBytes(): Promise<number | null>;
  close(): Promise<void>;
}

/** Starts the embedded system (or connects to opts.nameServer) and makes sure the topic exists and is routed. */
export async function openTarget(opts: BenchOptions): Promise<BenchTarget> {
  const target = opts.nameServer === undefined ? await startEmbedded(opts) : remoteTarget(opts.nameServer);
  try {
    await ensureTopic(target.nameServer, opts.topic, opts.queues);
  } catch (err) {
    await target.close();
    throw err;
  }
  return target;
}

async function startEmbedded(opts: BenchOptions): Promise<BenchTarget> {
  setLogLevel('error');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-bench-'));
  const namesrv = new NameServer({ listenPort: 0, bindAddress: '127.0.0.1' });
  await namesrv.start();
  const nameServer = `127.0.0.1:${namesrv.port}`;
  const root = path.join(dir, 'broker');
  const broker = new Broker(
    {
      brokerName: 'broker-bench',
      listenPort: 0,
      listenHost: '127.0.0.1',
      brokerIP1: '127.0.0.1',
      namesrvAddr: nameServer,
      storePathRootDir: root,
      enableGrpc: true,
      grpcServerPort: 0,
    },
    {
      storePathRootDir: root,
      mappedFileSizeCommitLog: benchSegmentBytes,
      flushDiskType: opts.flush === 'SYNC' ? FlushDiskType.SYNC_FLUSH : FlushDiskType.ASYNC_FLUSH,
    },
  );
  let grpcPort: number | undefined;
  try {
    await broker.start();
    grpcPort = await broker.grpcReady();
  } catch (err) {
    await namesrv.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    nameServer,
    label: 'embedded',
    embedded: true,
    grpcEndpoint: grpcPort === undefined ? undefined : `127.0.0.1:${grpcPort}`,
    brokerRssBytes: async () => process.memoryUsage.rss(),
    async close() {
      await broker.close();
      await namesrv.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function remoteTarget(nameServer: string): BenchTarget {
  return {
    nameServer,
    label: nameServer,
    embedded: false,
    async brokerRssBytes() {
      const admin = new Admin({ nameServer });
      try {
        const cluster = await admin.clusterInfo();
        const first = Object.values(cluster.brokerAddrTable)[0];
        const addr = first === undefined ? undefined : Object.values(first.brokerAddrs)[0];
        if (addr === undefined) return null;
        const table = await admin.brokerRuntimeInfo(addr);
        const rss = Number(table['rss'] ?? table['processRss'] ?? Number.NaN);
        return Number.isFinite(rss) ? rss : null;
      } catch {
        return null;
      } finally {
        await admin.close();
      }
    },
    close: async () => undefined,
  };
}

async function ensureTopic(nameServer: string, topic: string, queues: number): Promise<void> {
  const admin = new Admin({ nameServer });
  try {
    try {
      const route = await admin.topicRoute(topic);
      if (route.queueDatas.length > 0) return;
    } catch {
      // not routed yet: create it below
    }
    const cluster = await admin.clusterInfo();
    const clusterName = Object.keys(cluster.clusterAddrTable)[0];
    if (clusterName === undefined) throw new Error(`no broker registered at NameServer ${nameServer}`);
    await admin.createOrUpdateTopic(
      { cluster: clusterName },
      { topicName: topic, readQueueNums: queues, writeQueueNums: queues, perm: 6 },
    );
    const deadline = Date.now() + routeWaitMs;
    while (Date.now() < deadline) {
      try {
        if ((await admin.topicRoute(topic)).queueDatas.length > 0) return;
      } catch {
        // keep polling until the broker re-registered the topic
      }
      await sleep(routePollMs);
    }
    throw new Error(`topic ${topic} never showed up in the route of NameServer ${nameServer}`);
  } finally {
    await admin.close();
  }
}
