/**
 * GET_BROKER_RUNTIME_INFO (28), GET_TOPIC_STATS_INFO (202), GET_CONSUME_STATS (208), GET_BROKER_CONFIG (26) over
 * TCP report measured figures: they change as messages are sent and consumed, and a figure the broker cannot
 * know is absent.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Broker } from '../../src/broker/broker.js';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer, PushConsumer, type ReceivedMessage } from '../../src/client/index.js';
import { ConfigError } from '../../src/common/config.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { startCluster, type TestCluster, waitFor } from '../client/cluster.js';

let cluster: TestCluster;
let producer: Producer;
let admin: Admin;
let brokerAddr: string;

before(async () => {
  cluster = await startCluster(1);
  brokerAddr = cluster.brokers[0]?.brokerAddr ?? '';
  producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_stats' });
  await producer.start();
  admin = new Admin({ nameServer: cluster.nameServer });
});

after(async () => {
  await admin.close();
  await producer.shutdown();
  await cluster.close();
});

const firstRate = (text: string | undefined) => Number(text?.split(' ')[0]);

test('runtime info: version from package.json, the configured role, puts and their rate move', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  await cluster.createTopic('StatsRuntime', 1);
  const before = await admin.brokerRuntimeInfo(brokerAddr);
  assert.equal(before['brokerVersionDesc'], `V${pkg.version.replace(/[^0-9A-Za-z]+/g, '_').toUpperCase()}`);
  assert.equal(before['brokerRole'], 'ASYNC_MASTER', 'the default brokerRole');
  for (let i = 0; i < 5; i++) await producer.send({ topic: 'StatsRuntime', body: `r${i}` });
  const afterSends = await admin.brokerRuntimeInfo(brokerAddr);
  assert.equal(Number(afterSends['msgPutTotalTodayNow']) - Number(before['msgPutTotalTodayNow']), 5);
  assert.match(afterSends['putTps'] ?? '', /^\d+\.\d\d \d+\.\d\d \d+\.\d\d$/, 'RocketMQ form: 10 s, 1 min, 10 min');
  assert.ok(firstRate(afterSends['putTps']) > 0, `putTps ${afterSends['putTps']}`);
  assert.match(afterSends['getTransferedTps'] ?? '', /^\d+\.\d\d \d+\.\d\d \d+\.\d\d$/);
  // The remoting server's connection counters: this admin's connection and the producer's are open.
  assert.ok(Number(afterSends['connectionsOpen']) >= 2, `connectionsOpen ${afterSends['connectionsOpen']}`);
  for (const k of ['connectionsRefusedPerIp', 'connectionsReapedIdle', 'partialFramesTimedOut', 'partialFrameBytes']) {
    assert.equal(afterSends[k], '0', k);
  }
});

test('a broker that is not id 0 is refused until replication lands, so no replica claims a role', () => {
  assert.throws(
    () => new Broker({ brokerId: 1, listenPort: 0, listenHost: '127.0.0.1' }),
    (err: unknown) => err instanceof ConfigError && /brokerId/.test(err.message),
  );
});

test('topic stats: lastUpdateTimestamp is the store time of the last message, 0 only for an empty queue', async () => {
  await cluster.createTopic('StatsTopic', 2);
  const empty = await admin.topicStatus('StatsTopic');
  assert.deepEqual(
    empty.map((q) => q.lastUpdateTimestamp),
    [0, 0],
  );
  const t0 = Date.now();
  await admin.sendMessage('StatsTopic', 'one', { queueId: 0 });
  const first = (await admin.topicStatus('StatsTopic')).find((q) => q.queueId === 0);
  assert.ok(first !== undefined && first.lastUpdateTimestamp >= t0 && first.lastUpdateTimestamp <= Date.now());
  await sleep(20);
  await admin.sendMessage('StatsTopic', 'two', { queueId: 0 });
  const queues = await admin.topicStatus('StatsTopic');
  const second = queues.find((q) => q.queueId === 0);
  assert.ok(second !== undefined && second.lastUpdateTimestamp > first.lastUpdateTimestamp, 'moved with the put');
  assert.equal(queues.find((q) => q.queueId === 1)?.lastUpdateTimestamp, 0, 'queue 1 is still empty');
});

test('consume stats: consumeTps and lastTimestamp follow what the group consumed', async () => {
  await cluster.createTopic('StatsConsume', 1);
  const group = 'cg_stats';
  const received: ReceivedMessage[] = [];
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    persistOffsetIntervalMs: 100,
  });
  consumer.subscribe('StatsConsume', '*').onMessage((msg) => {
    received.push(msg);
  });
  await consumer.start();
  try {
    const idle = await admin.consumerProgress(group, 'StatsConsume');
    assert.equal(idle.consumeTps, 0, 'nothing pulled yet');
    assert.equal(idle.queues[0]?.lastTimestamp, 0, 'nothing consumed: no timestamp');
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'StatsConsume', body: `c${i}` });
    await waitFor(() => received.length === 10, '10 messages');
    await waitFor(
      async () => (await admin.consumerProgress(group, 'StatsConsume')).consumerOffsetTotal === 10,
      'offset 10 committed',
    );
    const busy = await admin.consumerProgress(group, 'StatsConsume');
    assert.ok(busy.consumeTps > 0, `consumeTps ${busy.consumeTps}`);
    const last = received.find((m) => m.queueOffset === 9n);
    assert.equal(busy.queues[0]?.lastTimestamp, last?.storeTimestamp, 'store time of the last consumed message');
    const info = await admin.brokerRuntimeInfo(brokerAddr);
    assert.ok(firstRate(info['getTransferedTps']) > 0, `getTransferedTps ${info['getTransferedTps']}`);
  } finally {
    await consumer.shutdown();
  }
});

test('broker config: the configuration, without a data version it does not have', async () => {
  const client = new RemotingClient();
  try {
    const r = await client.invoke(brokerAddr, createRequest(RequestCode.GET_BROKER_CONFIG, {}), 5000);
    assert.equal(r.code, 0);
    assert.match(r.body?.toString() ?? '', /^brokerName=broker-a$/m);
    assert.equal(r.extFields?.['version'], undefined, 'the topic table version is not the config version');
  } finally {
    await client.close();
  }
});
