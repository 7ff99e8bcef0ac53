/**
 * Apache's 5.x Node.js client (rocketmq-client-nodejs, gRPC) producing to tsrocket, read back with our remoting
 * SDK: normal messages with tag, keys and properties intact; delayed messages not before their time; FIFO
 * message groups in one queue each, in order; transactions committed, rolled back, and resolved through
 * RecoverOrphanedTransaction when left unknown.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import rocketmq, { type MessageView } from 'rocketmq-client-nodejs';
import definitions from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import { Admin } from '../../src/client/admin/admin.js';
import { Prop } from '../../src/common/properties.js';
import { ConsumeFromWhere, PullConsumer, type ReceivedMessage } from '../../src/index.js';
import { type GrpcHarness, startGrpcHarness } from '../proxy/harness.js';

const { Producer: GrpcProducer } = rocketmq;
type GrpcProducer = InstanceType<typeof GrpcProducer>;
const { TransactionResolution } = definitions;
type TransactionResolution = (typeof TransactionResolution)[keyof typeof TransactionResolution];
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

let h: GrpcHarness;

before(async () => {
  // A short check cadence: an unknown transaction is asked about within seconds.
  h = await startGrpcHarness({ transactionCheckInterval: 1000, transactionTimeOut: 1000 });
});

after(async () => {
  await h.stop();
});

async function createTopic(topic: string, queues: number): Promise<void> {
  const admin = new Admin({ nameServer: h.namesrvAddr, timeoutMs: 5000 });
  try {
    await admin.createOrUpdateTopic(
      { brokerAddr: h.brokerAddr },
      { topicName: topic, readQueueNums: queues, writeQueueNums: queues },
    );
  } finally {
    await admin.close();
  }
}

async function producer(
  topic: string,
  checker?: (m: MessageView) => Promise<TransactionResolution>,
): Promise<GrpcProducer> {
  const p = new GrpcProducer({
    endpoints: h.endpoints,
    namespace: '',
    topics: [topic],
    logger: quiet,
    ...(checker === undefined ? {} : { checker: { check: checker } }),
  });
  await p.startup();
  return p;
}

/**
 * Pulls `topic` from the start until `count` messages came (or `timeoutMs` passed), then `settleMs` more: a
 * message that should not be there has had its chance to show up.
 */
