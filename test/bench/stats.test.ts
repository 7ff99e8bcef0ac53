import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTable } from '../../src/bench/report.js';
import { LatencyRecorder, percentile, summarize } from '../../src/bench/stats.js';

test('percentile is nearest rank over sorted samples', () => {
  const xs = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile(xs, 99.9), 100);
  assert.equal(percentile(xs, 100), 100);
  assert.equal(percentile(xs, 0), 1);
  assert.equal(percentile([7], 99.9), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
  const thousand = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.equal(percentile(thousand, 99.9), 999);
  assert.equal(percentile(thousand, 99), 990);
});

test('summarize sorts a copy and reports avg/p50/p99/p999/max', () => {
  const samples = [5, 1, 4, 2, 3];
  const s = summarize(samples);
  assert.deepEqual(s, { count: 5, avg: 3, p50: 3, p99: 5, p999: 5, max: 5 });
  assert.deepEqual(samples, [5, 1, 4, 2, 3]);
  assert.equal(summarize([]), null);
});

test('LatencyRecorder grows past its initial capacity and keeps a per-second window', () => {
  const r = new LatencyRecorder();
  const n = 200_000;
  for (let i = 0; i < n; i++) r.record(i % 1000);
  assert.equal(r.count, n);
  const w = r.takeWindow();
  assert.equal(w.count, n);
  assert.equal(w.max, 999);
  assert.equal(w.avg, 499.5);
  assert.deepEqual(r.takeWindow(), { count: 0, avg: 0, max: 0 });
  const s = r.summary();
  assert.equal(s?.p50, 499);
  assert.equal(s?.max, 999);
  assert.equal(s?.count, n);
});

test('formatTable aligns a header and one row per summary', () => {
  const text = formatTable([
    {
      name: 'produce-128',
      kind: 'produce',
      target: 'embedded',
      topic: 'T',
      bodyBytes: 128,
      window: 4,
      batch: 1,
      flush: 'ASYNC',
      durationMs: 1000,
      messages: 10,
      sendFailed: 0,
      tps: 10,
      mbPerSec: 0.001,
      sendRtMs: { count: 10, avg: 1, p50: 1, p99: 2, p999: 2, max: 2 },
      produceTps: null,
      e2eMs: null,
      brokerRssBytes: 100 * 2 ** 20,
      cpuUsPerMsg: 12.5,
    },
  ]);
  const lines = text.split('\n');
  assert.equal(lines.length, 2);
  assert.equal(lines[0]?.length, lines[1]?.length);
  assert.match(lines[1] ?? '', /^produce-128 .* 100$/);
});
