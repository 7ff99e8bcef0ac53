import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Broker } from '../../src/broker/broker.js';
import { batchBuffersFreeBytes } from '../../src/client/batch-buffers.js';
import { Producer, RetriesExhaustedError, type SendResult, SendStatus } from '../../src/client/index.js';
import { Prop } from '../../src/common/properties.js';
import { decodeOffsetMsgId, decodeRecord } from '../../src/common/record.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createResponse } from '../../src/remoting/command.js';
import type { Processor } from '../../src/remoting/connection.js';
import { RemotingResponseError } from '../../src/remoting/errors.js';
import type { RemotingServer } from '../../src/remoting/server.js';
import type { MessageStore } from '../../src/store/types.js';
import { startCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster;

before(async () => {
  cluster = await startCluster(2);
});

after(async () => {
  await cluster.close();
});

const serverOf = (b: Broker | undefined) => (b as unknown as { server: RemotingServer }).server;
const storeOf = (b: Broker | undefined) => (b as unknown as { store: MessageStore }).store;
const processorOf = (b: Broker | undefined, code: number) =>
  (serverOf(b) as unknown as { processors: Map<number, Processor> }).processors.get(code) as Processor;

/** Counts requests of `code` on a broker while still serving them. */
function countRequests(b: Broker | undefined, code: number): { n: number } {
  const counter = { n: 0 };
  const inner = processorOf(b, code);
  serverOf(b).registerProcessor(code, (req, conn) => {
    counter.n++;
    return inner(req, conn);
  });
  return counter;
}

test('concurrent sends are batched and each resolves with its own msgId, offsetMsgId and queue offset', async () => {
  await cluster.createTopic('E2E_AutoBatch', 4);
  const batches = cluster.brokers.map((b) => countRequests(b, RequestCode.SEND_BATCH_MESSAGE));
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_autobatch', batchMaxMessages: 64 });
  await producer.start();
  try {
    const n = 300;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        producer.send({ topic: 'E2E_AutoBatch', body: `m${i}`, tags: i % 2 === 0 ? 'even' : 'odd', keys: `k${i}` }),
      ),
    );
    const batchRequests = batches.reduce((a, c) => a + c.n, 0);
    assert.ok(batchRequests >= 5 && batchRequests < n / 2, `${batchRequests} SEND_BATCH_MESSAGE requests for ${n}`);
    assert.equal(new Set(results.map((r) => r.msgId)).size, n, 'distinct msgIds');
    assert.equal(new Set(results.map((r) => r.offsetMsgId)).size, n, 'distinct offsetMsgIds');
    const byQueue = new Map<string, Array<{ i: number; r: SendResult }>>();
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, SendStatus.SEND_OK);
      const key = `${r.messageQueue.brokerName}:${r.messageQueue.queueId}`;
      byQueue.set(key, [...(byQueue.get(key) ?? []), { i, r }]);
      const store = storeOf(cluster.brokers[r.messageQueue.brokerName === 'broker-a' ? 0 : 1]);
      const rec = await store.lookMessageByOffset(decodeOffsetMsgId(r.offsetMsgId).commitLogOffset);
      assert.ok(rec !== undefined, `record of send ${i} is stored`);
      const { msg } = decodeRecord(rec);
      assert.equal(msg.body.toString(), `m${i}`);
      assert.equal(msg.properties.get(Prop.uniqKey), r.msgId);
      assert.equal(msg.properties.get(Prop.keys), `k${i}`);
      assert.equal(msg.queueOffset, r.queueOffset);
      assert.equal(msg.queueId, r.messageQueue.queueId);
    }
    for (const [key, sends] of byQueue) {
      const offsets = sends.map((s) => s.r.queueOffset);
      assert.equal(new Set(offsets).size, offsets.length, `distinct offsets in ${key}`);
      // Sends issued earlier hold smaller offsets in their queue: per-queue order is the issue order.
      for (let k = 1; k < offsets.length; k++) assert.ok((offsets[k] as bigint) > (offsets[k - 1] as bigint), key);
    }
  } finally {
    await producer.shutdown();
  }
});

