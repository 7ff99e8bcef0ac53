/**
 * Redis Streams: AOF with appendfsync everysec. Idiomatic: XADD per message (ioredis auto-pipelining),
 * XREADGROUP COUNT 1000 + XACK; at its best and the server's ceiling: redis-best.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { runPerMessage } from './modes.js';
import type { ConsumeMode, ConsumerHandle, ModeOptions, Peer, PeerSession, ProduceMode, StartedPeer } from './peer.js';
import { findExecutable, freePort, spawnServer, waitForPort } from './processes.js';
import { redisBenchmarkCeiling, redisBenchmarkUnavailable, redisPipelined, streamField } from './redis-best.js';
import { Durability, ModeKind } from './results.js';

const group = 'bench';
const readCount = 1000;
const bigReadCount = 10_000;
const field = streamField;

class RedisSession implements PeerSession {
  readonly produceModes: readonly ProduceMode[];
  readonly consumeModes: readonly ConsumeMode[];

  constructor(
    private readonly port: number,
    private readonly client: Redis,
    private readonly plain: Redis,
    modes: ModeOptions,
  ) {
    this.produceModes = [
      {
        mode: 'xadd-autopipeline',
        kind: ModeKind.idiomatic,
        durability: Durability.pageCache,
        describe: `XADD per message (ioredis auto-pipelining), ${modes.window} in flight`,
        run: (name, count, body) => runPerMessage(count, modes.window, (b) => this.publish(name, b), body),
      },
      redisPipelined(plain, modes.batchSize, modes.bestWindow),
      ...(redisBenchmarkUnavailable() === undefined ? [redisBenchmarkCeiling(port)] : []),
    ];
    const reader = (count: number, kind: ModeKind): ConsumeMode => ({
      mode: `xreadgroup-${count}`,
      kind,
      describe: `XREADGROUP COUNT ${count} + XACK pipelined with the next read`,
      consume: (name, onMessage) => this.read(name, count, onMessage),
    });
    this.consumeModes = [reader(readCount, ModeKind.idiomatic), reader(bigReadCount, ModeKind.best)];
  }

  async prepare(name: string): Promise<void> {
    await this.client.del(name);
    await this.client.xgroup('CREATE', name, group, '0', 'MKSTREAM');
  }

  async publish(name: string, body: Buffer): Promise<void> {
    await this.client.xadd(name, '*', field, body);
  }

  async read(name: string, count: number, onMessage: (body: Buffer) => void): Promise<ConsumerHandle> {
    // Blocking reads need their own connection.
    const reader = new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: true, retryStrategy: () => null });
    await reader.connect();
    // The typed overloads of xreadgroupBuffer do not cover this argument list; the reply shape is RESP2's.
    const readGroup = reader.xreadgroupBuffer.bind(reader) as unknown as (...args: unknown[]) => Promise<unknown>;
    let running = true;
    const loop = (async () => {
      while (running) {
        const res = (await readGroup('GROUP', group, 'c1', 'COUNT', count, 'BLOCK', 500, 'STREAMS', name, '>')) as
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
    this.plain.disconnect();
  }
}

export const redisPeer: Peer = {
  name: 'redis',
  aptPackages: ['redis-server', 'redis-tools'],
  config:
    'Redis Streams, appendonly yes, appendfsync everysec, no RDB; XADD auto-pipelined or explicit pipelines; XREADGROUP + XACK',
  unavailable: () => (findExecutable('redis-server') === undefined ? 'redis-server not installed' : undefined),
  async start(dir: string, modes: ModeOptions): Promise<StartedPeer> {
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
      const plain = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null });
      await Promise.all([client.connect(), plain.connect()]);
      return {
        session: new RedisSession(port, client, plain, modes),
        serverGroups: [server.child.pid as number],
        stop: server.stop,
      };
    } catch (err) {
      await server.stop();
      throw err;
    }
  },
};
