import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const logModule = fileURLToPath(new URL('../../src/common/log.js', import.meta.url));

/** Runs a child that logs through src/common/log.ts with the given environment; returns its stdout lines. */
function logLines(env: Record<string, string>): string[] {
  const script = `
    const { createLogger } = await import(${JSON.stringify(logModule)});
    const log = createLogger('broker');
    log.debug('hidden');
    log.info('listening', { port: 10911, addr: '0.0.0.0:10911' });
    const err = Object.assign(new Error('disk full'), { code: 14 });
    log.warn('put refused', { offset: 12345678901234567890n, err, level: 'not the level' });`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l !== '');
}

test('TSROCKET_LOG_FORMAT=json writes one JSON object per line; TSROCKET_LOG_LEVEL filters', () => {
  const lines = logLines({ TSROCKET_LOG_FORMAT: 'json', TSROCKET_LOG_LEVEL: 'info' });
  assert.equal(lines.length, 2);
  const [info, warn] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.match(String(info?.['time']), /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(
    { ...info, time: 0 },
    {
      time: 0,
      level: 'info',
      component: 'broker',
      msg: 'listening',
      port: 10911,
      addr: '0.0.0.0:10911',
    },
  );
  assert.equal(warn?.['level'], 'warn', 'a field named like a head key does not replace it');
  assert.equal(warn?.['offset'], '12345678901234567890');
  assert.deepEqual(warn?.['err'], { message: 'disk full', code: 14 });
  assert.equal(logLines({ TSROCKET_LOG_FORMAT: 'json', TSROCKET_LOG_LEVEL: 'warn' }).length, 1);
});

test('the default format stays one text line per entry', () => {
  const lines = logLines({ TSROCKET_LOG_FORMAT: '', TSROCKET_LOG_LEVEL: 'debug' });
  assert.equal(lines.length, 3);
  assert.match(lines[1] ?? '', /^\S+ INFO \[broker\] listening port=10911 addr=0\.0\.0\.0:10911$/);
});
