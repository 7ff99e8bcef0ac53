/**
 * Orderly consumption over real processes, one-queue topics: global order in queue scope (3 keys × 300), and the
 * per-key scope (3 keys × 1,000 in one queue: keys in parallel, each strictly in order) while orderly consumer
 * processes join and leave.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { checkKeyOrder, cleanups, type Delivery, joinAndLeave, keys } from './orderly-run.js';
import { stopAll } from './procs.js';

after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

test('a one-queue topic keeps global order across consumers joining and leaving', async (t) => {
  const all = await joinAndLeave(t, { topic: 'ItOrderlyGlobal', queues: 1, scope: 'queue', perKey: 300 });
  // Sent A0 B0 C0 A1 …: consumed one at a time in exactly that order (re-deliveries aside).
  const position = (d: Delivery) => d.s * keys.length + keys.indexOf(d.k);
  checkKeyOrder(
    '(all)',
    all.map((d) => ({ ...d, s: position(d) })),
    keys.length * 300,
    [],
  );
});

test('per-key scope: keys of one queue consumed in parallel, each strictly in order, across hand-overs', async (t) => {
  const all = await joinAndLeave(t, { topic: 'ItOrderlyPerKey', queues: 1, scope: 'shardingKey', perKey: 1000 });
  // The keys of the single queue overlapped in the handlers (parallel), which queue scope never does.
  const overlaps = all.filter((d, i) => i > 0 && d.ts < (all[i - 1] as Delivery).te).length;
  t.diagnostic(`deliveries starting before the previous one ended: ${overlaps}`);
  assert.ok(overlaps > 0, 'keys of one queue were consumed in parallel');
});
