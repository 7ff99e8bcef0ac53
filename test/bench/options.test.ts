import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchDefaults, parseBenchArgs } from '../../src/bench/options.js';

test('no arguments: the default suite with default options', () => {
  const p = parseBenchArgs([]);
  assert.equal(p.kind, 'suite');
  assert.deepEqual(p.kind === 'suite' && p.opts, benchDefaults);
});

test('RocketMQ-style short flags map to options', () => {
  const p = parseBenchArgs(['produce', '-n', '10.0.0.1:9876', '-t', 'T1', '-s', '1024', '-w', '8', '-c', '500']);
  assert.equal(p.kind, 'produce');
  if (p.kind !== 'produce') return;
  assert.equal(p.opts.nameServer, '10.0.0.1:9876');
  assert.equal(p.opts.topic, 'T1');
  assert.equal(p.opts.bodyBytes, 1024);
  assert.equal(p.opts.window, 8);
  assert.equal(p.opts.count, 500);
});

test('long flags: duration in seconds, flush mode, batch, queues, name, out', () => {
  const p = parseBenchArgs([
    'e2e',
    '-d',
    '3',
    '--flush',
    'sync_flush',
    '--batch',
    '16',
    '-q',
    '2',
    '--name',
    'x1',
    '--out',
    '/tmp/r',
  ]);
  assert.equal(p.kind, 'e2e');
  if (p.kind !== 'e2e') return;
  assert.equal(p.opts.durationMs, 3000);
  assert.equal(p.opts.flush, 'SYNC');
  assert.equal(p.opts.batch, 16);
  assert.equal(p.opts.queues, 2);
  assert.equal(p.opts.name, 'x1');
  assert.equal(p.opts.resultsDir, '/tmp/r');
  assert.equal(p.opts.count, undefined);
});

test('help', () => {
  assert.equal(parseBenchArgs(['--help']).kind, 'help');
  assert.equal(parseBenchArgs(['consume', '-h']).kind, 'help');
});

test('bad input is a usage error naming the flag', () => {
  const bad: Array<[string[], RegExp]> = [
    [['frob'], /unknown benchmark 'frob'/],
    [['produce', 'consume'], /one benchmark kind/],
    [['produce', '-s', '0'], /-s: expected an integer/],
    [['produce', '-s', '1.5'], /-s/],
    [['produce', '-w', 'many'], /-w/],
    [['produce', '-d', '0'], /-d/],
    [['produce', '--flush', 'MAYBE'], /--flush/],
    [['produce', '--batch', '5000'], /--batch/],
    [['produce', '-t', 'bad topic'], /-t: bad topic/],
    [['produce', '--name', '../x'], /--name/],
  ];
  for (const [argv, msg] of bad) assert.throws(() => parseBenchArgs(argv), msg, argv.join(' '));
  assert.throws(
    () => parseBenchArgs(['produce', '--nope']),
    (e: { code?: string }) => e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION',
  );
});
