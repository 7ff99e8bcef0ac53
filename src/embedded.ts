/**
 * An in-process NameServer + Broker on free loopback ports, for users' own tests and local tools.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Broker } from './broker/broker.js';
import type { BrokerConfig } from './broker/config.js';
import type { NameServer } from './namesrv/namesrv.js';
import type { StoreConfig } from './store/config.js';

/** CommitLog segment size of an embedded broker unless `storeConfig` says otherwise (64 MiB, sparse). */
export const embeddedCommitLogBytesDefault = 64 * 1024 * 1024;

export interface EmbeddedOptions {
  /** Where the NameServer and Broker keep their files; kept on close. Default: a new temp dir, removed on close. */
  dataDir?: string;
  /**
   * Broker settings over the embedded defaults (loopback, port 0, auto-create topics on). `enableGrpc: true`
   * also serves RocketMQ 5 clients (gRPC, on a free port unless `grpcServerPort` says otherwise).
   */
  brokerConfig?: Partial<BrokerConfig>;
  /** Store settings (flushDiskType, segment sizes, …). */
  storeConfig?: Partial<StoreConfig>;
}

export interface EmbeddedCluster {
  /** NameServer address, "127.0.0.1:port": give it to producers and consumers as `nameServer`. */
  nameServer: string;
  /** Broker address, "127.0.0.1:port" (admin calls, topic creation on one broker). */
  brokerAddr: string;
  /** gRPC endpoint "127.0.0.1:port" for RocketMQ 5 clients, when `brokerConfig.enableGrpc` is on. */
  grpcEndpoint: string | undefined;
  /** Stops the Broker, then the NameServer; removes the data dir when it was a temp dir. */
  close(): Promise<void>;
}

/**
 * Starts a NameServer and a Broker in this process on free 127.0.0.1 ports and resolves once the broker has
 * registered with the NameServer. Topics are auto-created on first send (8 queues) unless
 * `brokerConfig.autoCreateTopicEnable` is false. SQL92 subscriptions are served (`enablePropertyFilter`, as in
 * `tsrocket start`) unless `brokerConfig.enablePropertyFilter` is false; the trace topic exists likewise
 * (`traceTopicEnable`).
 *
 * @example
 * ```ts
 * import { ConsumeFromWhere, Producer, PushConsumer, startEmbedded } from 'tsrocket';
 *
 * const mq = await startEmbedded();
 * const producer = new Producer({ nameServer: mq.nameServer, group: 'PID_test' });
 * await producer.start();
 * await producer.send({ topic: 'Orders', body: 'hello' });
 *
 * const consumer = new PushConsumer({
 *   nameServer: mq.nameServer,
 *   group: 'GID_test',
 *   consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
 * });
 * consumer.subscribe('Orders', '*').onMessage((msg) => console.log(msg.body.toString()));
 * await consumer.start();
 * // … assertions …
 * await consumer.shutdown();
 * await producer.shutdown();
 * await mq.close();
 * ```
 */
export async function startEmbedded(opts: EmbeddedOptions = {}): Promise<EmbeddedCluster> {
  // Loaded here so that importing the client SDK does not load the server side.
  const [{ Broker }, { NameServer }] = await Promise.all([
    import('./broker/broker.js'),
    import('./namesrv/namesrv.js'),
  ]);
  const ownDir = opts.dataDir === undefined;
  const dataDir =
    opts.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'tsrocket-embedded-')) : resolve(opts.dataDir);
  let namesrv: NameServer | undefined;
  let broker: Broker | undefined;
  const close = async (): Promise<void> => {
    try {
      await broker?.close();
      await namesrv?.close();
    } finally {
      broker = undefined;
      namesrv = undefined;
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    }
  };
  try {
    await mkdir(join(dataDir, 'namesrv'), { recursive: true });
    namesrv = new NameServer({
      listenPort: 0,
      bindAddress: '127.0.0.1',
      kvConfigPath: join(dataDir, 'namesrv', 'kvConfig.json'),
    });
    // Its port is 0, so it listens to learn it; the broker registers in-process, as in `tsrocket start`.
    const ns = namesrv;
    await ns.start();
    const nameServer = `127.0.0.1:${ns.port}`;
    const brokerRoot = opts.brokerConfig?.storePathRootDir ?? join(dataDir, 'broker');
    broker = new Broker(
      {
        listenPort: 0,
        listenHost: '127.0.0.1',
        brokerIP1: '127.0.0.1',
        autoCreateTopicEnable: true,
        enablePropertyFilter: true,
        traceTopicEnable: true,
        grpcServerPort: 0,
        ...opts.brokerConfig,
        storePathRootDir: brokerRoot,
        namesrvAddr: nameServer,
      },
      { storePathRootDir: brokerRoot, mappedFileSizeCommitLog: embeddedCommitLogBytesDefault, ...opts.storeConfig },
      { inProcessNamesrv: { addr: nameServer, invoke: (req) => ns.invokeLocal(req) } },
    );
    await broker.start();
    const grpcPort = await broker.grpcReady();
    const grpcEndpoint = grpcPort === undefined ? undefined : `127.0.0.1:${grpcPort}`;
    return { nameServer, brokerAddr: broker.brokerAddr, grpcEndpoint, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
