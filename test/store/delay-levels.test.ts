/** messageDelayLevel: RocketMQ's s/m/h/d units plus ms, refused with a reason naming the bad level. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Broker } from '../../src/broker/broker.js';
import { loadBrokerConfig } from '../../src/broker/config.js';
import { ConfigError } from '../../src/common/config.js';
import {
  DelayLevels,
  defaultMessageDelayLevel,
  delayLevelProblem,
  parseDelayLevels,
} from '../../src/store/delay-levels.js';

test('the default levels are RocketMQ 18: 1s 5s 10s 30s 1m … 2h', () => {
  const levels = parseDelayLevels(defaultMessageDelayLevel);
  assert.ok(Array.isArray(levels));
  assert.equal(levels.length, 18);
  assert.deepEqual(levels.slice(0, 5), [1000, 5000, 10_000, 30_000, 60_000]);
  assert.equal(levels[17], 2 * 3_600_000);
});

test('units s, m, h, d and the ms extension; extra spaces are fine', () => {
  assert.deepEqual(parseDelayLevels('  250ms 2s\t3m 1h 1d '), [250, 2000, 180_000, 3_600_000, 86_400_000]);
});

test('bad values are refused with the level and what is expected', () => {
  for (const [text, why] of [
    ['', /at least one level/],
    ['1s 5x', /level 2 "5x".*unit/],
    ['1s 0s', /level 2 "0s".*more than 0/],
    ['366d', /level 1 "366d".*at most 365d/],
    ['-1s', /level 1/],
    ['1.5s', /level 1/],
    ['1S', /level 1/],
    ['s', /level 1/],
    [Array.from({ length: 1001 }, () => '1s').join(' '), /at most 1000 levels/],
  ] as const) {
    const got = parseDelayLevels(text);
    assert.equal(typeof got, 'string', text);
    assert.match(got as string, why);
    assert.equal(delayLevelProblem(text), got);
  }
  assert.equal(delayLevelProblem('1s'), undefined);
});

test('a level above the last is the last (clamped as RocketMQ does)', () => {
  const l = new DelayLevels([100, 200, 300]);
  assert.equal(l.maxLevel, 3);
  assert.equal(l.clamp(2), 2);
  assert.equal(l.clamp(99), 3);
  assert.equal(l.delayMs(1), 100);
  assert.equal(l.delayMs(99), 300);
});

test('a bad messageDelayLevel is a ConfigError at start: in a config file, and given to the Broker', async () => {
  await assert.rejects(
    loadBrokerConfig({ store: { messageDelayLevel: '1s 5q' } }),
    (err: unknown) => err instanceof ConfigError && /messageDelayLevel.*level 2 "5q"/.test(err.message),
  );
  const ok = await loadBrokerConfig({ store: { messageDelayLevel: '100ms 1s' } });
  assert.equal(ok.store.messageDelayLevel, '100ms 1s');
  assert.throws(
    () => new Broker({ listenPort: 0 }, { messageDelayLevel: '1 s' }),
    (err: unknown) => err instanceof ConfigError && /messageDelayLevel/.test(err.message),
  );
});
