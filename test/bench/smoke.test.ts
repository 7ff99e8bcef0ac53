import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { benchDefaults } from '../../src/bench/options.js';
import { progressSink, type ResultFile, writeResults } from '../../src/bench/report.js';
import { runConsume, runProduce } from '../../src/bench/runs.js';

test('produce then consume against the embedded system: non-zero TPS and a valid JSON result', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-bench-test-'));
  try {
    const opts = { ...benchDefaults, durationMs: 1000, window: 8, queues: 2, resultsDir: dir };
    const quiet = progressSink(null);
    const produced = await runProduce(opts, { progress: quiet });
    assert.equal(produced.kind, 'produce');
    assert.ok(produced.messages > 0 && produced.tps > 0, JSON.stringify(produced));
    assert.equal(produced.sendFailed, 0);
    assert.ok((produced.sendRtMs?.p50 ?? -1) >= 0);
    assert.ok((produced.brokerRssBytes ?? 0) > 0);
    const consumed = await runConsume({ ...opts, count: 500 }, { progress: quiet });
    assert.equal(consumed.messages, 500);
    assert.ok(consumed.tps > 0);
    const file = await writeResults(dir, 'smoke', [produced, consumed], new Date());
    const parsed = JSON.parse(await readFile(file, 'utf8')) as ResultFile;
    assert.equal(parsed.results.length, 2);
    assert.equal(parsed.results[1]?.name, 'consume-128');
    assert.ok(parsed.machine.cpus > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
