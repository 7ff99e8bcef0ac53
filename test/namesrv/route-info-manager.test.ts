import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DataVersion, TopicConfig } from '../../src/common/route-data.js';
import { type RegisterBrokerInput, RouteInfoManager } from '../../src/namesrv/route-info-manager.js';

const expiryMs = 120_000;

function topic(topicName: string, queues = 8, perm = 6): TopicConfig {
  return { topicName, readQueueNums: queues, writeQueueNums: queues, perm, topicSysFlag: 0, order: false };
}

function version(counter: number, timestamp = 1000): DataVersion {
  return { stateVersion: 0, timestamp, counter };
}

function broker(name: string, addr: string, topics: TopicConfig[], extra: Partial<RegisterBrokerInput> = {}) {
  const input: RegisterBrokerInput = {
    clusterName: 'DefaultCluster',
    brokerAddr: addr,
    brokerName: name,
    brokerId: 0,
    haServerAddr: addr.replace(/:\d+$/, ':10912'),
    topicConfigTable: Object.fromEntries(topics.map((t) => [t.topicName, t])),
    dataVersion: version(1),
    ...extra,
  };
  return input;
}

function manager() {
  const clock = { now: 1_000_000 };
  const routes = new RouteInfoManager({ brokerChannelExpiredTimeMs: expiryMs, nowMs: () => clock.now });
  return { routes, clock };
}

