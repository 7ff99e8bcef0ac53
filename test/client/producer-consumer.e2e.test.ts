import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Producer, PushConsumer, type ReceivedMessage, SendStatus } from '../../src/client/index.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;

before(async () => {
  cluster = await startCluster(1);
});

after(async () => {
  await cluster.close();
});

test('sync, async, oneway and batch sends reach a push consumer with a tag filter', async () => {
  await cluster.createTopic('E2E_Send', 4);
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_send' });
  await producer.start();
  const received: ReceivedMessage[] = [];
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_send',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  });
  consumer.subscribe('E2E_Send', 'TagA || TagB').onMessage(async (msg) => {
    received.push(msg);
  });
  await consumer.start();
  try {
    const sync = await producer.send({ topic: 'E2E_Send', body: 'sync', tags: 'TagA', keys: ['k1', 'k2'] });
    assert.equal(sync.status, SendStatus.SEND_OK);
    assert.match(sync.msgId, /^[0-9A-F]{32}$/);
    assert.match(sync.offsetMsgId, /^[0-9A-F]{32}$/);
    assert.equal(sync.messageQueue.topic, 'E2E_Send');
    const viaCallback = await new Promise<string>((resolve, reject) =>
      producer.send({ topic: 'E2E_Send', body: 'callback', tags: 'TagB' }, (err, r) =>
        err ? reject(err) : resolve(r?.msgId ?? ''),
      ),
    );
    assert.match(viaCallback, /^[0-9A-F]{32}$/);
    await producer.sendAsync({ topic: 'E2E_Send', body: 'async', tags: 'TagA' });
    await producer.sendOneway({ topic: 'E2E_Send', body: 'oneway', tags: 'TagB' });
    await producer.send({ topic: 'E2E_Send', body: 'filtered out', tags: 'TagC' });
    await producer.send({ topic: 'E2E_Send', body: 'no tag' });
    const big = Buffer.alloc(64 * 1024, 'z');
    await producer.send({ topic: 'E2E_Send', body: big, tags: 'TagA' });
    const batch = await producer.send([
      { topic: 'E2E_Send', body: 'batch-1', tags: 'TagA' },
      { topic: 'E2E_Send', body: 'batch-2', tags: 'TagB' },
    ]);
    assert.equal(batch.msgId.split(',').length, 2);
    await waitFor(() => received.length >= 7, '7 messages');
    const bodies = received.map((m) => (m.body.length > 100 ? `big:${m.body.length}` : m.body.toString())).sort();
    assert.deepEqual(bodies, ['async', 'batch-1', 'batch-2', `big:${big.length}`, 'callback', 'oneway', 'sync'].sort());
    const first = received.find((m) => m.body.toString() === 'sync');
    assert.ok(first);
    assert.equal(first.msgId, sync.msgId);
    assert.equal(first.tags, 'TagA');
    assert.deepEqual(first.keys, ['k1', 'k2']);
    assert.equal(first.topic, 'E2E_Send');
    assert.equal(first.reconsumeTimes, 0);
    assert.equal(first.queueId, sync.messageQueue.queueId);
    assert.equal(first.queueOffset, sync.queueOffset);
    const batchIds = batch.msgId.split(',');
    assert.ok(received.some((m) => m.msgId === batchIds[0]));
    // Nothing else arrives (TagC and untagged are filtered).
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(received.length, 7);
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
  }
});

test('ordered sends with one sharding key land on one queue in order', async () => {
  await cluster.createTopic('E2E_Order', 8);
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_order' });
  await producer.start();
  try {
    const results = [];
    for (let i = 0; i < 5; i++)
      results.push(await producer.send({ topic: 'E2E_Order', body: `o${i}` }, { shardingKey: 'order-42' }));
    const queueIds = new Set(results.map((r) => r.messageQueue.queueId));
    assert.equal(queueIds.size, 1);
    for (let i = 1; i < results.length; i++) {
      assert.equal((results[i]?.queueOffset ?? 0n) - (results[i - 1]?.queueOffset ?? 0n), 1n);
    }
    const viaSelector = await producer.send(
      { topic: 'E2E_Order', body: 'sel' },
      { selector: (qs) => qs[3] as (typeof qs)[number] },
    );
    assert.equal(viaSelector.messageQueue.queueId, 3);
  } finally {
    await producer.shutdown();
  }
});

test('validation errors are clear and sends to unknown topics fail', async () => {
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_bad', sendTimeoutMs: 2000 });
  await producer.start();
  try {
    await assert.rejects(
      producer.send({ topic: 'E2E_Send', body: Buffer.alloc(4 * 1024 * 1024 + 1) }),
      /over the limit/,
    );
    await assert.rejects(producer.send({ topic: 'bad topic', body: 'x' }), /invalid message topic/);
  } finally {
    await producer.shutdown();
  }
});
