/**
 * TopicSpread (`tsrocket start --brokers N`): a topic new in one broker's registration is created on the brokers
 * that lack it; first registrations are only a baseline, a topic a broker already had is never re-created
 * elsewhere (a delete broker by broker is not undone), and system, retry, DLQ, reply and name topics stay put.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TopicSpread } from '../../src/cli/topic-spread.js';
import { createLogger } from '../../src/common/log.js';
import type { QueueData, TopicConfig } from '../../src/common/route-data.js';
import { RouteInfoManager } from '../../src/namesrv/route-info-manager.js';

const members = new Map([
  ['broker-a', '127.0.0.1:10911'],
  ['broker-b', '127.0.0.1:10921'],
]);

function topic(topicName: string, queues = 8, perm = 6): TopicConfig {
  return { topicName, readQueueNums: queues, writeQueueNums: queues, perm, topicSysFlag: 0, order: false };
}

function setup() {
  const routes = new RouteInfoManager({ brokerChannelExpiredTimeMs: 120_000 });
  const created: Array<{ addr: string; topic: string; like: QueueData }> = [];
  const spread = new TopicSpread(
    routes,
    async (addr, t, like) => {
      created.push({ addr, topic: t, like });
    },
    createLogger('test'),
  );
  let counter = 0;
  const register = (name: string, topics: TopicConfig[]) => {
    routes.registerBroker({
      clusterName: 'DefaultCluster',
      brokerAddr: members.get(name) as string,
      brokerName: name,
      brokerId: 0,
      haServerAddr: '',
      topicConfigTable: Object.fromEntries(topics.map((t) => [t.topicName, t])),
      dataVersion: { stateVersion: 0, timestamp: 1000, counter: ++counter },
    });
    spread.afterRegistration(name, members, 'DefaultCluster');
  };
  return { routes, spread, created, register };
}

test('a topic new on one broker is created on the other with its queue counts and perm', () => {
  const { created, register } = setup();
  register('broker-a', [topic('Old')]);
  register('broker-b', []);
  assert.deepEqual(created, [], 'first registrations are a baseline: Old stays on broker-a');
  register('broker-a', [topic('Old'), topic('Auto', 4, 6)]);
  assert.deepEqual(created, [
    {
      addr: '127.0.0.1:10921',
      topic: 'Auto',
      like: { brokerName: 'broker-a', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 },
    },
  ]);
  // broker-b now registers it too: nothing more to do.
  register('broker-b', [topic('Auto', 4, 6)]);
  assert.equal(created.length, 1);
});

test('system, retry, DLQ, reply and broker/cluster name topics are not spread', () => {
  const { created, register } = setup();
  register('broker-a', []);
  register('broker-b', []);
  const local = [
    'RMQ_SYS_TRANS_HALF_TOPIC',
    'rmq_sys_REVIVE_LOG_DefaultCluster',
    'SCHEDULE_TOPIC_XXXX',
    'TBW102',
    '%RETRY%group',
    '%DLQ%group',
    'DefaultCluster_REPLY_TOPIC',
    'DefaultCluster',
    'broker-a',
  ];
  register(
    'broker-a',
    local.map((t) => topic(t)),
  );
  assert.deepEqual(created, []);
});

test('a topic a broker already had is not re-created on a broker that dropped it (a delete is not undone)', () => {
  const { created, register, routes } = setup();
  register('broker-a', [topic('Gone')]);
  register('broker-b', [topic('Gone')]);
  // deleteTopic: gone from broker-a and from the NameServer, while broker-b still registers it for a moment.
  register('broker-a', []);
  routes.deleteTopic('Gone');
  register('broker-b', [topic('Gone')]);
  assert.deepEqual(
    routes.pickupTopicRouteData('Gone')?.queueDatas.map((q) => q.brokerName),
    ['broker-b'],
    'broker-a lacks it',
  );
  assert.deepEqual(created, []);
});

test('after forget (a restarted broker), its first registration is a baseline again', () => {
  const { created, register, spread } = setup();
  register('broker-a', []);
  register('broker-b', []);
  spread.forget('broker-b');
  register('broker-b', [topic('FromBeforeTheCrash')]);
  assert.deepEqual(created, []);
});
