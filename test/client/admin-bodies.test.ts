import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarizeProgress } from '../../src/client/admin/admin.js';
import {
  decodeClusterInfo,
  decodeConsumeStats,
  decodeKVTable,
  decodeTopicList,
  decodeTopicRoute,
  decodeTopicStats,
  parseMessageQueueKey,
} from '../../src/client/admin/bodies.js';
import { parseLenientJson } from '../../src/client/admin/json.js';
import { createUniqKey } from '../../src/client/admin/messages.js';
import { parseNameServerList } from '../../src/client/name-server.js';

const b = (s: string) => Buffer.from(s, 'utf8');

test('lenient JSON reads fastjson number and object keys', () => {
  assert.deepEqual(parseLenientJson('{0:"a",1:"b"}'), { '0': 'a', '1': 'b' });
  const v = parseLenientJson('{{"brokerName":"b","queueId":1,"topic":"t"}:{"maxOffset":3}}') as Record<string, unknown>;
  assert.deepEqual(Object.keys(v), ['{"brokerName":"b","queueId":1,"topic":"t"}']);
  assert.deepEqual(parseLenientJson(' [1, -2.5e1, "x\\"y", true, null] '), [1, -25, 'x"y', true, null]);
  assert.throws(() => parseLenientJson('{"a":1'), /invalid JSON at offset/);
  assert.throws(() => parseLenientJson('{"a":1} x'), /unexpected text after the value/);
});

test('topic route with fastjson brokerAddrs keys', () => {
  const r = decodeTopicRoute(
    b(
      '{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"broker-a","cluster":"DefaultCluster"}],"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}',
    ),
  );
  assert.deepEqual(r.brokerDatas[0]?.brokerAddrs, { '0': '127.0.0.1:10911', '1': '127.0.0.1:10921' });
  assert.equal(r.queueDatas[0]?.writeQueueNums, 4);
  assert.equal(r.orderTopicConf, undefined);
});

test('cluster info, topic list and KV table', () => {
  const c = decodeClusterInfo(
    b(
      '{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"C"}},"clusterAddrTable":{"C":["broker-a"]}}',
    ),
  );
  assert.deepEqual(c.clusterAddrTable, { C: ['broker-a'] });
  assert.equal(c.brokerAddrTable['broker-a']?.brokerAddrs['0'], '127.0.0.1:10911');
  assert.deepEqual(decodeTopicList(b('{"topicList":["A","B"]}')), ['A', 'B']);
  assert.deepEqual(decodeKVTable(b('{"table":{"putTps":"1.0","n":3}}')), { putTps: '1.0', n: '3' });
  assert.deepEqual(decodeTopicList(undefined), []);
});

test('topic stats keyed by MessageQueue objects, JSON strings or pair lists', () => {
  const fast = decodeTopicStats(
    b(
      '{"offsetTable":{{"brokerName":"a","queueId":1,"topic":"T"}:{"lastUpdateTimestamp":5,"maxOffset":2,"minOffset":0},{"brokerName":"a","queueId":0,"topic":"T"}:{"lastUpdateTimestamp":0,"maxOffset":1,"minOffset":0}},"topicPutTps":0.0}',
    ),
  );
  assert.deepEqual(
    fast.map((q) => [q.queueId, q.maxOffset]),
    [
      [0, 1],
      [1, 2],
    ],
  );
  const strict = decodeTopicStats(
    b(
      JSON.stringify({
        offsetTable: { [JSON.stringify({ brokerName: 'a', queueId: 3, topic: 'T' })]: { maxOffset: 9 } },
      }),
    ),
  );
  assert.deepEqual(strict[0], {
    topic: 'T',
    brokerName: 'a',
    queueId: 3,
    minOffset: 0,
    maxOffset: 9,
    lastUpdateTimestamp: 0,
  });
  const pairs = decodeTopicStats(
    b(JSON.stringify({ offsetTable: [[{ brokerName: 'a', queueId: 2, topic: 'T' }, { maxOffset: 4 }]] })),
  );
  assert.equal(pairs[0]?.maxOffset, 4);
  assert.deepEqual(parseMessageQueueKey('T@a@7'), { topic: 'T', brokerName: 'a', queueId: 7 });
  assert.equal(parseMessageQueueKey('garbage'), undefined);
});

test('consume stats and progress totals', () => {
  const s = decodeConsumeStats(
    b(
      '{"consumeTps":1.5,"offsetTable":{{"brokerName":"a","queueId":0,"topic":"T"}:{"brokerOffset":10,"consumerOffset":4,"lastTimestamp":1},{"brokerName":"a","queueId":1,"topic":"T"}:{"brokerOffset":3,"consumerOffset":-1,"lastTimestamp":0}}}',
    ),
  );
  const p = summarizeProgress('G', [s]);
  assert.deepEqual(
    p.queues.map((q) => q.lag),
    [6, 3],
  );
  assert.equal(p.lagTotal, 9);
  assert.equal(p.brokerOffsetTotal, 13);
  assert.equal(p.consumerOffsetTotal, 4);
  assert.equal(p.consumeTps, 1.5);
});

test('NameServer lists and uniq keys', () => {
  assert.deepEqual(parseNameServerList('a:1; b:2,'), ['a:1', 'b:2']);
  assert.throws(() => parseNameServerList('nohost'), /bad NameServer address/);
  assert.throws(() => parseNameServerList(' ; '), /no NameServer/);
  const k1 = createUniqKey();
  const k2 = createUniqKey();
  assert.match(k1, /^[0-9A-F]{32}$/);
  assert.notEqual(k1, k2);
});
