/**
 * `tsrocket bench grpc-produce`: the produce benchmark's load sent by Apache's 5.x Node.js client
 * (rocketmq-client-nodejs) to the embedded broker's gRPC endpoint, so its TPS compares with `produce` (remoting,
 * our SDK) in the same run. The client is a dev dependency, loaded only here.
 */
import type { Message, Producer } from '../client/index.js';
import { TsRocketError } from '../common/errors.js';
import type { BenchOptions } from './options.js';
import { type BenchSummary, progressSink } from './report.js';
import { cpuMeter, produceSummary, type RunHooks, sendPhase, withTarget } from './runs.js';

/** What this benchmark uses of rocketmq-client-nodejs's Producer. */
interface GrpcProducer {
  startup(): Promise<void>;
  shutdown(): Promise<void>;
  send(msg: { topic: string; body: Buffer }): Promise<unknown>;
}

type GrpcProducerClass = new (opts: {
  endpoints: string;
  namespace: string;
  topics: string[];
  logger: object;
}) => GrpcProducer;

/** rocketmq-client-nodejs is not installed (a dev dependency): the suite skips the case. */
export class GrpcClientMissingError extends TsRocketError {}

const quietLogger = { info() {}, warn() {}, error() {}, debug() {} };

async function grpcProducerClass(): Promise<GrpcProducerClass> {
  const name = 'rocketmq-client-nodejs';
  try {
    const mod = (await import(name)) as { default?: { Producer: GrpcProducerClass }; Producer?: GrpcProducerClass };
    const cls = mod.Producer ?? mod.default?.Producer;
    if (cls === undefined) throw new Error('it exports no Producer');
    return cls;
  } catch (err) {
    throw new GrpcClientMissingError(
      `grpc-produce needs the ${name} package (a dev dependency): ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

export async function runGrpcProduce(opts: BenchOptions, hooks: RunHooks = {}): Promise<BenchSummary> {
  const sink = hooks.progress ?? progressSink();
  const GrpcProducerCtor = await grpcProducerClass();
  return withTarget(opts, hooks, async (target) => {
    const endpoints = target.grpcEndpoint;
    if (endpoints === undefined) throw new Error('grpc-produce runs against the embedded broker only (no -n)');
    const producer = new GrpcProducerCtor({ endpoints, namespace: '', topics: [opts.topic], logger: quietLogger });
    await producer.startup();
    // Batches are a remoting-SDK notion here: each message is one SendMessage.
    const adapter = {
      send: (m: Message | Message[]) => {
        const msg = Array.isArray(m) ? (m[0] as Message) : m;
        return producer.send({
          topic: msg.topic,
          body: typeof msg.body === 'string' ? Buffer.from(msg.body) : msg.body,
        });
      },
    } as unknown as Pick<Producer, 'send'>;
    try {
      await producer.send({ topic: opts.topic, body: Buffer.alloc(opts.bodyBytes) });
      const cpu = cpuMeter();
      const { load, elapsedMs } = await sendPhase(adapter, { ...opts, batch: 1 }, sink, 'grpc-produce');
      return produceSummary({ ...opts, batch: 1 }, 'grpc-produce', target, load, elapsedMs, cpu(load.acked));
    } finally {
      await producer.shutdown();
    }
  });
}
