/** The fuzz harness itself: it finds a planted crash and an allocation sized by a length field, and replays. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { FuzzFailure, type FuzzTarget, fuzz, mutate, Rng } from './harness.js';

/** fuzz() expected to fail: its FuzzFailure, the input file it wrote removed (the failure is the test's own). */
function failureOf(target: FuzzTarget, seed: number): FuzzFailure {
  try {
    fuzz(target, seed, 5000);
  } catch (err) {
    if (err instanceof FuzzFailure) rmSync(err.file, { force: true });
    assert.ok(err instanceof FuzzFailure, `not a FuzzFailure: ${String(err)}`);
    return err;
  }
  assert.fail(`fuzz target '${target.name}' did not fail`);
}

class TypedError extends Error {}

const seeds = [Buffer.from('00000004abcd', 'hex'), Buffer.from('hello world')];

test('a planted TypeError is found, named with its seed and iteration, and replays from the seed', () => {
  const target = {
    name: 'planted',
    seeds,
    allowed: [TypedError],
    run(input: Buffer) {
      if (input.length > 0 && input[0]! >= 0x80) throw new TypeError('planted');
      if (input.length === 0) throw new TypedError('empty');
    },
  };
  const message = failureOf(target, 7).message;
  assert.match(message, /TSROCKET_FUZZ_SEED=7\): TypeError: planted/);
  const iteration = /iteration (\d+)/.exec(message)?.[1];
  const replayed = failureOf(target, 7).message;
  assert.equal(/iteration (\d+)/.exec(replayed)?.[1], iteration);
});

test('an allocation sized by a length field in the input is a failure', () => {
  const target = {
    name: 'alloc',
    seeds,
    allowed: [],
    run(input: Buffer) {
      if (input.length >= 4) Buffer.alloc(input.readUInt32BE(0) * 1024);
    },
  };
  assert.match(failureOf(target, 11).message, /allocation of \d+ bytes/);
});

test('an allowed error passes; mutations stay within the input limit and vary', () => {
  const r = fuzz({ name: 'ok', seeds, allowed: [TypedError], run: () => {} }, 3, 50);
  assert.ok(r.inputs > seeds.length);
  const rng = new Rng(1);
  const outs = new Set<string>();
  for (let i = 0; i < 200; i++) outs.add(mutate(seeds[1]!, rng, seeds, ['{']).toString('hex'));
  assert.ok(outs.size > 150);
});
