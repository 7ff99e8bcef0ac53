/** resetOffsetByTime / skipAccumulatedMessage: mqadmin's -s forms, and bad -s / -f refused as usage errors (exit 2) before any request. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/admin/args.js';
import { ExitCode, runAdmin } from '../../src/cli/admin/index.js';
import { parseResetTimestamp } from '../../src/cli/admin/offset-commands.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

test('-s: now, ms since the epoch, or local yyyy-MM-dd#HH:mm:ss:SSS', () => {
  assert.equal(parseResetTimestamp('now', 1234), 1234);
  assert.equal(parseResetTimestamp('1700000000123'), 1_700_000_000_123);
  assert.equal(parseResetTimestamp('2026-12-06#10:11:12:345'), new Date(2026, 11, 6, 10, 11, 12, 345).getTime());
  for (const bad of ['yesterday', '2026-13-01#00:00:00:000', '2026-02-30#00:00:00:000', '2026-12-06 10:11:12', '-5']) {
    assert.throws(() => parseResetTimestamp(bad), UsageError, bad);
  }
});

test('a bad -s or -f is a usage error naming it (no server needed)', async () => {
  const a = capture();
  const code = await runAdmin(['resetOffsetByTime', '-g', 'G', '-t', 'T', '-s', 'soon', '-n', '127.0.0.1:1'], a.io);
  assert.equal(code, ExitCode.usage);
  assert.match(a.err.join('\n'), /-s must be now/);
  const b = capture();
  assert.equal(
    await runAdmin(['skipAccumulatedMessage', '-g', 'G', '-t', 'T', '-f', 'yes', '-n', '127.0.0.1:1'], b.io),
    ExitCode.usage,
  );
  assert.match(b.err.join('\n'), /-f must be true or false/);
  const c = capture();
  assert.equal(await runAdmin(['resetOffsetByTime', '-g', 'G', '-t', 'T', '-n', '127.0.0.1:1'], c.io), ExitCode.usage);
  assert.match(c.err.join('\n'), /-s \(--timestamp\)/);
});
