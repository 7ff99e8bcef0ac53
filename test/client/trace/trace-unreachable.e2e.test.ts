/**
 * A trace topic that cannot be written (missing, auto-create off) never slows or fails the traced sends: each
 * send resolves SEND_OK, the failed trace messages are counted, and shutdown returns.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '../../../src/client/admin/admin.js';
import { Producer, SendStatus } from '../../../src/client/producer.js';
import { startEmbedded } from '../../../src/embedded.js';

test('trace sends that fail are counted; the traced sends succeed', async () => {
  const mq = await startEmbedded({ brokerConfig: { autoCreateTopicEnable: false } });
  const producer = new Producer({
    nameServer: mq.nameServer,
    group: 'trace_unreachable_pg',
    trace: { topic: 'NoSuchTraceTopic', flushIntervalMs: 10 },
    retryTimesWhenSendFailed: 0,
  });
  try {
    const admin = new Admin({ nameServer: mq.nameServer, timeoutMs: 5000 });
    const info = await admin.clusterInfo();
    const brokerAddr = Object.values(info.brokerAddrTable)[0]?.brokerAddrs['0'] as string;
    await admin.createOrUpdateTopic({ brokerAddr }, { topicName: 'TracedHere', readQueueNums: 1, writeQueueNums: 1 });
    // The broker registers the new topic with the NameServer a moment later.
    while ((await admin.topicRoute('TracedHere').catch(() => undefined)) === undefined) await sleep(20);
    await admin.close();
    await producer.start();
    for (let i = 0; i < 5; i++) {
      const r = await producer.send({ topic: 'TracedHere', body: `m${i}` });
      assert.equal(r.status, SendStatus.SEND_OK);
    }
    const stats = producer.tracer?.dispatcher.stats;
    assert.ok(stats);
    const deadline = Date.now() + 10_000;
    while (stats.recordsFailed < 5 && Date.now() < deadline) await sleep(20);
    assert.equal(stats.recordsFailed, 5, JSON.stringify(stats));
    assert.equal(stats.recordsSent, 0);
  } finally {
    await producer.shutdown();
    await mq.close();
  }
});
