import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequest, createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import { RemotingClosedError, RemotingTimeoutError } from '../../src/remoting/errors.js';
import { RequestTable } from '../../src/remoting/request-table.js';

interface Outcome {
  opaque: number;
  resp?: RemotingCommand;
  err?: Error;
  atMs: number;
}

/** Adds a request of `timeoutMs`; its outcome (and when, performance.now()) lands in `into`. */
function track(table: RequestTable, into: Outcome[], timeoutMs: number, code = 10): RemotingCommand {
  const req = createRequest(code);
  table.add(
    req.opaque,
    code,
    timeoutMs,
    (resp) => into.push({ opaque: req.opaque, resp, atMs: performance.now() }),
    (err) => into.push({ opaque: req.opaque, err, atMs: performance.now() }),
  );
  return req;
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

const refedTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('a request times out no sooner than its timeout, with the request named in the error', async () => {
  const table = new RequestTable('127.0.0.1:1');
  const out: Outcome[] = [];
  const t0 = performance.now();
  const req = track(table, out, 60, 310);
  await until(() => out.length === 1);
  const [o] = out;
  assert.ok(o!.err instanceof RemotingTimeoutError, String(o!.err));
  assert.equal(o!.opaque, req.opaque);
  assert.match(o!.err.message, new RegExp(`\\(opaque ${req.opaque}\\) to 127\\.0\\.0\\.1:1 got no response in 60 ms`));
  assert.ok(o!.atMs - t0 >= 60, `timed out after ${o!.atMs - t0} ms`);
  assert.equal(table.size, 0);
});

test('a shorter timeout added after a longer one fires first; answered requests never time out', async () => {
  const table = new RequestTable('peer');
  const out: Outcome[] = [];
  const t0 = performance.now();
  const long = track(table, out, 400);
  const answered = track(table, out, 30);
  const short = track(table, out, 80);
  assert.equal(table.complete(createResponse(answered, 0)), true);
  await until(() => out.length === 2);
  assert.equal(out[0]!.opaque, answered.opaque);
  assert.ok(out[0]!.resp !== undefined);
  assert.equal(out[1]!.opaque, short.opaque);
  assert.ok(out[1]!.err instanceof RemotingTimeoutError);
  assert.ok(out[1]!.atMs - t0 >= 80 && out[1]!.atMs - t0 < 400, `short timed out after ${out[1]!.atMs - t0} ms`);
  assert.equal(table.size, 1);
  assert.equal(table.has(long.opaque), true);
  await until(() => out.length === 3);
  assert.equal(out[2]!.opaque, long.opaque);
  assert.ok(out[2]!.err instanceof RemotingTimeoutError);
  assert.ok(out[2]!.atMs - t0 >= 400, `long timed out after ${out[2]!.atMs - t0} ms`);
});

test('requests expiring in one sweep reject in the order sent; a late answer finds nothing', async () => {
  const table = new RequestTable('peer');
  const out: Outcome[] = [];
  const reqs = [track(table, out, 50), track(table, out, 20), track(table, out, 40)];
  // Every deadline has passed before the timer's turn comes.
  const spinUntil = performance.now() + 60;
  while (performance.now() < spinUntil);
  await until(() => out.length === 3);
  assert.deepEqual(
    out.map((o) => o.opaque),
    reqs.map((r) => r.opaque),
  );
  for (const o of out) assert.ok(o.err instanceof RemotingTimeoutError);
  assert.equal(table.complete(createResponse(reqs[0]!, 0)), false);
});

test('the timer holds the process only while a request is pending; rejectAll stops it', async () => {
  const table = new RequestTable('peer');
  const out: Outcome[] = [];
  const before = refedTimers();
  const a = track(table, out, 10_000);
  assert.equal(refedTimers(), before + 1);
  table.complete(createResponse(a, 0));
  assert.equal(refedTimers(), before, 'an idle table keeps no process alive');
  track(table, out, 20_000);
  track(table, out, 5_000);
  assert.equal(refedTimers(), before + 1, 'one timer for every pending request');
  const closed = new RemotingClosedError('closed');
  table.rejectAll(closed);
  assert.equal(refedTimers(), before);
  assert.equal(table.size, 0);
  assert.deepEqual(
    out.slice(1).map((o) => o.err),
    [closed, closed],
  );
});

test('a timeout that is not a positive number times out at the next timer turn, as setTimeout did', async () => {
  const table = new RequestTable('peer');
  const out: Outcome[] = [];
  track(table, out, Number.NaN);
  track(table, out, 0);
  await until(() => out.length === 2);
  for (const o of out) assert.ok(o.err instanceof RemotingTimeoutError);
});

test("a timeout past setTimeout's largest delay waits instead of firing at once; Infinity never times out", async () => {
  const table = new RequestTable('peer');
  const out: Outcome[] = [];
  track(table, out, 2 ** 31 + 5);
  track(table, out, Number.POSITIVE_INFINITY);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(out.length, 0);
  assert.equal(table.size, 2);
  table.rejectAll(new RemotingClosedError('closed'));
  assert.equal(out.length, 2);
});
