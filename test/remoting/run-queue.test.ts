/** RunQueueMeter: the share of wall time the calling thread waited for a core, from Linux's schedstat. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { RunQueueMeter } from '../../src/remoting/run-queue.js';

test('the first sample only sets the baseline; later ones are shares of wall time', {
  skip: !existsSync('/proc/thread-self/schedstat'),
}, () => {
  const meter = new RunQueueMeter();
  assert.equal(meter.sample(), undefined);
  let x = 0;
  for (let i = 0; i < 1e6; i++) x += i;
  assert.ok(x > 0);
  const share = meter.sample();
  assert.equal(typeof share, 'number');
  assert.ok((share as number) >= 0 && (share as number) <= 1, `share ${share}`);
  meter.close();
});
