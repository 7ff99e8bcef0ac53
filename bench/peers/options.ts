/** Flags and env of `npm run bench:peers`; counts and durations follow --scale unless given directly. */
import os from 'node:os';
import { parseArgs } from 'node:util';

export interface HarnessOptions {
  /** Messages per produce/consume workload. */
  count: number;
  window: number;
  /** Messages in flight for the best modes (async publishes, or batches × batch size). */
  bestWindow: number;
  /** Whole runs (every system, every mode); targets take the median ratio. */
  runs: number;
  e2eRate: number;
  e2eSeconds: number;
  e2eBodyBytes: number;
  syncSeconds: number;
  batchSize: number;
  peers: string[];
  install: boolean;
  dir: string;
  out: string;
  scale: number;
  /** Each server's page-cache budget in a memory cgroup of its own (memory-cgroup.ts); undefined: none. */
  pageCacheMiB: number | undefined;
}

export const usage = `usage: npm run bench:peers -- [options]   (env: PEERS_SCALE, PEERS_INSTALL=1, PEERS_LIST)
  --scale <f>        multiply counts and durations (default 1: 1M messages, e2e 20 s, sync 10 s); 0.05 = quick
  --messages <n>     messages per produce/consume workload and mode (default 1,000,000 × scale; alias --count)
  --window <n>       in-flight window of the idiomatic per-message modes (default 256)
  --best-window <n>  messages in flight in the best modes: async publishes, or batches × 64 (default 1024)
  --runs <n>         whole runs; targets use the median ratio and every run's (default 1)
  --e2e-rate <n>     fixed e2e rate, msg/s (default 5000)
  --e2e-seconds <s>  e2e duration (default 20 × scale, at least 5)
  --sync-seconds <s> per SYNC_FLUSH case (default 10 × scale, at least 3)
  --peers <list>     comma list of tsrocket,nats,rabbitmq,redis (default all)
  --install          apt-get install missing peers first
  --dir <path>       where data dirs go (default os tmpdir)
  --out <dir>        results dir (default bench/results)
  --page-cache <MiB> each server in a memory cgroup whose page cache is held to this budget, full from the start, so
                     writes recycle pages as on a long-running host (default 2048, enough for a 1 GiB backlog's
                     reads; 0: none, host memory as found); skipped with a message where no cgroup can be made`;

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): HarnessOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string' },
      count: { type: 'string' },
      messages: { type: 'string' },
      window: { type: 'string' },
      'best-window': { type: 'string' },
      runs: { type: 'string' },
      'e2e-rate': { type: 'string' },
      'e2e-seconds': { type: 'string' },
      'sync-seconds': { type: 'string' },
      peers: { type: 'string' },
      install: { type: 'boolean' },
      dir: { type: 'string' },
      out: { type: 'string' },
      'page-cache': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return 'help';
  const num = (text: string | undefined, fallback: number, what: string) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${what}: expected a positive number, got "${text}"`);
    return n;
  };
  const scale = num(values.scale ?? env['PEERS_SCALE'], 1, '--scale');
  return {
    scale,
    count: Math.round(num(values.messages ?? values.count, Math.max(1000, 1_000_000 * scale), '--messages')),
    window: Math.round(num(values.window, 256, '--window')),
    bestWindow: Math.round(num(values['best-window'], 1024, '--best-window')),
    runs: Math.round(num(values.runs, 1, '--runs')),
    e2eRate: num(values['e2e-rate'], 5000, '--e2e-rate'),
    e2eSeconds: num(values['e2e-seconds'], Math.max(5, 20 * scale), '--e2e-seconds'),
    e2eBodyBytes: 1024,
    syncSeconds: num(values['sync-seconds'], Math.max(3, 10 * scale), '--sync-seconds'),
    batchSize: 64,
    peers: (values.peers ?? env['PEERS_LIST'] ?? 'tsrocket,nats,rabbitmq,redis').split(',').map((s) => s.trim()),
    install: values.install === true || env['PEERS_INSTALL'] === '1',
    dir: values.dir ?? os.tmpdir(),
    out: values.out ?? 'bench/results',
    pageCacheMiB: pageCacheOf(values['page-cache']),
  };
}

function pageCacheOf(text: string | undefined): number | undefined {
  if (text === undefined) return 2048;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--page-cache: expected MiB (0: none), got "${text}"`);
  return n === 0 ? undefined : n;
}
