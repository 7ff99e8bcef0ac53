/**
 * FIFO over POP with Apache's Node.js 5.x client: its Producer sends 4 message groups, and a group with
 * consumeMessageOrderly gets each message group's messages in send order, even with two SimpleConsumers taking
 * turns, each message once when all are acked.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { type GrpcHarness, startGrpcHarness } from '../harness.js';
import { clientOptions, createGroup, createTopic } from './helpers.js';

let h: GrpcHarness;
before(async () => {
  h = await startGrpcHarness();
});
after(() => h.stop());

test('FIFO order per message group across 2 consumers', async () => {
  const topic = 'GrpcFifoTopic';
  const group = 'GrpcFifoGroup';
  const messageGroups = ['order-a', 'order-b', 'order-c', 'order-d'];
  const perGroup = 12;
  await createTopic(h, topic, 2);
  await createGroup(h.brokerAddr, group, { consumeMessageOrderly: true });
  const producer = new Producer({ ...clientOptions(h.endpoints), topics: [topic] });
  await producer.startup();
  try {
    for (let seq = 0; seq < perGroup; seq++) {
      for (const g of messageGroups) await producer.send({ topic, body: Buffer.from(`${g}:${seq}`), messageGroup: g });
    }
  } finally {
    await producer.shutdown();
  }
  const consumers = [0, 1].map(
    () =>
      new SimpleConsumer({
        ...clientOptions(h.endpoints),
        consumerGroup: group,
        subscriptions: new Map([[topic, '*']]),
        awaitDuration: 1000,
      }),
  );
  await Promise.all(consumers.map((c) => c.startup()));
  const order = new Map<string, number[]>(messageGroups.map((g) => [g, []]));
  let total = 0;
  const want = messageGroups.length * perGroup;
  const deadline = Date.now() + 45_000;
  try {
    await Promise.all(
      consumers.map(async (c) => {
        while (total < want && Date.now() < deadline) {
          for (const m of await c.receive(4, 10_000)) {
            const [g, seq] = m.body.toString().split(':') as [string, string];
            assert.equal(m.messageGroup, g);
            order.get(g)?.push(Number(seq));
            total++;
            await c.ack(m);
          }
        }
      }),
    );
  } finally {
    await Promise.all(consumers.map((c) => c.shutdown()));
  }
  for (const [g, seqs] of order) {
    assert.deepEqual(
      seqs,
      Array.from({ length: perGroup }, (_, i) => i),
      `message group ${g} in order, each once`,
    );
  }
});
