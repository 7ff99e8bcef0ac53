/** Every other request family: encode → frame (JSON and ROCKETMQ) → decode, and missing required fields named. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerializeType } from '../../../src/remoting/command.js';
import * as clients from '../../../src/remoting/protocol/clients.js';
import * as groupAdmin from '../../../src/remoting/protocol/group-admin.js';
import * as kv from '../../../src/remoting/protocol/kv-config.js';
import * as reg from '../../../src/remoting/protocol/namesrv-registration.js';
import * as route from '../../../src/remoting/protocol/namesrv-route.js';
import * as offsets from '../../../src/remoting/protocol/offsets.js';
import * as query from '../../../src/remoting/protocol/query.js';
import * as sendBack from '../../../src/remoting/protocol/send-back.js';
import * as stats from '../../../src/remoting/protocol/stats.js';
import * as topicAdmin from '../../../src/remoting/protocol/topic-admin.js';
import { assertNamesMissing, assertRoundTrip, overWire } from './helpers.js';

function requiredNamed<H>(
  h: H,
  encode: (h: H) => Record<string, string>,
  decode: (c: never) => unknown,
  fields: string[],
) {
  const ext = encode(h);
  for (const f of fields) assertNamesMissing(ext, f, decode as (c: unknown) => unknown);
}

test('send-back (36)', () => {
  const h = {
    offset: 123n,
    group: 'G',
    delayLevel: -1,
    originMsgId: 'MID',
    originTopic: 'T',
    unitMode: false,
    maxReconsumeTimes: 16,
  };
  assertRoundTrip(h, sendBack.encodeSendMsgBackHeader, sendBack.decodeSendMsgBackHeader);
  requiredNamed(h, sendBack.encodeSendMsgBackHeader, sendBack.decodeSendMsgBackHeader, ['offset', 'group']);
});

test('offsets (14, 15, 29, 30, 31, 32) and their answers', () => {
  const q = { topic: 'T', queueId: 3 };
  assertRoundTrip(q, offsets.encodeQueueHeader, offsets.decodeQueueHeader);
  requiredNamed(q, offsets.encodeQueueHeader, offsets.decodeQueueHeader, ['topic', 'queueId']);
  const qc = { consumerGroup: 'G', ...q };
  assertRoundTrip(qc, offsets.encodeQueryConsumerOffsetHeader, offsets.decodeQueryConsumerOffsetHeader);
  requiredNamed(qc, offsets.encodeQueryConsumerOffsetHeader, offsets.decodeQueryConsumerOffsetHeader, [
    'consumerGroup',
  ]);
  const uc = { ...qc, commitOffset: 42n };
  assertRoundTrip(uc, offsets.encodeUpdateConsumerOffsetHeader, offsets.decodeUpdateConsumerOffsetHeader);
  requiredNamed(uc, offsets.encodeUpdateConsumerOffsetHeader, offsets.decodeUpdateConsumerOffsetHeader, [
    'commitOffset',
  ]);
  const so = { ...q, timestamp: 1700000000000n };
  assertRoundTrip(so, offsets.encodeSearchOffsetHeader, offsets.decodeSearchOffsetHeader);
  requiredNamed(so, offsets.encodeSearchOffsetHeader, offsets.decodeSearchOffsetHeader, ['timestamp']);
  assertRoundTrip(-1n, offsets.encodeOffsetResponseHeader, offsets.decodeOffsetResponseHeader);
  assertRoundTrip(77n, offsets.encodeTimestampResponseHeader, offsets.decodeTimestampResponseHeader);
});

test('query (12) and view (33)', () => {
  const h = { topic: 'T', key: 'k', maxNum: 5, beginTimestamp: 1n, endTimestamp: 2n, uniqKey: true };
  assertRoundTrip(h, query.encodeQueryMessageHeader, query.decodeQueryMessageHeader);
  assert.equal(query.encodeQueryMessageHeader(h)[query.uniqueKeyQueryFlag], 'true');
  const plain = { ...h, uniqKey: undefined };
  assertRoundTrip(plain, query.encodeQueryMessageHeader, query.decodeQueryMessageHeader);
  requiredNamed(h, query.encodeQueryMessageHeader, query.decodeQueryMessageHeader, ['topic', 'key']);
  const r = { indexLastUpdateTimestamp: 5n, indexLastUpdatePhyoffset: 6n };
  assertRoundTrip(r, query.encodeQueryMessageResponseHeader, query.decodeQueryMessageResponseHeader);
  assertRoundTrip({ offset: 9n }, query.encodeViewMessageHeader, query.decodeViewMessageHeader);
  requiredNamed({ offset: 9n }, query.encodeViewMessageHeader, query.decodeViewMessageHeader, ['offset']);
});

test('clients (35, 38, 40)', () => {
  const u = { clientID: 'c', producerGroup: 'PG', consumerGroup: undefined };
  assertRoundTrip(u, clients.encodeUnregisterClientHeader, clients.decodeUnregisterClientHeader);
  requiredNamed(u, clients.encodeUnregisterClientHeader, clients.decodeUnregisterClientHeader, ['clientID']);
  const g = { consumerGroup: 'G' };
  assertRoundTrip(g, clients.encodeConsumerGroupHeader, clients.decodeConsumerGroupHeader);
  requiredNamed(g, clients.encodeConsumerGroupHeader, clients.decodeConsumerGroupHeader, ['consumerGroup']);
});

test('topic admin (17, 215, 216) and group admin (207)', () => {
  const c = {
    topic: 'T',
    defaultTopic: 'TBW102',
    readQueueNums: 2,
    writeQueueNums: 3,
    perm: 6,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: true,
  };
  assertRoundTrip(c, topicAdmin.encodeCreateTopicHeader, topicAdmin.decodeCreateTopicHeader, {
    ...c,
    attributes: undefined,
  });
  requiredNamed(c, topicAdmin.encodeCreateTopicHeader, topicAdmin.decodeCreateTopicHeader, ['topic']);
  const typed = { ...c, attributes: '+message.type=FIFO' };
  assertRoundTrip(typed, topicAdmin.encodeCreateTopicHeader, topicAdmin.decodeCreateTopicHeader);
  assertRoundTrip({ topic: 'T' }, topicAdmin.encodeTopicHeader, topicAdmin.decodeTopicHeader);
  const d = { topic: 'T', clusterName: 'C' };
  assertRoundTrip(d, topicAdmin.encodeDeleteTopicFromNamesrvHeader, topicAdmin.decodeDeleteTopicFromNamesrvHeader);
  const g = { groupName: 'G', cleanOffset: true };
  assertRoundTrip(g, groupAdmin.encodeDeleteSubscriptionGroupHeader, groupAdmin.decodeDeleteSubscriptionGroupHeader);
  requiredNamed(g, groupAdmin.encodeDeleteSubscriptionGroupHeader, groupAdmin.decodeDeleteSubscriptionGroupHeader, [
    'groupName',
  ]);
});

test('stats (208, 26)', () => {
  const s = { consumerGroup: 'G', topic: 'T' };
  assertRoundTrip(s, stats.encodeConsumeStatsHeader, stats.decodeConsumeStatsHeader);
  assertRoundTrip(
    { consumerGroup: 'G', topic: undefined },
    stats.encodeConsumeStatsHeader,
    stats.decodeConsumeStatsHeader,
  );
  requiredNamed(s, stats.encodeConsumeStatsHeader, stats.decodeConsumeStatsHeader, ['consumerGroup']);
  const v = { version: '{"counter":3,"timestamp":1}' };
  assertRoundTrip(v, stats.encodeBrokerConfigResponseHeader, stats.decodeBrokerConfigResponseHeader);
});

test('namesrv registration (103, 104, 322, 904) and routes (224, 205, 327, 901)', () => {
  const r = {
    brokerName: 'b',
    brokerAddr: '10.0.0.1:10911',
    clusterName: 'C',
    haServerAddr: '',
    brokerId: 0,
    compressed: false,
    bodyCrc32: 12345,
    heartbeatTimeoutMillis: 120000,
    enableActingMaster: undefined,
  };
  assertRoundTrip(r, reg.encodeRegisterBrokerHeader, reg.decodeRegisterBrokerHeader);
  requiredNamed(r, reg.encodeRegisterBrokerHeader, reg.decodeRegisterBrokerHeader, [
    'brokerName',
    'brokerAddr',
    'clusterName',
    'haServerAddr',
    'brokerId',
  ]);
  const id = { brokerName: 'b', brokerAddr: 'a:1', clusterName: 'C', brokerId: 1 };
  assertRoundTrip(id, reg.encodeBrokerIdentityHeader, reg.decodeBrokerIdentityHeader);
  assert.deepEqual(reg.decodeBrokerAddrHeader(overWire(reg.encodeBrokerIdentityHeader(id), SerializeType.json)), {
    clusterName: 'C',
    brokerAddr: 'a:1',
  });
  assertRoundTrip({ cluster: 'C' }, route.encodeClusterHeader, route.decodeClusterHeader);
  assertRoundTrip({ brokerName: 'b' }, route.encodeBrokerNameHeader, route.decodeBrokerNameHeader);
  const mg = { clusterName: 'C', brokerName: 'b' };
  assertRoundTrip(mg, route.encodeBrokerMemberGroupHeader, route.decodeBrokerMemberGroupHeader);
  requiredNamed(mg, route.encodeBrokerMemberGroupHeader, route.decodeBrokerMemberGroupHeader, ['clusterName']);
});

test('namesrv KV config (100, 101, 102, 219)', () => {
  const p = { namespace: 'N', key: 'k', value: 'v' };
  assertRoundTrip(p, kv.encodePutKvConfigHeader, kv.decodePutKvConfigHeader);
  requiredNamed(p, kv.encodePutKvConfigHeader, kv.decodePutKvConfigHeader, ['namespace', 'key', 'value']);
  assertRoundTrip({ namespace: 'N', key: 'k' }, kv.encodeKvKeyHeader, kv.decodeKvKeyHeader);
  assertRoundTrip({ namespace: 'N' }, kv.encodeKvNamespaceHeader, kv.decodeKvNamespaceHeader);
  assertRoundTrip('v', kv.encodeKvValueResponseHeader, kv.decodeKvValueResponseHeader);
});

test('DELETE_SUBSCRIPTIONGROUP (207) reads 4.9.8 removeOffset and 5.x cleanOffset, and sends both', () => {
  for (const name of ['removeOffset', 'cleanOffset']) {
    for (const st of [SerializeType.json, SerializeType.rocketmq]) {
      const h = groupAdmin.decodeDeleteSubscriptionGroupHeader(overWire({ groupName: 'G', [name]: 'true' }, st));
      assert.deepEqual(h, { groupName: 'G', cleanOffset: true }, name);
    }
  }
  const sent = groupAdmin.encodeDeleteSubscriptionGroupHeader({ groupName: 'G', cleanOffset: true });
  assert.equal(sent['removeOffset'], 'true');
  assert.equal(sent['cleanOffset'], 'true');
});
