import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Producer, SendStatus } from '../../src/client/index.js';
import { startCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster;

before(async () => {
  cluster = await startCluster(2);
});

after(async () => {
  await cluster.close();
});

test('sends go to the other broker when one is down', async () => {
  await cluster.createTopic('E2E_Failover', 2);
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_failover', sendTimeoutMs: 5000 });
  await producer.start();
  try {
    const used = new Set<string>();
    for (let i = 0; i < 8; i++)
      used.add((await producer.send({ topic: 'E2E_Failover', body: `x${i}` })).messageQueue.brokerName);
    assert.deepEqual([...used].sort(), ['broker-a', 'broker-b'], 'both brokers take sends while up');
    // Stop broker-a; the producer still has it in its cached route.
    await cluster.brokers[0]?.close();
    for (let i = 0; i < 8; i++) {
      const r = await producer.send({ topic: 'E2E_Failover', body: `y${i}` });
      assert.equal(r.status, SendStatus.SEND_OK);
      assert.equal(r.messageQueue.brokerName, 'broker-b');
    }
  } finally {
    await producer.shutdown();
  }
});

test('a topic that does not exist yet is created through the default topic route', async () => {
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_autocreate' });
  await producer.start();
  try {
    const r = await producer.send({ topic: 'E2E_AutoCreated', body: 'first' });
    assert.equal(r.status, SendStatus.SEND_OK);
    assert.equal(r.messageQueue.brokerName, 'broker-b');
  } finally {
    await producer.shutdown();
  }
});
