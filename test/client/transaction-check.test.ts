/** The client's CHECK_TRANSACTION_STATE (39) processor: routed by PGROUP; malformed or unroutable checks ignored. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transactionCheckProcessorFor } from './transaction-check-helpers.js';

test('a check reaches the checker of its PGROUP with header and message; its reply goes back as END_TRANSACTION', () => {
  const t = transactionCheckProcessorFor(['pg']);
  t.deliver(
    { tranStateTableOffset: '7', commitLogOffset: '4096', transactionId: 'U1' },
    { PGROUP: 'pg', UNIQ_KEY: 'U1' },
  );
  assert.equal(t.calls.length, 1);
  const call = t.calls[0] as (typeof t.calls)[number];
  assert.equal(call.group, 'pg');
  assert.equal(call.msgId, 'U1');
  assert.equal(call.topic, 'Orders');
  assert.equal(call.header.tranStateTableOffset, 7n);
  assert.equal(t.replies.length, 1);
  assert.equal(t.replies[0]?.code, 37);
  assert.equal(t.replies[0]?.extFields?.['fromTransactionCheck'], 'true');
  assert.equal(t.warnings.length, 0);
});

test('a check for a group with no transactional producer here, a bad header or a bad body: logged, never thrown', () => {
  const t = transactionCheckProcessorFor(['pg']);
  t.deliver({ tranStateTableOffset: '7', commitLogOffset: '1' }, { PGROUP: 'other', UNIQ_KEY: 'U2' });
  t.deliver({ commitLogOffset: '1' }, { PGROUP: 'pg' });
  t.deliverRaw({ tranStateTableOffset: '1', commitLogOffset: '1' }, Buffer.from('not a record'));
  t.deliverRaw({ tranStateTableOffset: '1', commitLogOffset: '1' }, undefined);
  assert.equal(t.calls.length, 0);
  assert.equal(t.replies.length, 0);
  assert.equal(t.warnings.length, 3);
  assert.match(t.warnings[0] ?? '', /no transactional producer/);
});
