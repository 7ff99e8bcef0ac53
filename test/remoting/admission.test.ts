/** ConnectionAdmission alone: which limit refuses, the fd ceiling from the fds counted, pause and resume. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { ConnectionAdmission, RefusedBy } from '../../src/remoting/admission.js';
import { serverLimitsDefault } from '../../src/remoting/limits.js';
import { captureLogs } from './helpers.js';

const logs = captureLogs();
const log = createLogger('test');

test('per IP, then in total: the first limit reached refuses, and a release frees its slot', () => {
  const a = new ConnectionAdmission(
    { ...serverLimitsDefault, connectionsPerIpMax: 2, connectionsMax: 3 },
    undefined,
    log,
    't',
  );
  assert.equal(a.admit('10.0.0.1'), undefined);
  assert.equal(a.admit('10.0.0.1'), undefined);
  assert.equal(a.admit('10.0.0.1'), RefusedBy.perIp);
  assert.equal(a.admit('10.0.0.2'), undefined);
  assert.equal(a.admit('10.0.0.3'), RefusedBy.total);
  a.release('10.0.0.1');
  assert.equal(a.admit('10.0.0.1'), undefined);
  assert.deepEqual(a.refused, { connectionsPerIpMax: 1, connectionsMax: 1, connectionFdReserve: 0 });
});

test('the fd ceiling is the limit less the reserve and the other fds; accepting resumes 5 % under it', () => {
  const a = new ConnectionAdmission({ ...serverLimitsDefault, fdReserve: 100 }, 1000, log, 't');
  // Not counted yet: no other fd assumed.
  assert.equal(a.fdCeiling(), 900);
  a.fdsCounted(500);
  assert.equal(a.fdCeiling(), 400);
  for (let i = 0; i < 400; i++) assert.equal(a.admit(`10.0.${i >> 8}.${i & 255}`), undefined);
  assert.equal(a.admit('10.1.0.1'), RefusedBy.fdReserve);
  assert.ok(a.acceptPaused);
  assert.ok(logs.some((l) => l.includes('accepting paused')));
  // One connection closing is not enough: 380 (5 % under 400) is where accepting resumes.
  for (let i = 0; i < 19; i++) a.release(`10.0.${i >> 8}.${i & 255}`);
  assert.ok(a.acceptPaused);
  assert.equal(a.admit('10.1.0.1'), RefusedBy.fdReserve);
  a.release('10.0.0.19');
  assert.equal(a.acceptPaused, false);
  assert.ok(logs.some((l) => l.includes('accepting resumed')));
  assert.equal(a.admit('10.1.0.1'), undefined);
});

test('files opened elsewhere lower the ceiling; a count that finds no fd free pauses at once', () => {
  const a = new ConnectionAdmission({ ...serverLimitsDefault, fdReserve: 10 }, 100, log, 't');
  a.fdsCounted(20);
  for (let i = 0; i < 50; i++) a.admit('10.0.0.1');
  assert.equal(a.acceptPaused, false);
  // The store opened 30 more files: 50 connections + 50 other fds leave no reserve.
  a.fdsCounted(100);
  assert.ok(a.acceptPaused);
  const b = new ConnectionAdmission(serverLimitsDefault, 100, log, 't');
  b.fdsCounted('exhausted');
  assert.equal(b.admit('10.0.0.1'), RefusedBy.fdReserve);
});
