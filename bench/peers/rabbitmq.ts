/**
 * RabbitMQ: durable classic queue, persistent messages on a confirm channel (a confirm means on disk), consumer
 * with prefetch 1000 and cumulative acks. The node runs with its own epmd, config, data and ports on 127.0.0.1.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { type ChannelModel, type ConfirmChannel, type ConsumeMessage, connect } from 'amqplib';
import type { ConsumerHandle, Peer, PeerSession, StartedPeer } from './peer.js';
import { findExecutable, freePort, spawnServer, waitForPort } from './processes.js';

const prefetch = 1000;
const ackEvery = 100;
const startTimeoutMs = 60_000;

class RabbitSession implements PeerSession {
  constructor(
    private readonly conn: ChannelModel,
    private readonly ch: ConfirmChannel,
  ) {}

  async prepare(name: string): Promise<void> {
    await this.ch.deleteQueue(name).catch(() => undefined);
    await this.ch.assertQueue(name, { durable: true });
  }

  publish(name: string, body: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ch.sendToQueue(name, body, { persistent: true }, (err) => (err ? reject(err) : resolve()));
    });
  }

  async consume(name: string, onMessage: (body: Buffer) => void): Promise<ConsumerHandle> {
    const ch = await this.conn.createChannel();
    await ch.prefetch(prefetch);
    let n = 0;
    let unacked: ConsumeMessage | undefined;
    let tail: NodeJS.Timeout | undefined;
    // Cumulative ack every ackEvery messages; a short timer acks the tail once a burst settles.
    const { consumerTag } = await ch.consume(
      name,
      (msg) => {
        if (msg === null) return;
        onMessage(msg.content);
        if (++n % ackEvery === 0) {
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
    await this.ch.close().catch(() => undefined);
    await this.conn.close().catch(() => undefined);
  }
}

export const rabbitmqPeer: Peer = {
  name: 'rabbitmq',
  aptPackage: 'rabbitmq-server',
  config: 'RabbitMQ classic durable queue, persistent messages, publisher confirms; consumer prefetch 1000, multi-ack',
  unavailable: () =>
    findExecutable('rabbitmq-server', ['/usr/lib/rabbitmq/bin']) === undefined || findExecutable('epmd') === undefined
      ? 'rabbitmq-server (or erlang epmd) not installed'
      : undefined,
  async start(dir: string): Promise<StartedPeer> {
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
      return { session: new RabbitSession(conn, ch), stop: stopBoth };
    } catch (err) {
      await stopBoth();
      throw err;
    }
  },
};
