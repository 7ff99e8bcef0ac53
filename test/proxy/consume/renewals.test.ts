import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChangeResult } from '../../../src/broker/pop/types.js';
import { ReceiptRenewals, type RenewalOptions, renewalDefaults } from '../../../src/proxy/consume/renewals.js';

/** A clock the test moves, and a changeInvisible that records calls and hands out numbered handles. */
function setup(opts: Partial<RenewalOptions> = {}, answer?: (handle: string) => ChangeResult | undefined) {
  let now = 1_000_000;
  const calls: Array<{ handle: string; ms: number }> = [];
  let n = 0;
  const r = new ReceiptRenewals(
    async (_g, _t, handle, ms) => {
      calls.push({ handle, ms });
      return answer?.(handle) ?? { status: 'ok', handle: `h${++n}`, popTimeMs: now, invisibleTimeMs: ms };
    },
    { ...renewalDefaults, ...opts },
    () => now,
  );
  return { r, calls, advance: (ms: number) => (now += ms), now: () => now };
}

test('nothing is renewed while far from becoming visible; near it, renewed by the first step', async () => {
  const { r, calls, advance, now } = setup();
  r.add('c1', 'G', 'T', 'h0', now(), 60_000);
  await r.scan();
  assert.equal(calls.length, 0);
  advance(50_001);
  await r.scan();
  assert.deepEqual(calls, [{ handle: 'h0', ms: renewalDefaults.renewStepsMs[0] }]);
  // The client still holds h0; acking maps it to the current handle and ends the renewal.
  assert.equal(await r.take('c1', 'h0'), 'h1');
  assert.equal(r.size, 0);
  assert.equal(await r.take('c1', 'h0'), 'h0');
});

test('renewals step through the policy, and stop past renewMaxMs', async () => {
  const { r, calls, advance, now } = setup({ renewMaxMs: 200_000, clientIdleMs: 10_000_000 });
  r.add('c1', 'G', 'T', 'h0', now(), 10_000); // 10 s left: within renewAheadMs at once
  await r.scan();
  advance(60_000);
  await r.scan();
  assert.deepEqual(calls, [
    { handle: 'h0', ms: 60_000 },
    { handle: 'h1', ms: 180_000 },
  ]);
  advance(180_000);
  await r.scan();
  assert.equal(calls.length, 2, 'past renewMaxMs nothing more is renewed');
  assert.equal(r.size, 0);
});

test('an expired handle is dropped; a refused one is tried renewTriesMax times', async () => {
  const expired = setup({}, () => ({ status: 'expired' }));
  expired.r.add('c1', 'G', 'T', 'h0', expired.now(), 1000);
  await expired.r.scan();
  assert.equal(expired.r.size, 0);
  const refused = setup({ renewTriesMax: 2 }, () => ({ status: 'refused', code: 1, remark: 'x' }));
  refused.r.add('c1', 'G', 'T', 'h0', refused.now(), 1000);
  await refused.r.scan();
  assert.equal(refused.r.size, 1);
  await refused.r.scan();
  assert.equal(refused.r.size, 0);
  assert.equal(refused.calls.length, 2);
});

test('a client not seen for clientIdleMs has its messages made visible soon', async () => {
  const { r, calls, advance, now } = setup({ clientIdleMs: 30_000 });
  r.add('c1', 'G', 'T', 'a', now(), 600_000);
  r.add('c2', 'G', 'T', 'b', now(), 600_000);
  advance(20_000);
  r.seen('c2');
  advance(15_000);
  await r.scan();
  assert.deepEqual(calls, [{ handle: 'a', ms: renewalDefaults.returnInvisibleTimeMs }]);
  assert.equal(r.size, 1);
});

test('take waits for a renewal under way and answers the handle it produced', async () => {
  let release: (() => void) | undefined;
  const gate = new Promise<void>((res) => {
    release = res;
  });
  let now = 0;
  const r = new ReceiptRenewals(
    async () => {
      await gate;
      return { status: 'ok', handle: 'renewed', popTimeMs: now, invisibleTimeMs: 60_000 };
    },
    renewalDefaults,
    () => now,
  );
  r.add('c1', 'G', 'T', 'h0', 0, 1000);
  now = 500;
  const scanning = r.scan();
  const taken = r.take('c1', 'h0');
  release?.();
  assert.equal(await taken, 'renewed');
  await scanning;
});

test('release gives back every message the client holds at once', async () => {
  const { r, calls, now } = setup();
  r.add('c1', 'G', 'T', 'a', now(), 600_000);
  r.add('c1', 'G', 'T', 'b', now(), 600_000);
  r.add('c2', 'G', 'T', 'c', now(), 600_000);
  await r.release('c1');
  assert.deepEqual(calls.map((c) => c.handle).sort(), ['a', 'b']);
  assert.ok(calls.every((c) => c.ms === renewalDefaults.returnInvisibleTimeMs));
  assert.equal(r.size, 1);
});

test('past heldPerClientMax or heldMax a message is not renewed, and the count stays exact', async () => {
  const { r, now, advance } = setup({ heldPerClientMax: 2, heldMax: 3, clientIdleMs: 30_000 });
  assert.equal(r.add('c1', 'G', 'T', 'a', now(), 600_000), true);
  assert.equal(r.add('c1', 'G', 'T', 'b', now(), 600_000), true);
  assert.equal(r.add('c1', 'G', 'T', 'c', now(), 600_000), false, 'per client');
  assert.equal(r.add('c2', 'G', 'T', 'd', now(), 600_000), true);
  assert.equal(r.add('c3', 'G', 'T', 'e', now(), 600_000), false, 'in all');
  assert.equal(r.size, 3);
  assert.equal(await r.take('c1', 'a'), 'a');
  assert.equal(r.size, 2);
  advance(31_000);
  r.seen('c2');
  await r.scan();
  assert.equal(r.size, 1, 'the silent client c1 is forgotten');
  await r.release('c2');
  assert.equal(r.size, 0);
  assert.equal(r.add('c3', 'G', 'T', 'e', now(), 600_000), true);
});

test('a client with a session is kept however long it is silent', async () => {
  let now = 0;
  const calls: string[] = [];
  const r = new ReceiptRenewals(
    async (_g, _t, handle, ms) => {
      calls.push(handle);
      return { status: 'ok', handle, popTimeMs: now, invisibleTimeMs: ms };
    },
    renewalDefaults,
    () => now,
    (clientId) => clientId === 'connected',
  );
  r.add('connected', 'G', 'T', 'a', 0, 3_600_000);
  r.add('silent', 'G', 'T', 'b', 0, 3_600_000);
  now = renewalDefaults.clientIdleMs + 1;
  await r.scan();
  assert.deepEqual(calls, ['b'], 'only the client without a session gives its message back');
  assert.equal(r.size, 1);
});
