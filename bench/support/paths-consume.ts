/**
 * The paths of `npm run bench:paths` with no target of their own here (or one another engineer owns), each against
 * its plain path in the same run, rounds alternated: orderly vs concurrent consumption of one backlog, POP
 * receive+ack (4 SimpleConsumers, one queue; src/bench/pop.ts) vs pull consumption (src/bench/runs.ts), gRPC
 * produce (Apache's 5.x client; src/bench/grpc-produce.ts) vs remoting produce. They call the `tsrocket bench`
 * cases over the `tsrocket start` child, so what those cases measure is what is measured here.
 */
import { randomBytes } from 'node:crypto';
import { GrpcClientMissingError, runGrpcProduce } from '../../src/bench/grpc-produce.js';
import { type BenchOptions, benchDefaults } from '../../src/bench/options.js';
import { runPop } from '../../src/bench/pop.js';
import { type BenchSummary, progressSink } from '../../src/bench/report.js';
import { runConsume, runProduce } from '../../src/bench/runs.js';
import { type BenchTarget, ensureTopic } from '../../src/bench/target.js';
import { ConsumeFromWhere, Producer, PushConsumer } from '../../src/client/index.js';
import { rssBytes } from './process.js';
import { perSec, runWindow } from './window.js';

export interface ChildTarget {
  namesrvAddr: string;
  pid: number;
  grpcEndpoint: string;
}

/** The `tsrocket bench` cases' view of the child (they open nothing and close nothing then). */
export function benchTargetOf(c: ChildTarget): BenchTarget {
  return {
    nameServer: c.namesrvAddr,
    label: 'tsrocket start child',
    embedded: false,
    grpcEndpoint: c.grpcEndpoint,
    brokerRssBytes: async () => (await rssBytes(c.pid)) ?? null,
    close: async () => undefined,
  };
}

export interface CaseRun {
  path: string;
  round: number;
  messages: number;
  perSec: number;
  /** Client (this process) CPU µs per message, as the bench cases report it. */
  cpuUsPerMsg?: number | null;
}

const quiet = progressSink(null);

function caseRun(path: string, round: number, s: BenchSummary): CaseRun {
  return { path, round, messages: s.messages, perSec: s.tps, cpuUsPerMsg: s.cpuUsPerMsg };
}

/** `tsrocket bench` options for one case: 1 KiB single sends (the producer batches them itself), `messages`. */
function optsOf(topic: string, messages: number, window: number, bodyBytes: number): BenchOptions {
  return { ...benchDefaults, topic, count: messages, window, bodyBytes, batch: 1, name: topic };
}

/** POP receive+ack vs pull consumption, each of its own backlog of `messages`, alternated. */
export async function popVsPull(c: ChildTarget, messages: number, window: number, bodyBytes: number, round: number) {
  const target = benchTargetOf(c);
  await ensureTopic(c.namesrvAddr, 'PathsPull', 8);
  const pull = await runConsume(optsOf('PathsPull', messages, window, bodyBytes), { target, progress: quiet });
  const pop = await runPop(optsOf('PathsPop', messages, window, bodyBytes), { target, progress: quiet });
  return [caseRun('pull', round, pull), caseRun('pop', round, pop)];
}

/** gRPC produce (one SendMessage per message) vs remoting produce of our SDK; empty when the client is missing. */
export async function grpcVsRemoting(
  c: ChildTarget,
  messages: number,
  window: number,
  bodyBytes: number,
  round: number,
): Promise<CaseRun[]> {
  const target = benchTargetOf(c);
  await ensureTopic(c.namesrvAddr, 'PathsProduce', 8);
  const opts = optsOf('PathsProduce', messages, window, bodyBytes);
  const remoting = await runProduce(opts, { target, progress: quiet });
  try {
    const grpc = await runGrpcProduce(opts, { target, progress: quiet });
    return [caseRun('remoting-produce', round, remoting), caseRun('grpc-produce', round, grpc)];
  } catch (err) {
    if (err instanceof GrpcClientMissingError) return [caseRun('remoting-produce', round, remoting)];
    throw err;
  }
}

export const orderTopic = 'PathsOrder';

/** Stores the backlog the orderly and concurrent consumers both read: `messages` over the topic's queues. */
export async function fillOrderBacklog(namesrvAddr: string, messages: number, window: number, bodyBytes: number) {
  const producer = new Producer({ nameServer: namesrvAddr, clientIp: '127.0.0.1', group: 'PID_paths_order' });
  await producer.start();
  try {
    const body = Buffer.alloc(bodyBytes, 0x6f);
    const w = await runWindow(messages, window, () => producer.send({ topic: orderTopic, body }));
    if (w.failed > 0) throw new Error(`order backlog: ${w.failed} sends failed: ${String(w.firstError)}`);
  } finally {
    await producer.shutdown();
  }
}

/** A fresh group reads the whole backlog from the first offset, orderly (one queue lock each) or concurrently. */
export async function consumeBacklog(namesrvAddr: string, orderly: boolean, messages: number, round: number) {
  let got = 0;
  let firstAt = 0;
  let lastAt = 0;
  const consumer = new PushConsumer({
    nameServer: namesrvAddr,
    clientIp: '127.0.0.1',
    group: `GID_paths_${orderly ? 'orderly' : 'concurrent'}_${randomBytes(3).toString('hex')}`,
    orderly,
    consumeConcurrency: 64,
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    subscriptions: { [orderTopic]: '*' },
    handler: () => {
      const now = performance.now();
      if (firstAt === 0) firstAt = now;
      lastAt = now;
      got++;
    },
  });
  await consumer.start();
  const deadline = performance.now() + 120_000;
  try {
    while (got < messages && performance.now() < deadline) await new Promise((ok) => setTimeout(ok, 10));
  } finally {
    await consumer.shutdown();
  }
  return {
    path: orderly ? 'orderly' : 'concurrent',
    round,
    messages: got,
    perSec: Math.round(perSec(got, lastAt - firstAt)),
  };
}
