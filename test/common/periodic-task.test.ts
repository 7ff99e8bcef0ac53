/** PeriodicTask on a real short clock: repeats, never overlaps, logs failures by name, stops cleanly, unref'd. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../src/common/log.js';
import { PeriodicTask } from '../../src/common/periodic-task.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for `cond` (the suite runs on a loaded 2-core machine: count runs, don't time them). */
async function until(cond: () => boolean, what: string, msMax = 10_000): Promise<void> {
  const deadline = Date.now() + msMax;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function captureLog(): Logger & { errors: Array<{ msg: string; fields?: Record<string, unknown> }> } {
  const errors: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const none = () => {};
  return { errors, debug: none, info: none, warn: none, error: (msg, fields) => errors.push({ msg, fields }) };
}

test('runs every period until stopped, and not after stop', async () => {
  let runs = 0;
  const task = new PeriodicTask({ name: 't', periodMs: 10, log: captureLog(), run: () => runs++ });
  task.start();
  await until(() => runs >= 4, '4 runs');
  await task.stop();
  assert.equal(task.completedRuns, runs);
  const atStop = runs;
  await sleep(50);
  assert.equal(runs, atStop);
});

test('a run longer than the period defers the next tick: never two runs at once', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  let runs = 0;
  const task = new PeriodicTask({
    name: 'slow',
    periodMs: 5,
    log: captureLog(),
    run: async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(30);
      inFlight--;
      runs++;
    },
  });
  task.start();
  await until(() => runs >= 3, '3 runs');
  await task.stop();
  assert.equal(maxInFlight, 1);
  assert.equal(inFlight, 0, 'stop() waited for the run in progress');
});

test('a failing run (throw or rejection) is logged with the task name and the next run still happens', async () => {
  const log = captureLog();
  let runs = 0;
  const task = new PeriodicTask({
    name: 'flaky',
    periodMs: 10,
    log,
    runAtStart: true,
    run: () => {
      runs++;
      if (runs === 1) throw new Error('boom');
      if (runs === 2) return Promise.reject(new Error('async boom'));
      return undefined;
    },
  });
  task.start();
  await until(() => runs >= 3, '3 runs');
  await task.stop();
  assert.deepEqual(
    log.errors.slice(0, 2).map((e) => [e.msg, e.fields?.['task'], (e.fields?.['err'] as Error | undefined)?.message]),
    [
      ['periodic task failed', 'flaky', 'boom'],
      ['periodic task failed', 'flaky', 'async boom'],
    ],
  );
});

test('a period that is not positive is refused', () => {
  assert.throws(() => new PeriodicTask({ name: 'z', periodMs: 0, log: captureLog(), run: () => {} }), RangeError);
});

test("the timer is unref'd: a process with only a started task exits", async () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const mod = path.join(here, '../../src/common/periodic-task.js');
  const script = `import { PeriodicTask } from ${JSON.stringify(mod)};
    const log = { debug() {}, info() {}, warn() {}, error() {} };
    new PeriodicTask({ name: 'idle', periodMs: 60000, log, run: () => {} }).start();`;
  const started = Date.now();
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 }, (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  assert.ok(Date.now() - started < 10_000);
});
