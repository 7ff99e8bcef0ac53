/**
 * The heap ballast: a RemotingServer holds `heapBallastMiB` of old-generation heap for its process (the largest
 * request wins), which keeps V8 from marking again right after every mark-compact while the live heap is small.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import { brokerKeys } from '../../src/broker/config-keys.js';
import { namesrvKeys } from '../../src/namesrv/config.js';
import { applyHeapBallast, heapBallastBytes, heapGrowingFlagWanted } from '../../src/remoting/gc-ballast.js';
import { RemotingServer } from '../../src/remoting/server.js';

const mib = 1024 * 1024;

test('the ballast is held in the V8 heap and only grows', () => {
  const before = v8.getHeapStatistics().used_heap_size;
  applyHeapBallast(heapBallastBytes() / mib + 8);
  const held = heapBallastBytes();
  assert.ok(held >= 8 * mib);
  const grown = v8.getHeapStatistics().used_heap_size - before;
  assert.ok(grown >= 8 * mib * 0.9, `heap grew by ${grown} bytes only`);
  applyHeapBallast(1);
  assert.equal(heapBallastBytes(), held, 'a smaller request must not replace the ballast');
});

test('a server applies its heapBallastMiB limit', () => {
  const want = heapBallastBytes() / mib + 4;
  new RemotingServer({ name: 'ballast', port: 0, host: '127.0.0.1', fdLimit: 1024, limits: { heapBallastMiB: want } });
  assert.equal(heapBallastBytes(), want * mib);
});

test('the broker holds a ballast by default, a NameServer alone none', () => {
  assert.equal(brokerKeys.gcHeapBallastMiB.default, 32);
  assert.equal(namesrvKeys.gcHeapBallastMiB.default, 0);
});

test("the old generation's growth is set with the ballast unless the process was started with its own", () => {
  assert.equal(heapGrowingFlagWanted([], undefined), true);
  assert.equal(heapGrowingFlagWanted(['--max-old-space-size=512'], '--enable-source-maps'), true);
  assert.equal(heapGrowingFlagWanted(['--heap-growing-percent=50'], undefined), false);
  assert.equal(heapGrowingFlagWanted([], '--max-semi-space-size=16 --heap_growing_percent=30'), false);
  assert.equal(heapGrowingFlagWanted(['--heap-growing-percentage'], undefined), true);
});
