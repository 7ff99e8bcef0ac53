/**
 * RabbitMQ: durable classic queue, persistent messages on confirm channels (a confirm means on disk), consumers
 * with cumulative acks. Idiomatic: one channel, each confirm awaited, prefetch 1000; at its best: several
 * channels with batched confirms (waitForConfirms per batch) and prefetch 10,000. The node runs with its own
 * epmd, config, data and ports on 127.0.0.1.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { type ChannelModel, type ConfirmChannel, type ConsumeMessage, connect } from 'amqplib';
import { runLanes, runPerMessage } from './modes.js';
import type { ConsumeMode, ConsumerHandle, ModeOptions, Peer, PeerSession, ProduceMode, StartedPeer } from './peer.js';
import { findExecutable, freePort, spawnServer, waitForPort } from './processes.js';
import { Durability, ModeKind } from './results.js';

const prefetch = 1000;
const ackEvery = 100;
const bigPrefetch = 10_000;
const bigAckEvery = 1000;
/** Confirm channels of the best produce mode; each has one batch (bestWindow / lanes messages) in flight. */
const lanes = 4;
const startTimeoutMs = 60_000;

class RabbitSession implements PeerSession {
  readonly produceModes: readonly ProduceMode[];
  readonly consumeModes: readonly ConsumeMode[];
  private readonly lanes: ConfirmChannel[] = [];

  constructor(
    private readonly conn: ChannelModel,
    private readonly ch: ConfirmChannel,
    modes: ModeOptions,
  ) {
    const batch = Math.max(1, Math.floor(modes.bestWindow / lanes));
    this.produceModes = [
      {
        mode: 'confirm-each',
        kind: ModeKind.idiomatic,
        durability: Durability.fsyncPerBatch,
        describe: `one confirm channel, each confirm awaited, ${modes.window} in flight`,
        run: (name, count, body) => runPerMessage(count, modes.window, (b) => this.publish(name, b), body),
      },
      {
        mode: `${lanes}ch-confirm-batch`,
        kind: ModeKind.best,
        durability: Durability.fsyncPerBatch,
        describe: `${lanes} confirm channels, batches of ${batch} then waitForConfirms`,
        run: async (name, count, body) => {
          while (this.lanes.length < lanes) this.lanes.push(await this.conn.createConfirmChannel());
          return runLanes(count, lanes, batch, (lane, bodies) => this.sendBatch(lane, name, bodies), body);
        },
      },
    ];
    const consumer = (n: number, every: number, kind: ModeKind): ConsumeMode => ({
      mode: `prefetch-${n}`,
      kind,
      describe: `consumer prefetch ${n}, cumulative ack every ${every}`,
      consume: (name, onMessage) => this.consumeWith(name, n, every, onMessage),
    });
    this.consumeModes = [
      consumer(prefetch, ackEvery, ModeKind.idiomatic),
      consumer(bigPrefetch, bigAckEvery, ModeKind.best),
    ];
  }

  private async sendBatch(lane: number, name: string, bodies: readonly Buffer[]): Promise<void> {
    const ch = this.lanes[lane] as ConfirmChannel;
    for (const b of bodies) ch.sendToQueue(name, b, { persistent: true });
    await ch.waitForConfirms();
  }

  async prepare(name: string): Promise<void> {
    await this.ch.deleteQueue(name).catch(() => undefined);
    await this.ch.assertQueue(name, { durable: true });
  }

  publish(name: string, body: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ch.sendToQueue(name, body, { persistent: true }, (err) => (err ? reject(err) : resolve()));
    });
  }

  private async consumeWith(
    name: string,
    prefetchCount: number,
    every: number,
    onMessage: (body: Buffer) => void,
  ): Promise<ConsumerHandle> {
    const ch = await this.conn.createChannel();
    await ch.prefetch(prefetchCount);
    let n = 0;
    let unacked: ConsumeMessage | undefined;
    let tail: NodeJS.Timeout | undefined;
    // Cumulative ack every `every` messages; a short timer acks the tail once a burst settles.
    const { consumerTag } = await ch.consume(
      name,
      (msg) => {
        if (msg === null) return;
        onMessage(msg.content);
        if (++n % every === 0) {
          ch.ack(msg, true);
          unacked = undefined;
          return;
        }
        unacked = msg;
        tail ??= setTimeout(() => {
          tail = undefined;
          if (unacked !== undefined) ch.ack(unacked, true);
          unacked = undefined;
        }, 20);
      },
      { noAck: false },
    );
    return {
      stop: async () => {
        clearTimeout(tail);
        await ch.cancel(consumerTag).catch(() => undefined);
        await ch.close().catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    for (const ch of this.lanes) await ch.close().catch(() => undefined);
    await this.ch.close().catch(() => undefined);
    await this.conn.close().catch(() => undefined);
  }
}

export const rabbitmqPeer: Peer = {
  name: 'rabbitmq',
  aptPackages: ['rabbitmq-server'],
  config:
    'RabbitMQ classic durable queue, persistent messages, publisher confirms (each, or per batch on 4 channels); consumer prefetch, multi-ack',
  unavailable: () =>
    findExecutable('rabbitmq-server', ['/usr/lib/rabbitmq/bin']) === undefined || findExecutable('epmd') === undefined
      ? 'rabbitmq-server (or erlang epmd) not installed'
      : undefined,
  async start(dir: string, modes: ModeOptions): Promise<StartedPeer> {
    const [amqpPort, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
    const conf = path.join(dir, 'rabbitmq.conf');
    const plugins = path.join(dir, 'enabled_plugins');
    await fs.writeFile(conf, `listeners.tcp.1 = 127.0.0.1:${amqpPort}\nloopback_users = none\n`);
    await fs.writeFile(plugins, '[].\n');
    const log = path.join(dir, 'server.log');
    // Our own epmd on 127.0.0.1 and a private port, so no system epmd is started or reused.
    const epmd = spawnServer(
      findExecutable('epmd') as string,
      ['-address', '127.0.0.1', '-port', String(epmdPort)],
      log,
    );
    const env = {
      HOME: dir,
      ERL_EPMD_PORT: String(epmdPort),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_NODENAME: `bench${amqpPort}@localhost`,
      RABBITMQ_CONFIG_FILE: conf,
      RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
      RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(dir, 'log'),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
    const stopBoth = async () => {
      await server.stop();
      await epmd.stop();
    };
    await waitForPort(epmdPort, 10_000, epmd.child);
    const exe = findExecutable('rabbitmq-server', ['/usr/lib/rabbitmq/bin']) as string;
    // /usr/sbin/rabbitmq-server drops to the rabbitmq user and the system paths; the real script takes env.
    const real = exe === '/usr/sbin/rabbitmq-server' ? '/usr/lib/rabbitmq/bin/rabbitmq-server' : exe;
    const server = spawnServer(real, [], log, env);
    try {
      await waitForPort(amqpPort, startTimeoutMs, server.child);
      const conn = await connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`);
      const ch = await conn.createConfirmChannel();
      return {
        session: new RabbitSession(conn, ch, modes),
        serverGroups: [server.child.pid as number, epmd.child.pid as number],
        stop: stopBoth,
      };
    } catch (err) {
      await stopBoth();
      throw err;
    }
  },
};
