import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runGrpcProduce } from '../../src/bench/grpc-produce.js';
import { benchDefaults } from '../../src/bench/options.js';
import { progressSink, ratioLines } from '../../src/bench/report.js';
import { runProduce } from '../../src/bench/runs.js';

test('grpc-produce sends through the gRPC endpoint with Apache 5.x client, and its ratio to produce is printed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-bench-grpc-'));
  try {
    const opts = { ...benchDefaults, count: 300, window: 8, queues: 2, resultsDir: dir };
    const quiet = progressSink(null);
    const grpc = await runGrpcProduce(opts, { progress: quiet });
    assert.equal(grpc.kind, 'grpc-produce');
    assert.equal(grpc.name, 'grpc-produce-128');
    assert.equal(grpc.messages, 300);
    assert.equal(grpc.sendFailed, 0);
    assert.ok(grpc.tps > 0);
    const remoting = await runProduce(opts, { progress: quiet });
    const [line] = ratioLines([remoting, grpc]);
    assert.match(line ?? '', /^grpc-produce-128 \/ produce-128: TPS \d+\.\d\d×, CPU\/msg \d+\.\d\d×$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
