import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { encodeMessageProperties, toWireMessage, validateMessage } from '../../src/client/message.js';
import { parseTopicRoute, publishQueues, subscribeQueues } from '../../src/client/route.js';
import { InvalidArgumentError } from '../../src/common/errors.js';

test('validation names what is wrong', () => {
  assert.throws(() => validateMessage({ topic: 'a b', body: 'x' }), /invalid message topic/);
  assert.throws(() => validateMessage({ topic: 'TBW102', body: 'x' }), /system topic/);
  assert.throws(() => validateMessage({ topic: 'T', body: '' }), /empty/);
  assert.throws(
    () => validateMessage({ topic: 'T', body: Buffer.alloc(4 * 1024 * 1024 + 1) }),
    /over the limit of 4194304/,
  );
  assert.throws(() => validateMessage({ topic: 'T', body: 'x', delayTimeLevel: 19 }), /delayTimeLevel/);
  assert.throws(() => validateMessage({ topic: 'T', body: 'x', tags: 'a||b' }), InvalidArgumentError);
  validateMessage({ topic: 'T', body: Buffer.alloc(4 * 1024 * 1024) });
  // Topic checks are skipped only for the topic that last passed them.
  validateMessage({ topic: 'Ok', body: 'x' });
  assert.throws(() => validateMessage({ topic: 'Ok!', body: 'x' }), /invalid message topic/);
  validateMessage({ topic: 'Ok', body: 'x' });
  assert.throws(() => validateMessage({ topic: 'TBW102', body: 'x' }), /system topic/);
  assert.throws(() => validateMessage({ topic: '', body: 'x' }), /invalid message topic/);
});

test('wire form: properties, UNIQ_KEY, compression from 4 KiB', () => {
  const small = toWireMessage({
    topic: 'T',
    body: 'hello',
    tags: 'A',
    keys: 'k',
    delayTimeLevel: 3,
    properties: { p: '1' },
  });
  assert.equal(small.sysFlag, 0);
  assert.equal(small.body.toString(), 'hello');
  assert.equal(small.properties.get('TAGS'), 'A');
  assert.equal(small.properties.get('KEYS'), 'k');
  assert.equal(small.properties.get('DELAY'), '3');
  assert.equal(small.properties.get('WAIT'), 'true');
  assert.equal(small.properties.get('p'), '1');
  assert.match(small.properties.get('UNIQ_KEY') ?? '', /^[0-9A-F]{32}$/);
  const big = Buffer.alloc(4096, 'a');
  const wire = toWireMessage({ topic: 'T', body: big });
  assert.equal(wire.sysFlag & 1, 1);
  assert.ok(wire.body.length < big.length);
  assert.deepEqual(inflateSync(wire.body), big);
  assert.equal(toWireMessage({ topic: 'T', body: Buffer.alloc(4095) }).sysFlag, 0);
});

test('routes: fastjson bodies parse; publish needs write perm and a master', () => {
  const body = Buffer.from(
    '{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"b","cluster":"c"},' +
      '{"brokerAddrs":{1:"127.0.0.1:10931"},"brokerName":"a","cluster":"c"}],' +
      '"queueDatas":[{"brokerName":"b","perm":6,"readQueueNums":2,"writeQueueNums":3,"topicSysFlag":0},' +
      '{"brokerName":"a","perm":4,"readQueueNums":1,"writeQueueNums":1,"topicSysFlag":0}]}',
  );
  const route = parseTopicRoute(body);
  assert.equal(route.brokerDatas[0]?.brokerName, 'a', 'sorted by broker name');
  assert.equal(route.brokerDatas[1]?.brokerAddrs['0'], '127.0.0.1:10911');
  assert.deepEqual(
    publishQueues('T', route).map((q) => `${q.brokerName}:${q.queueId}`),
    ['b:0', 'b:1', 'b:2'],
  );
  assert.deepEqual(
    subscribeQueues('T', route).map((q) => `${q.brokerName}:${q.queueId}`),
    ['a:0', 'b:0', 'b:1'],
  );
  assert.throws(() => parseTopicRoute(Buffer.from('{}')), /queueDatas/);
});

test('messageGroup: sent as __SHARDINGKEY; blank, 64+ bytes, control characters and delays refused', () => {
  const wire = toWireMessage({ topic: 'T', body: 'x', messageGroup: 'order-42' });
  assert.equal(wire.properties.get('__SHARDINGKEY'), 'order-42');
  assert.match(
    encodeMessageProperties({ topic: 'T', body: 'x', messageGroup: 'g' }, 'U'),
    /__SHARDINGKEY\u0001g\u0002/,
  );
  validateMessage({ topic: 'T', body: 'x', messageGroup: 'é'.repeat(31) });
  for (const bad of ['', '  ', 'é'.repeat(32), 'a\u0001b', 7 as unknown as string]) {
    assert.throws(() => validateMessage({ topic: 'T', body: 'x', messageGroup: bad }), InvalidArgumentError);
  }
  for (const timed of [{ deliverTimeMs: Date.now() + 1000 }, { delayMs: 1000 }, { delayTimeLevel: 2 }]) {
    assert.throws(
      () => validateMessage({ topic: 'T', body: 'x', messageGroup: 'g', ...timed }),
      /cannot also be delayed or timed/,
    );
  }
});