async function pullAll(
  topic: string,
  group: string,
  count: number,
  timeoutMs = 20_000,
  settleMs = 0,
): Promise<ReceivedMessage[]> {
  const c = new PullConsumer({
    nameServer: h.namesrvAddr,
    group,
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  await c.subscribe(topic);
  await c.start();
  const got: ReceivedMessage[] = [];
  try {
    const deadline = Date.now() + timeoutMs;
    while (got.length < count && Date.now() < deadline) got.push(...(await c.poll(500)));
    if (settleMs > 0) got.push(...(await c.poll(settleMs)));
  } finally {
    await c.shutdown();
  }
  return got;
}

test('normal messages keep message id, tag, keys, user properties and body for a remoting consumer', async () => {
  const topic = 'GrpcNormal';
  await createTopic(topic, 4);
  const p = await producer(topic);
  try {
    const sent = new Map<string, number>();
    for (let i = 0; i < 8; i++) {
      const r = await p.send({
        topic,
        tag: `tag${i % 2}`,
        keys: [`k${i}`, `order-${i}`],
        properties: new Map([
          ['region', 'eu'],
          ['seq', String(i)],
        ]),
        body: Buffer.from(`hello ${i}`),
      });
      assert.match(r.messageId, /^[0-9A-F]{34}$/);
      sent.set(r.messageId, i);
    }
    const got = await pullAll(topic, 'grpc_normal_reader', 8, 20_000, 500);
    assert.equal(got.length, 8);
    for (const m of got) {
      const i = sent.get(m.msgId);
      assert.ok(i !== undefined, `message id ${m.msgId} is one the client was given`);
      assert.equal(m.topic, topic);
      assert.equal(m.body.toString(), `hello ${i}`);
      assert.equal(m.tags, `tag${i % 2}`);
      assert.deepEqual(m.keys, [`k${i}`, `order-${i}`]);
      assert.equal(m.properties.get('region'), 'eu');
      assert.equal(m.properties.get('seq'), String(i));
    }
    assert.equal(new Set(got.map((m) => m.queueId)).size > 1, true, 'sends are spread over the queues');
  } finally {
    await p.shutdown();
  }
});

test('a delayed message is not consumable before its time, and is after it; a recalled one never', async () => {
  const topic = 'GrpcDelay';
  await createTopic(topic, 1);
  const p = await producer(topic);
  try {
    const deliverAt = new Date(Date.now() + 3000);
    const r = await p.send({ topic, body: Buffer.from('later'), deliveryTimestamp: deliverAt });
    const recalled = await p.send({ topic, body: Buffer.from('recalled'), deliveryTimestamp: deliverAt });
    assert.notEqual(recalled.recallHandle, '');
    const receipt = await p.recallMessage(topic, recalled.recallHandle);
    assert.equal(receipt.messageId, recalled.messageId);
    const got = await pullAll(topic, 'grpc_delay_reader', 1, 20_000, 1500);
    assert.deepEqual(
      got.map((m) => m.body.toString()),
      ['later'],
    );
    assert.equal(got[0]?.msgId, r.messageId);
    // Stored in its topic (so consumable) only at its time: the timer put it there.
    const storedAt = got[0]?.storeTimestamp ?? 0;
    assert.ok(storedAt >= deliverAt.getTime(), `stored ${deliverAt.getTime() - storedAt} ms before its time`);
    await assert.rejects(p.recallMessage(topic, r.recallHandle), /too late to recall/);
  } finally {
    await p.shutdown();
  }
});

test('FIFO: each message group lands in one queue, in send order', async () => {
  const topic = 'GrpcFifo';
  await createTopic(topic, 8);
  const p = await producer(topic);
  const groups = ['order-a', 'order-b', 'order-c', 'order-d'];
  try {
    for (let i = 0; i < 10; i++) {
      for (const g of groups) await p.send({ topic, messageGroup: g, body: Buffer.from(`${g}:${i}`) });
    }
    const got = await pullAll(topic, 'grpc_fifo_reader', 40, 20_000, 500);
    assert.equal(got.length, 40);
    for (const g of groups) {
      const mine = got.filter((m) => m.body.toString().startsWith(`${g}:`));
      assert.equal(new Set(mine.map((m) => m.queueId)).size, 1, `${g} in one queue`);
      const byOffset = [...mine].sort((a, b) => (a.queueOffset < b.queueOffset ? -1 : 1));
      assert.deepEqual(
        byOffset.map((m) => m.body.toString()),
        Array.from({ length: 10 }, (_, i) => `${g}:${i}`),
      );
      assert.equal(mine[0]?.properties.get(Prop.shardingKey), g);
    }
  } finally {
    await p.shutdown();
  }
});

test('transactions: a commit is consumable, a rollback never, an unknown one is resolved by the checker', async () => {
  const topic = 'GrpcTx';
  await createTopic(topic, 2);
  const checked: string[] = [];
  const p = await producer(topic, async (m) => {
    checked.push(m.messageId);
    return m.getBody().toString() === 'unknown-commit' ? TransactionResolution.COMMIT : TransactionResolution.ROLLBACK;
  });
  try {
    const commit = p.beginTransaction();
    const c = await p.send({ topic, body: Buffer.from('committed') }, commit);
    await commit.commit();
    const rollback = p.beginTransaction();
    await p.send({ topic, body: Buffer.from('rolled-back') }, rollback);
    await rollback.rollback();
    // Neither committed nor rolled back: the check pass asks the producer over its Telemetry stream.
    const unknown = await p.send({ topic, body: Buffer.from('unknown-commit') }, p.beginTransaction());
    const got = await pullAll(topic, 'grpc_tx_reader', 2, 30_000, 2000);
    assert.deepEqual(got.map((m) => m.body.toString()).sort(), ['committed', 'unknown-commit']);
    assert.deepEqual(new Set(got.map((m) => m.msgId)), new Set([c.messageId, unknown.messageId]));
    assert.ok(checked.includes(unknown.messageId), 'the checker was asked about the unknown transaction');
    assert.ok(!checked.includes(c.messageId), 'a committed transaction is never checked');
  } finally {
    await p.shutdown();
  }
});
