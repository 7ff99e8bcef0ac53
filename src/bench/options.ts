/** `tsrocket bench` options (flag names follow RocketMQ's benchmark tools where they have one). */
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../common/errors.js';

export const BenchKind = {
  produce: 'produce',
  consume: 'consume',
  e2e: 'e2e',
  'grpc-produce': 'grpc-produce',
} as const;
export type BenchKind = (typeof BenchKind)[keyof typeof BenchKind];

export const FlushMode = { ASYNC: 'ASYNC', SYNC: 'SYNC' } as const;
export type FlushMode = (typeof FlushMode)[keyof typeof FlushMode];

export interface BenchOptions {
  /** NameServer address; undefined = start an embedded NameServer + Broker over a temp dir. */
  nameServer: string | undefined;
  topic: string;
  bodyBytes: number;
  /** Sends in flight at once (concurrent senders). */
  window: number;
  /** Stop after this many messages (undefined: run for durationMs). */
  count: number | undefined;
  durationMs: number;
  /** Flush mode of the embedded broker (ignored with -n). */
  flush: FlushMode;
  /** Messages per send request (1 = single sends). */
  batch: number;
  /** Queues of the topic when the bench creates it. */
  queues: number;
  /** Result file name under the results directory (without .json). */
  name: string | undefined;
  resultsDir: string;
}

export const benchDefaults: BenchOptions = {
  nameServer: undefined,
  topic: 'BenchTopic',
  bodyBytes: 128,
  window: 64,
  count: undefined,
  durationMs: 10_000,
  flush: FlushMode.ASYNC,
  batch: 1,
  queues: 8,
  name: undefined,
  resultsDir: 'bench/results',
};

export const bodyBytesMin = 16;
export const bodyBytesMax = 4 * 1024 * 1024;
export const windowMax = 10_000;
export const batchMax = 1024;

export const benchUsage = `usage: tsrocket bench [produce|consume|e2e|grpc-produce] [options]

  With no kind: the default suite (produce 128 B and 1 KiB, the same over gRPC, consume, e2e; about 70 s) →
  bench/results/bench.json. grpc-produce sends with Apache's 5.x client (rocketmq-client-nodejs, a dev
  dependency) to the embedded broker's gRPC endpoint.

  -n, --namesrv <addr>   NameServer (default: embedded NameServer + Broker over a temp dir)
  -t, --topic <name>     topic (default BenchTopic; created when missing)
  -s, --size <bytes>     message body size (default 128)
  -w, --window <n>       sends in flight / concurrent senders (default 64)
  -c, --count <n>        messages to send (default: run for --duration)
  -d, --duration <s>     seconds to run (default 10)
      --flush <mode>     ASYNC or SYNC flush of the embedded broker (default ASYNC)
      --batch <n>        messages per send request (default 1)
  -q, --queues <n>       queues when the topic is created (default 8)
      --name <name>      result file bench/results/<name>.json (default <kind>-<size>)
      --out <dir>        results directory (default bench/results)
  -h, --help             this help`;

export type ParsedBenchArgs =
  | { kind: 'help' }
  | { kind: 'suite'; opts: BenchOptions }
  | { kind: BenchKind; opts: BenchOptions };

function intOption(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`${flag}: expected an integer in [${min}, ${max}], got "${text}"`);
  }
  return n;
}

/** Parses argv after `bench`; throws InvalidArgumentError on bad input. */
export function parseBenchArgs(argv: readonly string[]): ParsedBenchArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      namesrv: { type: 'string', short: 'n' },
      topic: { type: 'string', short: 't' },
      size: { type: 'string', short: 's' },
      window: { type: 'string', short: 'w' },
      count: { type: 'string', short: 'c' },
      duration: { type: 'string', short: 'd' },
      flush: { type: 'string' },
      batch: { type: 'string' },
      queues: { type: 'string', short: 'q' },
      name: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help === true) return { kind: 'help' };
  if (positionals.length > 1)
    throw new InvalidArgumentError(`one benchmark kind at a time, got ${positionals.join(' ')}`);
  const kindText = positionals[0];
  if (kindText !== undefined && !(kindText in BenchKind)) {
    throw new InvalidArgumentError(`unknown benchmark '${kindText}' (produce, consume, e2e or grpc-produce)`);
  }
  const flush = values.flush?.toUpperCase().replace(/_FLUSH$/, '');
  if (flush !== undefined && flush !== FlushMode.ASYNC && flush !== FlushMode.SYNC) {
    throw new InvalidArgumentError(`--flush: ASYNC or SYNC, got "${values.flush}"`);
  }
  const topic = values.topic ?? benchDefaults.topic;
  if (!/^[a-zA-Z0-9_-]{1,127}$/.test(topic)) throw new InvalidArgumentError(`-t: bad topic name "${topic}"`);
  const durationS = intOption('-d', values.duration, 1, 86_400);
  const opts: BenchOptions = {
    nameServer: values.namesrv,
    topic,
    bodyBytes: intOption('-s', values.size, bodyBytesMin, bodyBytesMax) ?? benchDefaults.bodyBytes,
    window: intOption('-w', values.window, 1, windowMax) ?? benchDefaults.window,
    count: intOption('-c', values.count, 1, Number.MAX_SAFE_INTEGER),
    durationMs: durationS === undefined ? benchDefaults.durationMs : durationS * 1000,
    flush: flush ?? benchDefaults.flush,
    batch: intOption('--batch', values.batch, 1, batchMax) ?? benchDefaults.batch,
    queues: intOption('-q', values.queues, 1, 1024) ?? benchDefaults.queues,
    name: values.name,
    resultsDir: values.out ?? benchDefaults.resultsDir,
  };
  if (opts.name !== undefined && !/^[\w.-]{1,100}$/.test(opts.name)) {
    throw new InvalidArgumentError(`--name: letters, digits, '.', '-', '_' only, got "${opts.name}"`);
  }
  return kindText === undefined ? { kind: 'suite', opts } : { kind: kindText as BenchKind, opts };
}
