/** The POP bench case against the embedded system: every message of the backlog acked, and the ratio line. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { benchDefaults } from '../../src/bench/options.js';
import { popRatioLine, runPop } from '../../src/bench/pop.js';
import { progressSink } from '../../src/bench/report.js';

test('pop: 4 SimpleConsumers drain a one-queue backlog, each message acked once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-bench-pop-'));
  try {
    const opts = { ...benchDefaults, count: 400, window: 8, resultsDir: dir };
    const r = await runPop(opts, { progress: progressSink(null) });
    assert.equal(r.kind, 'pop');
    assert.equal(r.topic, 'BenchTopic-pop');
    assert.equal(r.messages, 400, JSON.stringify(r));
    assert.equal(r.sendFailed, 0);
    assert.ok(r.tps > 0);
    const line = popRatioLine([{ ...r, kind: 'consume', tps: r.tps * 4 }, r]);
    assert.match(line ?? '', /TPS 0\.25/);
    assert.equal(popRatioLine([r]), undefined, 'no pull run, no ratio');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
