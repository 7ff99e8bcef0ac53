import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { CpuProbe, groupCpuUs, parseProcStat } from '../../bench/peers/cpu.js';
import { runBatches, runLanes } from '../../bench/peers/modes.js';
import { parseRequestsPerSec } from '../../bench/peers/redis-best.js';
import { renderTable } from '../../bench/peers/report.js';
import { bestOf, Durability, type Measurement, ModeKind } from '../../bench/peers/results.js';
import { bestPeer, evaluateTargets, peerRatios, summarizeTargets } from '../../bench/peers/targets.js';

const m = (
  system: string,
  workload: string,
  mode: string,
  kind: ModeKind,
  value: number,
  serverCpuUsPerMsg?: number,
): Measurement => ({
  system,
  workload,
  mode,
  kind,
  durability: Durability.pageCache,
  value,
  unit: workload.startsWith('e2e-') ? 'ms' : 'msg/s',
  ...(serverCpuUsPerMsg === undefined ? {} : { serverCpuUsPerMsg, clientCpuUsPerMsg: 1 }),
});

const run = (ownBest: number, natsBest: number): Measurement[] => [
  m('tsrocket', 'produce-1k', 'send', ModeKind.idiomatic, 100, 9),
  m('tsrocket', 'produce-1k', 'sendBatch-64', ModeKind.best, ownBest, 3),
  m('nats', 'produce-1k', 'js.publish', ModeKind.idiomatic, 20, 30),
  m('nats', 'produce-1k', 'async-publish', ModeKind.best, natsBest, 6),
  m('redis', 'produce-1k', 'xadd-autopipeline', ModeKind.idiomatic, 50, 4),
  m('redis', 'produce-1k', 'redis-benchmark -P 64', ModeKind.ceiling, 10_000, 1),
];

test('each system counts with its best client mode; a load-tool ceiling is shown but not a mode', () => {
  const ms = run(300, 150);
  assert.equal(bestOf(ms, 'tsrocket', 'produce-1k')?.mode, 'sendBatch-64');
  assert.equal(bestOf(ms, 'redis', 'produce-1k')?.mode, 'xadd-autopipeline');
  assert.equal(bestPeer(ms, 'produce-1k')?.mode, 'async-publish');
  const t = new Map(evaluateTargets(ms, undefined).map((x) => [x.id, x]));
  assert.equal(t.get('produce-1k')?.ratio, 2);
  assert.equal(t.get('produce-1k')?.verdict, 'PASS');
  // Server CPU: tsrocket's least (3 µs) against the least of any peer's client modes (redis 4 µs), not the ceiling.
  assert.equal(t.get('cpu-produce-1k')?.ratio, 4 / 3);
  const ratios = peerRatios(ms);
  const of = (against: string, basis: string) =>
    ratios.find((r) => r.workload === 'produce-1k' && r.against === against && r.basis === basis)?.ratio;
  assert.equal(of('nats', 'best'), 2);
  assert.equal(of('nats', 'idiomatic'), 5);
  assert.equal(of('redis', 'ceiling'), 0.03);
});

test('over runs the median must reach 1.5 × and every run 1.2 ×', () => {
  const summary = (pairs: [number, number][]) =>
    summarizeTargets(pairs.map(([own, peer]) => evaluateTargets(run(own, peer), undefined))).find(
      (t) => t.id === 'produce-1k',
    );
  const pass = summary([
    [160, 100],
    [130, 100],
    [170, 100],
  ]);
  assert.equal(pass?.ratio, 1.6);
  assert.equal(pass?.min, 1.3);
  assert.equal(pass?.verdict, 'PASS');
  const oneLowRun = summary([
    [160, 100],
    [110, 100],
    [170, 100],
  ]);
  assert.equal(oneLowRun?.ratio, 1.6);
  assert.equal(oneLowRun?.verdict, 'MISS');
  assert.equal(summary([[140, 100]])?.verdict, 'MISS');
  assert.equal(
    summary([
      [100, 100],
      [200, 100],
    ])?.ratio,
    1.5,
  );
});

