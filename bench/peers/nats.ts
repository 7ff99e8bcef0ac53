/**
 * NATS JetStream: file storage stream per workload. Idiomatic: js.publish awaiting each PubAck, durable pull
 * consumer (AckAll); at its best: nats-best.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AckPolicy, connect, DeliverPolicy, type JetStreamClient, type NatsConnection, StorageType } from 'nats';
import { runPerMessage } from './modes.js';
import { natsAsyncPublish, natsBigBatchConsumer } from './nats-best.js';
import type { ConsumeMode, ConsumerHandle, ModeOptions, Peer, PeerSession, ProduceMode, StartedPeer } from './peer.js';
import { findExecutable, freePort, spawnServer, waitForPort } from './processes.js';
import { Durability, ModeKind } from './results.js';

const durable = 'bench';
const fetchMessagesMax = 1000;
/** Cumulative ack every this many messages (AckAll acks everything up to the acked one). */
const ackEvery = 100;

class NatsSession implements PeerSession {
  private readonly js: JetStreamClient;
  readonly produceModes: readonly ProduceMode[];
  readonly consumeModes: readonly ConsumeMode[];

  constructor(
    private readonly nc: NatsConnection,
    modes: ModeOptions,
  ) {
    this.js = nc.jetstream();
    this.produceModes = [
      {
        mode: 'js.publish',
        kind: ModeKind.idiomatic,
        durability: Durability.pageCache,
        describe: `js.publish awaiting its PubAck, ${modes.window} in flight`,
        run: (name, count, body) => runPerMessage(count, modes.window, (b) => this.publish(name, b), body),
      },
      natsAsyncPublish(nc, modes.bestWindow),
    ];
    this.consumeModes = [
      {
        mode: `pull-${fetchMessagesMax}`,
        kind: ModeKind.idiomatic,
        describe: `durable pull consumer, consume max_messages ${fetchMessagesMax}, AckAll every ${ackEvery}`,
        consume: (name, onMessage) => this.consume(name, onMessage),
      },
      natsBigBatchConsumer(nc, this.js),
    ];
  }

  async prepare(name: string): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await jsm.streams.delete(name).catch(() => undefined);
    await jsm.streams.add({ name, subjects: [name], storage: StorageType.File });
    await jsm.consumers.add(name, {
      durable_name: durable,
      ack_policy: AckPolicy.All,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: 20_000,
    });
  }

  async publish(name: string, body: Buffer): Promise<void> {
    await this.js.publish(name, body);
  }

  async consume(name: string, onMessage: (body: Buffer) => void): Promise<ConsumerHandle> {
    const consumer = await this.js.consumers.get(name, durable);
    const messages = await consumer.consume({ max_messages: fetchMessagesMax });
    let n = 0;
    const loop = (async () => {
      for await (const m of messages) {
        onMessage(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
        if (++n % ackEvery === 0 || m.info.pending === 0) m.ack();
      }
    })();
    loop.catch(() => undefined);
    return {
      stop: async () => {
        await messages.close().catch(() => undefined);
        await loop.catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => undefined);
  }
}

export const natsPeer: Peer = {
  name: 'nats',
  aptPackages: ['nats-server'],
  config:
    'NATS JetStream, file storage (server default fsync policy); js.publish or async publish; pull consumer, AckAll',
  unavailable: () => (findExecutable('nats-server') === undefined ? 'nats-server not installed' : undefined),
  async start(dir: string, modes: ModeOptions): Promise<StartedPeer> {
    const port = await freePort();
    const conf = path.join(dir, 'nats.conf');
    const storeDir = path.join(dir, 'jetstream');
    await fs.writeFile(
      conf,
      [
        `listen: "127.0.0.1:${port}"`,
        'jetstream {',
        `  store_dir: "${storeDir}"`,
        '  max_memory_store: 1GB',
        '  max_file_store: 64GB',
        '}',
        '',
      ].join('\n'),
    );
    const server = spawnServer(findExecutable('nats-server') as string, ['-c', conf], path.join(dir, 'server.log'));
    try {
      await waitForPort(port, 20_000, server.child);
      const nc = await connect({ servers: `127.0.0.1:${port}` });
      return { session: new NatsSession(nc, modes), serverGroups: [server.child.pid as number], stop: server.stop };
    } catch (err) {
      await server.stop();
      throw err;
    }
  },
};
