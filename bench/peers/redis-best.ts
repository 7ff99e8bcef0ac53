/**
 * Redis Streams at its best: explicit pipelines of XADD (a client without auto-pipelining, several pipelines in
 * flight), XREADGROUP with a large COUNT, and `redis-benchmark -P 64` with XADD as the server's own ceiling.
 */
import { spawn } from 'node:child_process';
import type { Redis } from 'ioredis';
import { reapedChildrenCpuUs } from './cpu.js';
import { runBatches } from './modes.js';
import type { ProduceMode } from './peer.js';
import { findExecutable } from './processes.js';
import { Durability, ModeKind } from './results.js';

export const streamField = 'd';
/** Pipeline depth of the server's own load tool. */
const benchmarkPipeline = 64;

export function redisPipelined(client: Redis, batchSize: number, bestWindow: number): ProduceMode {
  const inFlight = Math.max(1, Math.floor(bestWindow / batchSize));
  return {
    mode: `pipeline-${batchSize}`,
    kind: ModeKind.best,
    durability: Durability.pageCache,
    describe: `explicit pipelines of ${batchSize} XADD, ${inFlight} pipelines in flight`,
    run: (name, count, body) =>
      runBatches(
        count,
        batchSize,
        inFlight,
        async (bodies) => {
          const p = client.pipeline();
          for (const b of bodies) p.xadd(name, '*', streamField, b);
          const replies = (await p.exec()) ?? [];
          for (const [err] of replies) if (err !== null) throw err;
        },
        body,
      ),
  };
}

export function redisBenchmarkUnavailable(): string | undefined {
  return findExecutable('redis-benchmark') === undefined ? 'redis-benchmark not installed' : undefined;
}

/** `redis-benchmark -P 64 -n count XADD name * d <body>`: rate printed by the tool; the stream is not consumed. */
export function redisBenchmarkCeiling(port: number): ProduceMode {
  return {
    mode: `redis-benchmark -P ${benchmarkPipeline}`,
    kind: ModeKind.ceiling,
    durability: Durability.pageCache,
    describe: `redis-benchmark (C, 50 connections) -P ${benchmarkPipeline}, XADD of the same body size`,
    async run(name, count, body) {
      const exe = findExecutable('redis-benchmark');
      if (exe === undefined) throw new Error('redis-benchmark not installed');
      // The tool sends one fixed body (printable, as a command-line argument) of the workload's size.
      const payload = 'x'.repeat(body(0).length);
      const args = ['-h', '127.0.0.1', '-p', String(port), '-P', String(benchmarkPipeline), '-n', String(count)];
      const before = reapedChildrenCpuUs();
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(exe, [...args, '-q', 'XADD', name, '*', streamField, payload], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let text = '';
        child.stdout.on('data', (d: Buffer) => {
          text += d.toString();
        });
        child.stderr.on('data', (d: Buffer) => {
          text += d.toString();
        });
        child.once('error', reject);
        child.once('exit', (code) =>
          code === 0 ? resolve(text) : reject(new Error(`redis-benchmark exited ${code}: ${text.slice(-300)}`)),
        );
      });
      if (parseRequestsPerSec(out) === undefined) throw new Error(`redis-benchmark printed no rate: ${out}`);
      return reapedChildrenCpuUs() - before;
    },
  };
}

/** The rate in redis-benchmark's `-q` output (`XADD …: 123456.78 requests per second, p50=…`). */
export function parseRequestsPerSec(out: string): number | undefined {
  const matches = [...out.matchAll(/([\d.]+) requests per second/g)];
  const last = matches[matches.length - 1]?.[1];
  return last === undefined ? undefined : Number(last);
}