test('/proc stat lines parse with spaces and parentheses in the command name', () => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
  fields[0] = 'S';
  const s = parseProcStat(`1234 (a) (b c) ${fields.join(' ')}`);
  // pgrp is field 5; utime..cstime are fields 14..17.
  assert.deepEqual(s, { pgrp: 5, ticks: 14 + 15 + 16 + 17, childTicks: 16 + 17 });
  assert.equal(parseProcStat('garbage'), undefined);
});

test('server CPU is read from /proc for every process of the group', async () => {
  // A child in its own process group burns CPU, reports its own figure, then waits to be killed.
  const script = `const t=Date.now();let x=0;while(process.cpuUsage().user<300000&&Date.now()-t<20000)x+=Math.sqrt(x+1);
const c=process.cpuUsage();console.log(c.user+c.system);setInterval(()=>{},1000);`;
  const child = spawn(process.execPath, ['-e', script], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const group = child.pid as number;
    const probe = new CpuProbe([group]);
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const reportedUs = Number(line.toString().trim());
    const cpu = probe.perMessage(1000);
    assert.ok(reportedUs >= 300_000, `child burnt ${reportedUs} µs`);
    // The probe started after the child did, so it may miss start-up; never more than the whole group used.
    assert.ok(groupCpuUs([group]) >= reportedUs * 0.8, `group ${groupCpuUs([group])} µs, child says ${reportedUs}`);
    assert.ok(cpu.serverCpuUsPerMsg > 0, `per message ${cpu.serverCpuUsPerMsg}`);
    assert.ok(cpu.clientCpuUsPerMsg >= 0);
    assert.equal(groupCpuUs([]), 0);
  } finally {
    process.kill(-(child.pid as number), 'SIGKILL');
  }
});

test('batched runners send every message once, in bounded batches and windows', async () => {
  const seen: number[] = [];
  let inFlight = 0;
  let peak = 0;
  const body = (i: number) => Buffer.from([i & 0xff, i >> 8]);
  await runBatches(
    1000,
    64,
    3,
    async (bodies) => {
      peak = Math.max(peak, ++inFlight);
      assert.ok(bodies.length <= 64 && bodies.length > 0);
      for (const b of bodies) seen.push(b.readUInt16LE(0));
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    },
    body,
  );
  assert.equal(peak, 3);
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  const lanes = new Map<number, number>();
  const laneSeen: number[] = [];
  await runLanes(
    1000,
    4,
    100,
    async (lane, bodies) => {
      lanes.set(lane, (lanes.get(lane) ?? 0) + bodies.length);
      for (const b of bodies) laneSeen.push(b.readUInt16LE(0));
      await new Promise((resolve) => setImmediate(resolve));
    },
    body,
  );
  assert.equal(lanes.size, 4);
  assert.deepEqual(
    laneSeen.sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i),
  );
});

test("redis-benchmark's rate is read from its quiet output", () => {
  assert.equal(
    parseRequestsPerSec(
      'XADD s * d xxx: rps=0.0 (overall: nan) avg_msec=nan\rXADD s * d xxx: 166666.67 requests per second, p50=0.247 msec\n',
    ),
    166666.67,
  );
  assert.equal(parseRequestsPerSec('ERR unknown command'), undefined);
});

test('the table shows mode, kind, durability and CPU per message on every row', () => {
  const text = renderTable(run(300, 150));
  const lines = text.split('\n');
  assert.equal(lines.length, 7);
  assert.match(lines[0] ?? '', /srv µs\/msg\s+gen µs\/msg$/);
  assert.match(lines.find((l) => l.includes('async-publish')) ?? '', /best\s+page cache\s+150\s+msg\/s\s+6\.0\s+1\.0$/);
  assert.match(lines.find((l) => l.includes('redis-benchmark')) ?? '', /ceiling/);
});
