import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Producer, PushConsumer, type ReceivedMessage } from '../../src/client/index.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createResponse } from '../../src/remoting/command.js';
import type { RemotingServer } from '../../src/remoting/server.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;
let producer: Producer;

before(async () => {
  cluster = await startCluster(1);
  producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_flow' });
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await cluster.close();
});

test('flow control: a queue stops being pulled while its cache is full', async () => {
  await cluster.createTopic('E2E_Flow', 1);
  for (let i = 0; i < 40; i++) await producer.send({ topic: 'E2E_Flow', body: `f${i}` });
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started = 0;
  let done = 0;
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_flow',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    consumeConcurrency: 100,
    pullBatchSize: 4,
    pullThresholdForQueue: 5,
  })
    .subscribe('E2E_Flow', '*')
    .onMessage(async () => {
      started++;
      await gate;
      done++;
    });
  await consumer.start();
  try {
    await waitFor(() => started >= 5, 'the cache to fill');
    await new Promise((r) => setTimeout(r, 300));
    // Pulls stop once more than 5 are cached: at most one more batch of 4 gets in.
    assert.ok(started <= 9, `at most 9 messages in flight, saw ${started}`);
    release();
    await waitFor(() => done === 40, 'all 40 consumed after the cache drains');
  } finally {
    release();
    await consumer.shutdown();
  }
});

test('when CONSUMER_SEND_MSG_BACK fails the message is re-sent to %RETRY%<group> and redelivered', async () => {
  await cluster.createTopic('E2E_Fallback', 1);
  const server = (cluster.brokers[0] as unknown as { server: RemotingServer }).server;
  let refused = 0;
  server.registerProcessor(RequestCode.CONSUMER_SEND_MSG_BACK, (req) => {
    refused++;
    return createResponse(req, ResponseCode.SYSTEM_ERROR, 'test: send-back refused');
  });
  const deliveries: ReceivedMessage[] = [];
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_fallback',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  })
    .subscribe('E2E_Fallback', '*')
    .onMessage((m) => {
      deliveries.push(m);
      if (m.reconsumeTimes === 0) throw new Error('fail once');
    });
  await consumer.start();
  try {
    const sent = await producer.send({ topic: 'E2E_Fallback', body: 'fallback', tags: 'X' });
    // The re-sent message carries delay level 3 (10 s) once the broker implements delay levels.
    await waitFor(() => deliveries.length >= 2, 'redelivery through the retry topic', 40_000);
    assert.ok(refused >= 1, 'the broker refused the send-back');
    const retry = deliveries[1];
    assert.equal(retry?.reconsumeTimes, 1);
    assert.equal(retry?.msgId, sent.msgId);
    assert.equal(retry?.topic, 'E2E_Fallback');
    assert.equal(retry?.sourceTopic, '%RETRY%cg_fallback');
    assert.equal(retry?.body.toString(), 'fallback');
  } finally {
    await consumer.shutdown();
  }
});
