/**
 * The orderly PushConsumer against an in-process broker: option checks, the sharding key carried as
 * __SHARDINGKEY, and a queue handed to a new member only after the old owner's in-flight message is done.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AllocateStrategy } from '../../src/client/allocate.js';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { Prop } from '../../src/common/properties.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;
let producer: Producer;
before(async () => {
  cluster = await startCluster(1);
  producer = new Producer({ nameServer: cluster.nameServer, clientIp: '127.0.0.1' });
  await producer.start();
});
after(async () => {
  await producer.shutdown();
  await cluster.close();
});

test('orderly options are checked when the consumer is built', () => {
  const base = { nameServer: cluster.nameServer, group: 'cg_orderly_bad', orderly: true };
  for (const bad of [-1, 1.5, Number.NaN]) {
    assert.throws(() => new PushConsumer({ ...base, suspendCurrentQueueTimeMs: bad }), InvalidArgumentError);
  }
  assert.throws(
    () => new PushConsumer({ ...base, orderlyScope: 'key' as unknown as 'queue' }),
    /orderlyScope must be 'queue' or 'shardingKey'/,
  );
});

/** Everything to the largest client id: the member that joins second (instance 'B') takes the queue over. */
const toLargestCid: AllocateStrategy = (cid, mqAll, cidAll) => (cid === [...cidAll].sort().at(-1) ? [...mqAll] : []);

test('a queue changes hands only after the old owner finished its in-flight message; nothing is consumed twice', async () => {
  const topic = 'OrderlyHandOver';
  await cluster.createTopic(topic, 1);
  const group = 'cg_orderly_handover';
  const seen: string[] = [];
  let release: () => void = () => undefined;
  const blocked = new Promise<void>((r) => {
    release = r;
  });
  const consumer = (instanceName: string) =>
    new PushConsumer({
      nameServer: cluster.nameServer,
      group,
      instanceName,
      clientIp: '127.0.0.1',
      orderly: true,
      allocateStrategy: toLargestCid,
      consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
      rebalanceIntervalMs: 500,
    });
  const a = consumer('A').subscribe(topic);
  a.onMessage(async (m) => {
    seen.push(`A:${m.body}`);
    assert.equal(m.properties.get(Prop.shardingKey), 'order-7', 'the sharding key travels as __SHARDINGKEY');
    if (m.body.toString() === 'm2') await blocked;
  });
  const b = consumer('B').subscribe(topic);
  b.onMessage((m) => {
    seen.push(`B:${m.body}`);
  });
  try {
    await a.start();
    for (let i = 0; i < 8; i++) await producer.send({ topic, body: `m${i}` }, { shardingKey: 'order-7' });
    await waitFor(() => seen.includes('A:m2'), 'A inside m2', 10_000);
    await b.start();
    // B now owns the queue by allocation, but A holds the lock until m2 is done.
    const mine = (c: PushConsumer) => c.assignedQueues().filter((q) => q.topic === topic);
    await waitFor(() => mine(a).length === 0, 'A gave the queue up', 10_000);
    assert.deepEqual(mine(b), [], 'B could not lock it yet');
    await sleep(1500);
    assert.deepEqual(mine(b), [], 'B still could not lock it');
    assert.deepEqual(seen, ['A:m0', 'A:m1', 'A:m2'], 'B consumed nothing while A was inside m2');
    release();
    await waitFor(() => seen.length === 8, 'every message consumed', 10_000);
    assert.deepEqual(seen, ['A:m0', 'A:m1', 'A:m2', 'B:m3', 'B:m4', 'B:m5', 'B:m6', 'B:m7']);
  } finally {
    release();
    await b.shutdown();
    await a.shutdown();
  }
});
