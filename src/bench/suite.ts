/**
 * The default suite `npm run bench` runs (about 70 s): produce 128 B / 1 KiB (async and sync flush), produce 128 B
 * over gRPC, consume, e2e.
 */

import { GrpcClientMissingError, runGrpcProduce } from './grpc-produce.js';
import type { BenchKind, BenchOptions, FlushMode } from './options.js';
import type { BenchSummary, ProgressSink } from './report.js';
import { runConsume, runE2e, runProduce } from './runs.js';

interface SuiteStep {
  name: string;
  kind: BenchKind;
  bodyBytes: number;
  durationMs: number;
  flush?: FlushMode;
}

export const defaultSuite: readonly SuiteStep[] = [
  { name: 'produce-128', kind: 'produce', bodyBytes: 128, durationMs: 8000 },
  { name: 'produce-1024', kind: 'produce', bodyBytes: 1024, durationMs: 8000 },
  // The same load through the gRPC endpoint with Apache's 5.x client: its ratio to produce-128 is printed.
  { name: 'grpc-produce-128', kind: 'grpc-produce', bodyBytes: 128, durationMs: 8000 },
  { name: 'produce-1024-sync', kind: 'produce', bodyBytes: 1024, durationMs: 6000, flush: 'SYNC' },
  { name: 'consume-128', kind: 'consume', bodyBytes: 128, durationMs: 8000 },
  { name: 'e2e-1024', kind: 'e2e', bodyBytes: 1024, durationMs: 10_000 },
];

export const runners = {
  produce: runProduce,
  consume: runConsume,
  e2e: runE2e,
  'grpc-produce': runGrpcProduce,
} as const;

/**
 * Runs each step with `base` options (NameServer, window, batch…); a step's size, duration and flush win
 * unless `base` was given an explicit count or duration (`durationFromUser`).
 */
export async function runSuite(
  base: BenchOptions,
  progress: ProgressSink,
  durationFromUser = false,
  steps: readonly SuiteStep[] = defaultSuite,
): Promise<BenchSummary[]> {
  const out: BenchSummary[] = [];
  for (const step of steps) {
    const opts: BenchOptions = {
      ...base,
      name: step.name,
      bodyBytes: step.bodyBytes,
      durationMs: durationFromUser ? base.durationMs : step.durationMs,
      flush: step.flush ?? base.flush,
    };
    progress.line(`== ${step.name}`);
    progress.end();
    try {
      out.push(await runners[step.kind](opts, { progress }));
    } catch (err) {
      // An installed package has no dev dependencies: the gRPC case is skipped, the rest still runs.
      if (!(err instanceof GrpcClientMissingError)) throw err;
      progress.line(`== ${step.name} skipped: ${err.message}`);
      progress.end();
    }
  }
  return out;
}
