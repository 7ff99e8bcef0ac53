/** Load generator and benchmark runs, shared by `tsrocket bench` and the peer harness in bench/peers. */
export { SendLoad, type SendLoadOptions } from './load.js';
export { BenchKind, type BenchOptions, benchDefaults, FlushMode, parseBenchArgs } from './options.js';
export { type BenchSummary, formatTable, type ProgressSink, progressSink, writeResults } from './report.js';
export { type RunHooks, runConsume, runE2e, runProduce } from './runs.js';
export { LatencyRecorder, type LatencySummary, percentile, summarize } from './stats.js';
export { defaultSuite, runSuite } from './suite.js';
export { type BenchTarget, openTarget } from './target.js';
