/** The check pass's rule for one half message, alone. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkTimesOf,
  decideHalf,
  HalfDecision,
  type HalfFacts,
  immunityMsOf,
} from '../../../src/broker/transaction/check-decision.js';

const rules = { nowMs: 100_000, passStartMs: 99_000, transactionTimeOut: 6000, transactionCheckMax: 15 };
const facts = (over: Partial<HalfFacts> = {}): HalfFacts => ({
  resolved: false,
  checkTimes: 0,
  storeTimestampMs: 90_000,
  bornTimestampMs: 90_000,
  immunityMs: undefined,
  ...over,
});

test('an op record wins over everything; then the check budget; then what this pass stored', () => {
  assert.equal(decideHalf(facts({ resolved: true, checkTimes: 99 }), rules), HalfDecision.done);
  assert.equal(decideHalf(facts({ checkTimes: 15 }), rules), HalfDecision.discard);
  assert.equal(decideHalf(facts({ checkTimes: 14 }), rules), HalfDecision.check);
  assert.equal(decideHalf(facts({ storeTimestampMs: 99_000, bornTimestampMs: 1 }), rules), HalfDecision.stop);
});

test('younger than transactionTimeOut stops the pass; older is checked; born in the future is checked', () => {
  assert.equal(decideHalf(facts({ bornTimestampMs: 94_001 }), rules), HalfDecision.stop);
  assert.equal(decideHalf(facts({ bornTimestampMs: 94_000 }), rules), HalfDecision.check);
  assert.equal(decideHalf(facts({ bornTimestampMs: 100_500, storeTimestampMs: 98_000 }), rules), HalfDecision.check);
});

test('CHECK_IMMUNITY_TIME_IN_SECONDS replaces the timeout, and an immune message is put back, not waited on', () => {
  assert.equal(decideHalf(facts({ immunityMs: 60_000 }), rules), HalfDecision.requeue);
  assert.equal(decideHalf(facts({ immunityMs: 5_000 }), rules), HalfDecision.check);
  assert.equal(decideHalf(facts({ immunityMs: 1_000, bornTimestampMs: 98_000 }), rules), HalfDecision.check);
  assert.equal(immunityMsOf('12'), 12_000);
  assert.equal(immunityMsOf('-1'), undefined);
  assert.equal(immunityMsOf('x'), undefined);
  assert.equal(checkTimesOf(undefined), 0);
  assert.equal(checkTimesOf('3'), 3);
  assert.equal(checkTimesOf('3.5'), 0);
});