test('a lone awaited send goes out as a plain SEND_MESSAGE_V2', async () => {
  await cluster.createTopic('E2E_AutoBatchLone', 2);
  const singles = countRequests(cluster.brokers[1], RequestCode.SEND_MESSAGE_V2);
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_autobatch_lone' });
  await producer.start();
  try {
    const before = singles.n;
    for (let i = 0; i < 6; i++) {
      const r = await producer.send({ topic: 'E2E_AutoBatchLone', body: `x${i}` });
      assert.equal(r.status, SendStatus.SEND_OK);
      assert.equal(r.msgId.length, 32);
    }
    assert.ok(singles.n - before >= 1, 'single sends reached broker-b as 310');
  } finally {
    await producer.shutdown();
  }
});

test('a batch refused with a retriable code is retried on the other broker, every send resolving', async () => {
  await cluster.createTopic('E2E_AutoBatchRetry', 2);
  const inner = processorOf(cluster.brokers[0], RequestCode.SEND_BATCH_MESSAGE);
  serverOf(cluster.brokers[0]).registerProcessor(RequestCode.SEND_BATCH_MESSAGE, (req) =>
    createResponse(req, ResponseCode.SYSTEM_BUSY, 'busy for this test'),
  );
  const producer = new Producer({
    nameServer: cluster.nameServer,
    group: 'pg_autobatch_retry',
    sendLatencyFaultEnable: false,
  });
  await producer.start();
  try {
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => producer.send({ topic: 'E2E_AutoBatchRetry', body: `r${round}-${i}` })),
      );
      for (const r of results) {
        assert.equal(r.status, SendStatus.SEND_OK);
        assert.equal(r.messageQueue.brokerName, 'broker-b');
      }
      assert.equal(new Set(results.map((r) => r.offsetMsgId)).size, 20);
    }
  } finally {
    serverOf(cluster.brokers[0]).registerProcessor(RequestCode.SEND_BATCH_MESSAGE, inner);
    await producer.shutdown();
  }
});

test('a batch that fails for good rejects every one of its sends', async () => {
  await cluster.createTopic('E2E_AutoBatchFail', 2);
  const refuse: Processor = (req) => createResponse(req, ResponseCode.MESSAGE_ILLEGAL, 'refused for this test');
  const inner = cluster.brokers.map((b) => processorOf(b, RequestCode.SEND_BATCH_MESSAGE));
  for (const b of cluster.brokers) serverOf(b).registerProcessor(RequestCode.SEND_BATCH_MESSAGE, refuse);
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_autobatch_fail' });
  await producer.start();
  try {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => producer.send({ topic: 'E2E_AutoBatchFail', body: `f${i}` })),
    );
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected');
      const err = o.reason as Error;
      assert.ok(err instanceof RemotingResponseError || err instanceof RetriesExhaustedError, String(err));
      assert.match(err.message, /refused for this test/);
    }
  } finally {
    for (const [i, b] of cluster.brokers.entries())
      serverOf(b).registerProcessor(RequestCode.SEND_BATCH_MESSAGE, inner[i] as Processor);
    await producer.shutdown();
  }
});

test('autoBatch false sends each message alone; bad options are refused', async () => {
  await cluster.createTopic('E2E_AutoBatchOff', 1);
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_autobatch_off', autoBatch: false });
  await producer.start();
  try {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => producer.send({ topic: 'E2E_AutoBatchOff', body: `o${i}` })),
    );
    assert.equal(new Set(results.map((r) => r.offsetMsgId)).size, 10);
  } finally {
    await producer.shutdown();
  }
  assert.throws(() => new Producer({ nameServer: cluster.nameServer, batchMaxMessages: 0 }), /batchMaxMessages/);
});

