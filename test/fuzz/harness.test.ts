/** The fuzz harness itself: it finds a planted crash and an allocation sized by a length field, and replays. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FuzzFailure, fuzz, mutate, Rng } from './harness.js';

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
  assert.throws(() => fuzz(target, 7, 5000), FuzzFailure);
  let message = '';
  try {
    fuzz(target, 7, 5000);
  } catch (err) {
    message = (err as Error).message;
  }
  assert.match(message, /TSROCKET_FUZZ_SEED=7\): TypeError: planted/);
  const iteration = /iteration (\d+)/.exec(message)?.[1];
  let replayed = '';
  try {
    fuzz(target, 7, 5000);
  } catch (err) {
    replayed = (err as Error).message;
  }
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
  assert.throws(() => fuzz(target, 11, 5000), /allocation of \d+ bytes/);
});

test('an allowed error passes; mutations stay within the input limit and vary', () => {
  const r = fuzz({ name: 'ok', seeds, allowed: [TypedError], run: () => {} }, 3, 50);
  assert.ok(r.inputs > seeds.length);
  const rng = new Rng(1);
  const outs = new Set<string>();
  for (let i = 0; i < 200; i++) outs.add(mutate(seeds[1]!, rng, seeds, ['{']).toString('hex'));
  assert.ok(outs.size > 150);
});