test('register one broker: route has brokerDatas with "0" and queueDatas', () => {
  const { routes } = manager();
  assert.deepEqual(routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1')])), { status: 'ok' });
  assert.deepEqual(routes.pickupTopicRouteData('T1'), {
    brokerDatas: [{ cluster: 'DefaultCluster', brokerName: 'broker-a', brokerAddrs: { '0': '127.0.0.1:10911' } }],
    queueDatas: [{ brokerName: 'broker-a', readQueueNums: 8, writeQueueNums: 8, perm: 6, topicSysFlag: 0 }],
    filterServerTable: {},
  });
  assert.equal(
    JSON.stringify(routes.pickupTopicRouteData('T1')),
    '{"brokerDatas":[{"cluster":"DefaultCluster","brokerName":"broker-a","brokerAddrs":{"0":"127.0.0.1:10911"}}],' +
      '"queueDatas":[{"brokerName":"broker-a","readQueueNums":8,"writeQueueNums":8,"perm":6,"topicSysFlag":0}],' +
      '"filterServerTable":{}}',
  );
  assert.equal(routes.pickupTopicRouteData('nope'), undefined);
});

test('routes merge across two brokers of the same topic; unregister removes one', () => {
  const { routes } = manager();
  routes.registerBroker(broker('broker-b', '127.0.0.1:20911', [topic('T1', 4), topic('OnlyB')]));
  routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1', 8)]));
  const route = routes.pickupTopicRouteData('T1');
  assert.deepEqual(
    route?.brokerDatas.map((b) => b.brokerName),
    ['broker-a', 'broker-b'],
  );
  assert.deepEqual(
    route?.queueDatas.map((q) => [q.brokerName, q.writeQueueNums]),
    [
      ['broker-a', 8],
      ['broker-b', 4],
    ],
  );
  routes.unregisterBroker({
    clusterName: 'DefaultCluster',
    brokerAddr: '127.0.0.1:20911',
    brokerName: 'broker-b',
    brokerId: 0,
  });
  assert.deepEqual(
    routes.pickupTopicRouteData('T1')?.queueDatas.map((q) => q.brokerName),
    ['broker-a'],
  );
  assert.equal(routes.pickupTopicRouteData('OnlyB'), undefined);
  assert.deepEqual(routes.getAllClusterInfo().clusterAddrTable, { DefaultCluster: ['broker-a'] });
});

test('master and slave of one group; slave learns master and HA address', () => {
  const { routes } = manager();
  routes.registerBroker(broker('broker-a', '10.0.0.1:10911', [topic('T1')]));
  const slave = routes.registerBroker(broker('broker-a', '10.0.0.2:10911', [topic('T1')], { brokerId: 1 }));
  assert.deepEqual(slave, { status: 'ok', haServerAddr: '10.0.0.1:10912', masterAddr: '10.0.0.1:10911' });
  assert.deepEqual(routes.pickupTopicRouteData('T1')?.brokerDatas[0]?.brokerAddrs, {
    '0': '10.0.0.1:10911',
    '1': '10.0.0.2:10911',
  });
  // the master goes; the group stays with its slave, topics stay too
  routes.unregisterBroker({
    clusterName: 'DefaultCluster',
    brokerAddr: '10.0.0.1:10911',
    brokerName: 'broker-a',
    brokerId: 0,
  });
  assert.deepEqual(routes.pickupTopicRouteData('T1')?.brokerDatas[0]?.brokerAddrs, { '1': '10.0.0.2:10911' });
});

test('expiry with an injected clock drops only the silent broker', () => {
  const { routes, clock } = manager();
  routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1')]));
  routes.registerBroker(broker('broker-b', '127.0.0.1:20911', [topic('T1')]));
  clock.now += expiryMs - 1000;
  routes.registerBroker(broker('broker-b', '127.0.0.1:20911', [topic('T1')])); // b re-registers
  clock.now += 1000; // a exactly at its limit: still alive
  assert.deepEqual(routes.scanNotActiveBroker(), []);
  clock.now += 1;
  const gone = routes.scanNotActiveBroker();
  assert.deepEqual(
    gone.map((g) => g.brokerName),
    ['broker-a'],
  );
  assert.deepEqual(
    routes.pickupTopicRouteData('T1')?.brokerDatas.map((b) => b.brokerName),
    ['broker-b'],
  );
  clock.now += expiryMs;
  assert.equal(routes.scanNotActiveBroker().length, 1);
  assert.equal(routes.pickupTopicRouteData('T1'), undefined);
  assert.equal(routes.liveBrokerCount(), 0);
});

test('per-broker heartbeatTimeoutMillis overrides the default expiry; heartbeat keeps it alive', () => {
  const { routes, clock } = manager();
  routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1')], { heartbeatTimeoutMillis: 10_000 }));
  clock.now += 9_000;
  routes.updateBrokerInfoUpdateTimestamp('DefaultCluster', '127.0.0.1:10911');
  clock.now += 9_000;
  assert.equal(routes.scanNotActiveBroker().length, 0);
  clock.now += 2_000;
  assert.equal(routes.scanNotActiveBroker().length, 1);
});

test('connection close drops what registered over it, not a later re-registration', () => {
  const { routes } = manager();
  const connA = {};
  const connA2 = {};
  const connB = {};
  routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1')], { channel: connA }));
  routes.registerBroker(broker('broker-b', '127.0.0.1:20911', [topic('T1')], { channel: connB }));
  assert.deepEqual(routes.onChannelDestroy(connB), [
    { clusterName: 'DefaultCluster', brokerAddr: '127.0.0.1:20911', brokerName: 'broker-b', brokerId: 0 },
  ]);
  routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1')], { channel: connA2 }));
  assert.deepEqual(routes.onChannelDestroy(connA), []);
  assert.deepEqual(
    routes.pickupTopicRouteData('T1')?.brokerDatas.map((b) => b.brokerName),
    ['broker-a'],
  );
});

test('delete topic everywhere or per cluster', () => {
  const { routes } = manager();
  routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1'), topic('T2')]));
  routes.registerBroker(broker('broker-c', '127.0.0.1:30911', [topic('T1')], { clusterName: 'Other' }));
  routes.deleteTopic('T1', 'Other');
  assert.deepEqual(
    routes.pickupTopicRouteData('T1')?.queueDatas.map((q) => q.brokerName),
    ['broker-a'],
  );
  routes.deleteTopic('T1', 'DefaultCluster');
  assert.equal(routes.pickupTopicRouteData('T1'), undefined);
  routes.deleteTopic('T2');
  assert.deepEqual(routes.getAllTopicList(), { topicList: [] });
});

test('cluster info, topic lists, topics by cluster, system topics', () => {
  const { routes } = manager();
  routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1'), topic('T2')]));
  routes.registerBroker(broker('broker-c', '127.0.0.1:30911', [topic('T3')], { clusterName: 'Other' }));
  assert.deepEqual(routes.getAllClusterInfo(), {
    brokerAddrTable: {
      'broker-a': { cluster: 'DefaultCluster', brokerName: 'broker-a', brokerAddrs: { '0': '127.0.0.1:10911' } },
      'broker-c': { cluster: 'Other', brokerName: 'broker-c', brokerAddrs: { '0': '127.0.0.1:30911' } },
    },
    clusterAddrTable: { DefaultCluster: ['broker-a'], Other: ['broker-c'] },
  });
  assert.deepEqual(routes.getAllTopicList(), { topicList: ['T1', 'T2', 'T3'] });
  assert.deepEqual(routes.getTopicsByCluster('DefaultCluster'), { topicList: ['T1', 'T2'] });
  assert.deepEqual(routes.getTopicsByCluster('nope'), { topicList: [] });
  assert.deepEqual(routes.getSystemTopicList().topicList.sort(), ['DefaultCluster', 'Other', 'broker-a', 'broker-c']);
});

test('data versions: same version = unchanged, new version updates queue data', () => {
  const { routes } = manager();
  routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1', 8)]));
  assert.equal(routes.isBrokerTopicConfigChanged('DefaultCluster', '127.0.0.1:10911', version(1)), false);
  assert.equal(routes.isBrokerTopicConfigChanged('DefaultCluster', '127.0.0.1:10911', version(2)), true);
  assert.equal(routes.isBrokerTopicConfigChanged('DefaultCluster', '10.9.9.9:1', version(1)), true);
  routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1', 16)], { dataVersion: version(2) }));
  assert.equal(routes.pickupTopicRouteData('T1')?.queueDatas[0]?.writeQueueNums, 16);
  assert.deepEqual(routes.queryBrokerTopicConfig('DefaultCluster', '127.0.0.1:10911'), version(2));
});

test('two addresses claiming one brokerId: the older state is ignored', () => {
  const { routes } = manager();
  routes.registerBroker(
    broker('broker-a', '10.0.0.1:10911', [topic('T1')], { dataVersion: { ...version(1), stateVersion: 5 } }),
  );
  const r = routes.registerBroker(
    broker('broker-a', '10.0.0.2:10911', [topic('T1')], { dataVersion: { ...version(1), stateVersion: 2 } }),
  );
  assert.deepEqual(r, { status: 'ignored' });
  assert.deepEqual(routes.pickupTopicRouteData('T1')?.brokerDatas[0]?.brokerAddrs, { '0': '10.0.0.1:10911' });
});

test('wipe and add write perm; register topic only for known brokers', () => {
  const { routes } = manager();
  routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1'), topic('T2')]));
  assert.equal(routes.wipeWritePerm('broker-a'), 2);
  assert.equal(routes.pickupTopicRouteData('T1')?.queueDatas[0]?.perm, 4);
  assert.equal(routes.addWritePerm('broker-a'), 2);
  assert.equal(routes.pickupTopicRouteData('T1')?.queueDatas[0]?.perm, 6);
  const q = { brokerName: 'broker-a', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 };
  assert.equal(routes.registerTopic('T9', [q]), true);
  assert.equal(routes.pickupTopicRouteData('T9')?.queueDatas[0]?.readQueueNums, 2);
  assert.equal(routes.registerTopic('T10', [{ ...q, brokerName: 'ghost' }]), false);
  assert.equal(routes.pickupTopicRouteData('T10'), undefined);
});

test('deleteTopicWithBrokerRegistration drops topics the broker no longer has', () => {
  const routes = new RouteInfoManager({
    brokerChannelExpiredTimeMs: expiryMs,
    deleteTopicWithBrokerRegistration: true,
  });
  routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1'), topic('T2')]));
  routes.registerBroker(broker('broker-a', '127.0.0.1:10911', [topic('T1')], { dataVersion: version(2) }));
  assert.deepEqual(routes.getAllTopicList(), { topicList: ['T1'] });
});
