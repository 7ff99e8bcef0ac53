/** Redis Streams: AOF with appendfsync everysec, XADD per message (auto-pipelined), XREADGROUP + XACK to consume. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { ConsumerHandle, Peer, PeerSession, StartedPeer } from './peer.js';
import { findExecutable, freePort, spawnServer, waitForPort } from './processes.js';

const group = 'bench';
const readCount = 1000;
const field = 'd';

class RedisSession implements PeerSession {
  constructor(
    private readonly port: number,
    private readonly client: Redis,
  ) {}

  async prepare(name: string): Promise<void> {
    await this.client.del(name);
    await this.client.xgroup('CREATE', name, group, '0', 'MKSTREAM');
  }

  async publish(name: string, body: Buffer): Promise<void> {
    await this.client.xadd(name, '*', field, body);
  }

  async consume(name: string, onMessage: (body: Buffer) => void): Promise<ConsumerHandle> {
    // Blocking reads need their own connection.
    const reader = new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: true, retryStrategy: () => null });
    await reader.connect();
    // The typed overloads of xreadgroupBuffer do not cover this argument list; the reply shape is RESP2's.
    const readGroup = reader.xreadgroupBuffer.bind(reader) as unknown as (...args: unknown[]) => Promise<unknown>;
    let running = true;
    const loop = (async () => {
      while (running) {
        const res = (await readGroup('GROUP', group, 'c1', 'COUNT', readCount, 'BLOCK', 500, 'STREAMS', name, '>')) as
          | [Buffer, [Buffer, Buffer[]][]][]
          | null;
        if (res === null) continue;
        const entries = res[0]?.[1] ?? [];
        const ids: Buffer[] = [];
        for (const [id, fields] of entries) {
          ids.push(id);
          const body = fields[1];
          if (body !== undefined) onMessage(body);
        }
        // Pipelined with the next read on the same connection; Redis answers in order.
        if (ids.length > 0) reader.xack(name, group, ...ids).catch(() => undefined);
      }
    })();
    loop.catch(() => undefined);
    return {
      stop: async () => {
        running = false;
        await loop.catch(() => undefined);
        reader.disconnect();
      },
    };
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

export const redisPeer: Peer = {
  name: 'redis',
  aptPackage: 'redis-server',
  config:
    'Redis Streams, appendonly yes, appendfsync everysec, no RDB; XADD auto-pipelined; XREADGROUP COUNT 1000 + XACK',
  unavailable: () => (findExecutable('redis-server') === undefined ? 'redis-server not installed' : undefined),
  async start(dir: string): Promise<StartedPeer> {
    const port = await freePort();
    const conf = path.join(dir, 'redis.conf');
    await fs.writeFile(
      conf,
      [
        'bind 127.0.0.1',
        `port ${port}`,
        'protected-mode yes',
        'daemonize no',
        `dir ${dir}`,
        'appendonly yes',
        'appendfsync everysec',
        'save ""',
        'logfile ""',
        '',
      ].join('\n'),
    );
    const server = spawnServer(findExecutable('redis-server') as string, [conf], path.join(dir, 'server.log'));
    try {
      await waitForPort(port, 20_000, server.child);
      const client = new Redis({
        host: '127.0.0.1',
        port,
        enableAutoPipelining: true,
        lazyConnect: true,
        retryStrategy: () => null,
      });
      await client.connect();
      return { session: new RedisSession(port, client), stop: server.stop };
    } catch (err) {
      await server.stop();
      throw err;
    }
  },
};
