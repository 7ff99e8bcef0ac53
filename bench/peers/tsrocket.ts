/**
 * tsrocket through its own SDK. Produce: Producer.send per message with auto-batching (the default, idiomatic),
 * without it, and explicit batch sends (send of a Message[]); consume: PullConsumer with pullBatchSize 256, and
 * with the broker's largest pull (1024).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '../../src/client/admin/admin.js';
import { ConsumeFromWhere, type Message, Producer, PullConsumer, SendStatus } from '../../src/client/index.js';
import { runBatches, runPerMessage } from './modes.js';
import type { ConsumeMode, ConsumerHandle, ModeOptions, Peer, PeerSession, ProduceMode, StartedPeer } from './peer.js';
import { freePort, spawnServer, waitForPort } from './processes.js';
import { Durability, ModeKind } from './results.js';

export const queueNums = 8;
/** Messages per pull request (others: NATS 1000 per pull batch, RabbitMQ prefetch 1000, Redis COUNT 1000). */
export const pullBatchSize = 256;
/** The broker's pullMsgNumsMax: the largest pull it answers. */
const bigPullBatchSize = 1024;

const here = path.dirname(fileURLToPath(import.meta.url));

export class TsrocketSession implements PeerSession {
  private readonly producer: Producer;
  private readonly unbatched: Producer;
  private groupSeq = 0;
  readonly produceModes: readonly ProduceMode[];
  readonly consumeModes: readonly ConsumeMode[];

  constructor(
    readonly nameServer: string,
    readonly brokerAddr: string,
    modes: ModeOptions,
  ) {
    this.producer = new Producer({ nameServer, group: 'bench_producer' });
    this.unbatched = new Producer({ nameServer, group: 'bench_producer_unbatched', autoBatch: false });
    const inFlight = Math.max(1, Math.floor(modes.bestWindow / modes.batchSize));
    const pageCache = Durability.pageCache;
    this.produceModes = [
      {
        mode: 'send',
        kind: ModeKind.idiomatic,
        durability: pageCache,
        describe: `Producer.send per message, auto-batching (default), ${modes.window} in flight`,
        run: (name, count, body) => runPerMessage(count, modes.window, (b) => this.publish(name, b), body),
      },
      {
        mode: 'send-unbatched',
        kind: ModeKind.idiomatic,
        durability: pageCache,
        describe: `Producer.send per message, autoBatch false, ${modes.window} in flight`,
        run: (name, count, body) =>
          runPerMessage(count, modes.window, (b) => sendChecked(this.unbatched, { topic: name, body: b }), body),
      },
      {
        mode: `sendBatch-${modes.batchSize}`,
        kind: ModeKind.best,
        durability: pageCache,
        describe: `send of a Message[] (SEND_BATCH_MESSAGE) of ${modes.batchSize}, ${inFlight} batches in flight`,
        run: (name, count, body) =>
          runBatches(
            count,
            modes.batchSize,
            inFlight,
            (bodies) =>
              sendChecked(
                this.producer,
                bodies.map((b) => ({ topic: name, body: b })),
              ),
            body,
          ),
      },
    ];
    const puller = (batch: number, kind: ModeKind): ConsumeMode => ({
      mode: `pull-${batch}`,
      kind,
      describe: `PullConsumer, pullBatchSize ${batch}, offsets committed every second`,
      consume: (name, onMessage) => this.consume(name, onMessage, batch),
    });
    this.consumeModes = [puller(pullBatchSize, ModeKind.idiomatic), puller(bigPullBatchSize, ModeKind.best)];
  }

  async open(): Promise<void> {
    await this.producer.start();
    await this.unbatched.start();
  }

  async prepare(name: string): Promise<void> {
    const admin = new Admin({ nameServer: this.nameServer });
    try {
      await admin.createOrUpdateTopic(
        { brokerAddr: this.brokerAddr },
        { topicName: name, readQueueNums: queueNums, writeQueueNums: queueNums },
      );
    } finally {
      await admin.close();
    }
  }

  async publish(name: string, body: Buffer): Promise<void> {
    await sendChecked(this.producer, { topic: name, body });
  }

  async consume(name: string, onMessage: (body: Buffer) => void, batch = pullBatchSize): Promise<ConsumerHandle> {
    const consumer = await startConsumer(this.nameServer, `bench_${name}_${++this.groupSeq}`, name, batch);
    let running = true;
    const loop = (async () => {
      while (running) for (const m of await consumer.poll(200)) onMessage(m.body);
    })();
    loop.catch(() => undefined);
    return {
      stop: async () => {
        running = false;
        // shutdown() wakes a poll() that is waiting, so the loop ends now rather than at its poll timeout.
        const closed = consumer.shutdown();
        await loop.catch(() => undefined);
        await closed;
      },
    };
  }

  async close(): Promise<void> {
    await this.producer.shutdown();
    await this.unbatched.shutdown();
  }
}

export async function sendChecked(producer: Producer, msg: Message | Message[]): Promise<void> {
  const r = await producer.send(msg);
  if (r.status !== SendStatus.SEND_OK) throw new Error(`send answered ${r.status}`);
}

/** A PullConsumer of `group` on `topic` from the first offset, resolved once it owns at least one queue. */
export async function startConsumer(
  nameServer: string,
  group: string,
  topic: string,
  batch = pullBatchSize,
): Promise<PullConsumer> {
  const consumer = new PullConsumer({
    nameServer,
    group,
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    pullBatchSize: batch,
    autoCommitIntervalMs: 1000,
  });
  await consumer.subscribe(topic);
  await consumer.start();
  const deadline = Date.now() + 30_000;
  while (consumer.assignment().length === 0) {
    if (Date.now() > deadline) throw new Error(`consumer ${group} got no queue of ${topic} in 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return consumer;
}

export interface TsrocketServer {
  session: TsrocketSession;
  serverGroups: readonly number[];
  stop(): Promise<void>;
}

/** Starts NameServer + Broker in a child process (ASYNC_FLUSH or SYNC_FLUSH) and a session on it. */
export async function startTsrocket(
  dir: string,
  flush: 'ASYNC_FLUSH' | 'SYNC_FLUSH',
  modes: ModeOptions,
): Promise<TsrocketServer> {
  const namesrvPort = await freePort();
  const brokerPort = await freePort();
  const server = spawnServer(
    process.execPath,
    [...serverNodeArgs(), path.join(here, 'tsrocket-server.js'), dir, String(namesrvPort), String(brokerPort), flush],
    path.join(dir, 'server.log'),
  );
  try {
    await waitForPort(namesrvPort, 20_000, server.child);
    await waitForPort(brokerPort, 20_000, server.child);
    const session = new TsrocketSession(`127.0.0.1:${namesrvPort}`, `127.0.0.1:${brokerPort}`, modes);
    await session.open();
    return {
      session,
      serverGroups: [server.child.pid as number],
      stop: async () => {
        await session.close().catch(() => undefined);
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** Env TSROCKET_PEERS_NODE_ARGS (space-separated node/V8 flags) for the server child, for experiments. */
function serverNodeArgs(): string[] {
  return (process.env['TSROCKET_PEERS_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
}

export const tsrocketPeer: Peer = {
  name: 'tsrocket',
  config: `tsrocket ASYNC_FLUSH (flush every 500 ms), ${queueNums} queues; Producer.send (auto-batching or not) or batch sends; PullConsumer`,
  unavailable: () => undefined,
  start: (dir: string, modes: ModeOptions): Promise<StartedPeer> => startTsrocket(dir, 'ASYNC_FLUSH', modes),
};
