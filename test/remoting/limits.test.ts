/**
 * The connection limits' defaults against the traffic our own long-lived connections make, the config keys that
 * set them, and the reading of the process's fd limit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultBrokerConfig } from '../../src/broker/config.js';
import { heartbeatIntervalMsDefault, pollNameServerIntervalMsDefault } from '../../src/client/client-instance.js';
import { namesrvConfigDefaults } from '../../src/namesrv/config.js';
import { processFdLimit } from '../../src/remoting/fd-count.js';
import { serverLimitsDefault, serverLimitsOf } from '../../src/remoting/limits.js';
import { LogThrottle } from '../../src/remoting/log-throttle.js';

test('under default settings our own connections make traffic well inside the idle limit', () => {
  const idleMs = serverLimitsDefault.channelIdleMsMax;
  assert.equal(idleMs, 120_000, "RocketMQ's serverChannelMaxIdleTimeSeconds");
  // Client → broker (heartbeat), client → NameServer (route poll), broker → NameServer (registration):
  // each at most a third of the idle limit, so two lost rounds still leave the connection open.
  assert.ok(heartbeatIntervalMsDefault * 3 <= idleMs);
  assert.ok(pollNameServerIntervalMsDefault * 3 <= idleMs);
  assert.ok(defaultBrokerConfig.registerNameServerPeriod * 3 <= idleMs);
  // A held pull has an unanswered request, so it is not idle at all; its cap is below the limit anyway.
  assert.ok(defaultBrokerConfig.longPollingHoldMsMax < idleMs);
});

test('broker and NameServer defaults are the limits defaults (a NameServer holds no ballast); seconds become ms', () => {
  assert.deepEqual(serverLimitsOf(defaultBrokerConfig), serverLimitsDefault);
  assert.deepEqual(serverLimitsOf(namesrvConfigDefaults()), { ...serverLimitsDefault, heapBallastMiB: 0 });
  const limits = serverLimitsOf({ ...defaultBrokerConfig, serverChannelMaxIdleTimeSeconds: 5 });
  assert.equal(limits.channelIdleMsMax, 5000);
});

test('the fd limit is the soft "Max open files" of /proc/self/limits', () => {
  const text = [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max processes             63431                63431                processes ',
    'Max open files            1024                 524288               files     ',
  ].join('\n');
  assert.equal(processFdLimit(text), 1024);
  assert.equal(processFdLimit(text.replace('1024 ', 'unlimited ')), undefined);
  assert.equal(processFdLimit('garbage'), undefined);
  const own = processFdLimit();
  if (own !== undefined) assert.ok(own > 0);
});

test('refusal and timeout lines are throttled to one per period, each saying how many went unlogged', () => {
  const throttle = new LogThrottle(10_000);
  assert.equal(throttle.take(1_000), 0);
  assert.equal(throttle.take(2_000), undefined);
  assert.equal(throttle.take(10_999), undefined);
  assert.equal(throttle.take(11_000), 2);
  assert.equal(throttle.take(30_000), 0);
});