test('producers of one process share a connection and batches, and each send resolves on its own', async () => {
  await cluster.createTopic('E2E_AutoBatchShared', 1);
  const batches = cluster.brokers.map((b) => countRequests(b, RequestCode.SEND_BATCH_MESSAGE));
  const producers = Array.from(
    { length: 8 },
    (_, i) => new Producer({ nameServer: cluster.nameServer, group: `pg_shared_${i}` }),
  );
  await Promise.all(producers.map((p) => p.start()));
  try {
    const results = await Promise.all(producers.map((p, i) => p.send({ topic: 'E2E_AutoBatchShared', body: `s${i}` })));
    assert.equal(
      batches.reduce((a, c) => a + c.n, 0),
      1,
      'one SEND_BATCH_MESSAGE for 8 producers',
    );
    for (const [i, r] of results.entries()) {
      const store = storeOf(cluster.brokers[r.messageQueue.brokerName === 'broker-a' ? 0 : 1]);
      const rec = await store.lookMessageByOffset(decodeOffsetMsgId(r.offsetMsgId).commitLogOffset);
      assert.equal(decodeRecord(rec as Buffer).msg.body.toString(), `s${i}`);
    }
    // One producer leaving does not disturb the others' connection.
    await (producers.shift() as Producer).shutdown();
    const r = await (producers[0] as Producer).send({ topic: 'E2E_AutoBatchShared', body: 'after' });
    assert.equal(r.status, SendStatus.SEND_OK);
  } finally {
    await Promise.all(producers.map((p) => p.shutdown()));
  }
});

test('a batch body is reused only when answered after one write; reused bodies carry their own messages', async () => {
  await cluster.createTopic('E2E_BatchReuse', 2);
  // The first batch either broker sees is refused (retriable): that batch is written twice.
  let refuseNext = true;
  const inners = cluster.brokers.map((b) => processorOf(b, RequestCode.SEND_BATCH_MESSAGE));
  cluster.brokers.forEach((b, i) => {
    const inner = inners[i] as Processor;
    serverOf(b).registerProcessor(RequestCode.SEND_BATCH_MESSAGE, (req, conn) => {
      if (!refuseNext) return inner(req, conn);
      refuseNext = false;
      return createResponse(req, ResponseCode.SYSTEM_BUSY, 'busy for this test');
    });
  });
  const producer = new Producer({
    nameServer: cluster.nameServer,
    group: 'pg_batch_reuse',
    sendLatencyFaultEnable: false,
  });
  await producer.start();
  // 14 × 60 KiB: a size class of its own in this process (other tests' batches are far smaller).
  const batchOf = (round: number) =>
    Array.from({ length: 14 }, (_, i) => ({ topic: 'E2E_BatchReuse', body: Buffer.alloc(60 * 1024, round * 16 + i) }));
  const sendRound = async (round: number) => {
    const r = await producer.send(batchOf(round));
    assert.equal(r.status, SendStatus.SEND_OK);
    const offsetIds = r.offsetMsgId.split(',');
    assert.equal(offsetIds.length, 14);
    const store = storeOf(cluster.brokers[r.messageQueue.brokerName === 'broker-a' ? 0 : 1]);
    for (const [i, id] of offsetIds.entries()) {
      const rec = await store.lookMessageByOffset(decodeOffsetMsgId(id).commitLogOffset);
      assert.ok(rec !== undefined);
      const body = decodeRecord(rec).msg.body;
      assert.ok(
        body.length === 60 * 1024 && body.every((x) => x === ((round * 16 + i) & 0xff)),
        `round ${round} #${i}`,
      );
    }
  };
  try {
    const before = batchBuffersFreeBytes();
    await sendRound(1);
    assert.equal(refuseNext, false, 'the first batch was refused');
    assert.equal(batchBuffersFreeBytes(), before, 'a body written twice is not reused');
    await sendRound(2);
    const kept = batchBuffersFreeBytes() - before;
    assert.ok(kept >= 14 * 60 * 1024, `a body answered after one write is kept for reuse (${kept} bytes)`);
    // Rounds 3 and 4 encode into that kept buffer: their stored bodies are their own.
    await sendRound(3);
    await sendRound(4);
    assert.equal(batchBuffersFreeBytes() - before, kept);
  } finally {
    for (const [i, b] of cluster.brokers.entries()) {
      serverOf(b).registerProcessor(RequestCode.SEND_BATCH_MESSAGE, inners[i] as Processor);
    }
    await producer.shutdown();
  }
});
