import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kernelThreadTicksBetween } from '../../bench/peers/cpu.js';
import { runWindowed } from '../../bench/peers/load.js';
import { Durability, type Measurement, ModeKind } from '../../bench/peers/results.js';
import { percentile, summarizeLatencies } from '../../bench/peers/stats.js';
import { renderChart } from '../../bench/peers/svg.js';
import { bestPeer, evaluateTargets, peerRatios } from '../../bench/peers/targets.js';

const row = (system: string, workload: string, value: number, unit: Measurement['unit']): Measurement => ({
  system,
  workload,
  mode: 'plain',
  kind: ModeKind.idiomatic,
  durability: Durability.pageCache,
  value,
  unit,
});

test('percentiles use the nearest rank', () => {
  const sorted = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 0.5), 500);
  assert.equal(percentile(sorted, 0.99), 990);
  assert.equal(percentile(sorted, 0.999), 999);
  assert.ok(Number.isNaN(percentile([], 0.5)));
  const s = summarizeLatencies([5, 1, 3, 2, 4]);
  assert.deepEqual(s, { count: 5, p50: 3, p99: 5, p999: 5, max: 5 });
});

const ms: Measurement[] = [
  row('tsrocket', 'produce-1k', 130, 'msg/s'),
  row('nats', 'produce-1k', 100, 'msg/s'),
  row('rabbitmq', 'produce-1k', 50, 'msg/s'),
  row('tsrocket', 'e2e-p99', 4, 'ms'),
  row('redis', 'e2e-p99', 2, 'ms'),
  row('nats', 'e2e-p99', 8, 'ms'),
  row('tsrocket', 'sync-1', 10, 'msg/s'),
  row('tsrocket', 'sync-64', 200, 'msg/s'),
  row('tsrocket', 'batch-1k-MiB', 60, 'MiB/s'),
];

test('targets compare tsrocket with the best peer and the hardware', () => {
  assert.equal(bestPeer(ms, 'produce-1k')?.system, 'nats');
  assert.equal(bestPeer(ms, 'e2e-p99')?.system, 'redis');
  const byId = new Map(
    evaluateTargets(ms, { seqWriteMiBps: 100, fdatasyncPerSec: 1, loopbackMiBps: 1 }).map((t) => [t.id, t]),
  );
  // 1.3 × the best peer: below issue 15's 1.5 ×.
  assert.equal(byId.get('produce-1k')?.verdict, 'MISS');
  assert.ok(Math.abs((byId.get('produce-1k')?.ratio ?? 0) - 1.3) < 1e-9);
  assert.equal(byId.get('e2e-p99')?.verdict, 'MISS');
  assert.equal(byId.get('e2e-p99')?.ratio, 0.5);
  assert.equal(byId.get('sync-64-vs-1')?.verdict, 'PASS');
  assert.equal(byId.get('sync-64-vs-rabbitmq')?.verdict, 'PASS');
  assert.equal(byId.get('batch-vs-disk')?.verdict, 'PASS');
  assert.equal(byId.get('consume-1k')?.verdict, 'N/A');
  const nats = peerRatios(ms).find((r) => r.against === 'nats' && r.workload === 'e2e-p99');
  assert.equal(nats?.ratio, 2);
});

test('the chart is one well-formed SVG document with escaped text', () => {
  const svg = renderChart([...ms, row('a<b>&"c', 'x', 1, 'ms')], 'peers & "me"');
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.ok(!/&(?!#\d+;)/.test(svg), 'every & starts an entity');
  // Tags balance: every opened element is closed or self-closed, in order.
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self === '/') continue;
    if (close === '/') assert.equal(stack.pop(), name);
    else stack.push(name as string);
  }
  assert.deepEqual(stack, []);
  assert.equal((svg.match(/<rect /g) ?? []).length >= ms.length, true);
});

test('the windowed runner never exceeds its window and counts every send', async () => {
  let inFlight = 0;
  let peak = 0;
  const r = await runWindowed(200, 7, async () => {
    peak = Math.max(peak, ++inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    inFlight--;
  });
  assert.equal(r.count, 200);
  assert.equal(peak, 7);
});

test("kernel threads' ticks between two samples: a thread that ended is left out, one that started counts from 0", () => {
  const before = new Map([
    [2, 100],
    [50, 4000], // a busy kworker that ends before the second sample
    [60, 10],
  ]);
  const after = new Map([
    [2, 101],
    [60, 25],
    [70, 7], // started meanwhile
  ]);
  assert.equal(kernelThreadTicksBetween(before, after), 1 + 15 + 7);
  assert.equal(kernelThreadTicksBetween(after, after), 0);
});
