/**
 * The SDK's auto-batching of delayed, timer and half messages: against tsrocket's broker they travel in batches
 * and each send resolves with where its message was stored; a TransactionProducer's concurrent half messages
 * share batches and are committed, rolled back or checked back one by one; against a broker answering as
 * RocketMQ does (MESSAGE_ILLEGAL for a batch with DELAY or PREPARED in its header) the members are sent one by
 * one and the broker is remembered.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Broker } from '../../src/broker/broker.js';
import {
  ConsumeFromWhere,
  Producer,
  PushConsumer,
  type ReceivedMessage,
  type SendResult,
  SendStatus,
  TransactionProducer,
  TransactionState,
} from '../../src/client/index.js';
import { decodeProperties, Prop } from '../../src/common/properties.js';
import { decodeOffsetMsgId, decodeRecord } from '../../src/common/record.js';
import { SystemTopic } from '../../src/common/topics.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import type { Processor } from '../../src/remoting/connection.js';
import type { RemotingServer } from '../../src/remoting/server.js';
import type { MessageStore } from '../../src/store/types.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;
let consumer: PushConsumer;
const received = new Map<string, { m: ReceivedMessage; atMs: number }>();
const topics = { sched: 'SPLIT_SCHED', tx: 'SPLIT_TX', fallback: 'SPLIT_FALLBACK', fallbackTx: 'SPLIT_FALLBACK_TX' };

before(async () => {
  cluster = await startCluster(2, { transactionTimeOut: 300, transactionCheckInterval: 200 });
  for (const t of Object.values(topics)) await cluster.createTopic(t, 2);
  consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_split_batch',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  for (const t of Object.values(topics)) consumer.subscribe(t, '*');
  consumer.onMessage(async (m) => {
    received.set(m.msgId, { m, atMs: Date.now() });
  });
  await consumer.start();
});

after(async () => {
  await consumer.shutdown();
  await cluster.close();
});

const serverOf = (b: Broker | undefined) => (b as unknown as { server: RemotingServer }).server;
const storeOf = (name: string) =>
  (cluster.brokers[name === 'broker-a' ? 0 : 1] as unknown as { store: MessageStore }).store;
const processorOf = (b: Broker | undefined, code: number) =>
  (serverOf(b) as unknown as { processors: Map<number, Processor> }).processors.get(code) as Processor;

const headerOf = (req: RemotingCommand) => {
  const f = req.extFields ?? {};
  return { properties: decodeProperties(f['i'] ?? f['properties'] ?? ''), sysFlag: Number(f['f'] ?? f['sysFlag']) };
};
const isSplitHeader = (req: RemotingCommand) => {
  const h = headerOf(req);
  return Number(h.properties.get(Prop.delayLevel) ?? 0) > 0 || (h.sysFlag & 0xc) !== 0;
};

/** Counts SEND_BATCH_MESSAGE requests carrying delayed, timer or half members, still serving them. */
function countSplitBatches(): { n: number; restore: () => void } {
  const counter = { n: 0, restore: () => undefined };
  const inner = cluster.brokers.map((b) => processorOf(b, RequestCode.SEND_BATCH_MESSAGE));
  for (const [i, b] of cluster.brokers.entries()) {
    serverOf(b).registerProcessor(RequestCode.SEND_BATCH_MESSAGE, (req, conn) => {
      if (isSplitHeader(req)) counter.n++;
      return (inner[i] as Processor)(req, conn);
    });
  }
  counter.restore = () => {
    for (const [i, b] of cluster.brokers.entries())
      serverOf(b).registerProcessor(RequestCode.SEND_BATCH_MESSAGE, inner[i] as Processor);
  };
  return counter;
}

async function storedOf(r: SendResult) {
  const rec = await storeOf(r.messageQueue.brokerName).lookMessageByOffset(
    decodeOffsetMsgId(r.offsetMsgId).commitLogOffset,
  );
  assert.ok(rec !== undefined, `record of ${r.msgId}`);
  return decodeRecord(rec).msg;
}

test('timer and delay sends travel in batches; each resolves with its own place; none delivered early', async () => {
  const count = countSplitBatches();
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_split_sched' });
  await producer.start();
  try {
    const t0 = Date.now();
    const sends = Array.from({ length: 40 }, (_, i) => {
      const base = { topic: topics.sched, body: `s${i}` };
      // Far enough ahead to be a timer message still when a busy machine delivers the batch late.
      if (i % 4 === 0) return { msg: { ...base, deliverTimeMs: t0 + 2000 + i * 10 }, notBefore: t0 + 2000 + i * 10 };
      if (i % 4 === 1) return { msg: { ...base, delayTimeLevel: 1 + (i % 3) }, notBefore: t0 + 100 };
      if (i % 4 === 2) return { msg: { ...base, delayMs: 300 }, notBefore: t0 + 300 };
      return { msg: base, notBefore: 0 };
    });
    const results = await Promise.all(sends.map((s) => producer.send(s.msg)));
    assert.ok(count.n >= 1, 'delayed and timer members went in batches');
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, SendStatus.SEND_OK);
      const m = await storedOf(r);
      assert.equal(m.properties.get(Prop.uniqKey), r.msgId);
      assert.equal(m.queueId, r.messageQueue.queueId, `send ${i}: the answered queue is where it was stored`);
      assert.equal(m.queueOffset, r.queueOffset, `send ${i}: the answered offset is its own`);
      const expected = i % 4 === 3 ? topics.sched : i % 4 === 1 ? SystemTopic.schedule : SystemTopic.wheelTimer;
      assert.equal(m.topic, expected, `send ${i}`);
    }
    await waitFor(() => results.every((r) => received.has(r.msgId)), 'every message delivered');
    for (const [i, r] of results.entries()) {
      const got = received.get(r.msgId);
      assert.equal(got?.m.body.toString(), `s${i}`);
      assert.ok((got?.atMs ?? 0) >= (sends[i]?.notBefore ?? 0), `send ${i} delivered early`);
    }
  } finally {
    count.restore();
    await producer.shutdown();
  }
});

test('concurrent transactional sends share batches: commit, rollback and check-back per message', async () => {
  const count = countSplitBatches();
  const outcomeOf = (body: string) => body.split('-')[0] as 'commit' | 'rollback' | 'unknown';
  let checks = 0;
  const p = new TransactionProducer({
    nameServer: cluster.nameServer,
    group: 'pg_split_tx',
    executeLocal: (msg) => {
      const o = outcomeOf(String(msg.body));
      return o === 'commit' ? TransactionState.COMMIT : o === 'rollback' ? TransactionState.ROLLBACK : 'UNKNOWN';
    },
    checkLocal: (msg) => {
      checks++;
      assert.equal(outcomeOf(msg.body.toString()), 'unknown', 'only the open ones are checked');
      return TransactionState.COMMIT;
    },
  });
  await p.start();
  try {
    const bodies = Array.from({ length: 30 }, (_, i) => `${['commit', 'rollback', 'unknown'][i % 3]}-${i}`);
    const results = await Promise.all(bodies.map((body) => p.send({ topic: topics.tx, body })));
    assert.ok(count.n >= 1, 'half messages went in batches');
    assert.equal(new Set(results.map((r) => r.sendResult.offsetMsgId)).size, 30, 'a half message each');
    for (const r of results) {
      const half = await storedOf(r.sendResult);
      assert.equal(half.topic, SystemTopic.transHalf);
      assert.equal(half.queueOffset, r.sendResult.queueOffset, 'the half queue offset END_TRANSACTION names');
      assert.equal(half.properties.get(Prop.realQueueId), String(r.sendResult.messageQueue.queueId));
    }
    const byOutcome = (o: string) => results.filter((_, i) => outcomeOf(bodies[i] as string) === o);
    await waitFor(
      () => [...byOutcome('commit'), ...byOutcome('unknown')].every((r) => received.has(r.sendResult.msgId)),
      'the commits and the checked-back ones delivered',
    );
    assert.ok(checks >= 10, `${checks} check-backs`);
    await new Promise((ok) => setTimeout(ok, 500));
    assert.ok(
      byOutcome('rollback').every((r) => !received.has(r.sendResult.msgId)),
      'no rolled-back message delivered',
    );
  } finally {
    count.restore();
    await p.shutdown();
  }
});

const rocketmqRemark =
  'the message is illegal, maybe msg body or properties length not matched. msg body length limit 4194304B, msg properties length limit 32KB.';

test("a broker answering RocketMQ's MESSAGE_ILLEGAL: members sent one by one, the broker remembered", async () => {
  const inner = cluster.brokers.map((b) => processorOf(b, RequestCode.SEND_BATCH_MESSAGE));
  const seen = { refused: 0, plainBatches: 0 };
  for (const [i, b] of cluster.brokers.entries()) {
    serverOf(b).registerProcessor(RequestCode.SEND_BATCH_MESSAGE, (req, conn) => {
      if (!isSplitHeader(req)) {
        seen.plainBatches++;
        return (inner[i] as Processor)(req, conn);
      }
      seen.refused++;
      return createResponse(req, ResponseCode.MESSAGE_ILLEGAL, rocketmqRemark);
    });
  }
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_split_fallback' });
  const tx = new TransactionProducer({
    nameServer: cluster.nameServer,
    group: 'pg_split_fallback_tx',
    executeLocal: () => TransactionState.COMMIT,
    checkLocal: () => TransactionState.COMMIT,
  });
  await producer.start();
  await tx.start();
  try {
    const dueOf = new Map<string, number>();
    const timers = async (round: number) => {
      const due = Date.now() + 1500;
      const rs = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          producer.send({ topic: topics.fallback, body: `f${round}-${i}`, deliverTimeMs: due }),
        ),
      );
      for (const r of rs) dueOf.set(r.msgId, due);
      return rs;
    };
    const sent: SendResult[] = [];
    for (let round = 1; round <= 4; round++) sent.push(...(await timers(round)));
    // Each round's batch goes to the next broker: without the memory, four refusals.
    assert.ok(seen.refused >= 1 && seen.refused <= 2, `${seen.refused} refusals: at most one per broker`);
    for (const r of sent) {
      assert.equal(r.status, SendStatus.SEND_OK);
      const m = await storedOf(r);
      assert.equal(m.topic, SystemTopic.wheelTimer, 'sent alone, it is a timer message as ever');
      assert.equal(m.queueOffset, r.queueOffset);
    }
    const plainBefore = seen.plainBatches;
    await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send({ topic: topics.fallback, body: `p${i}` })));
    assert.ok(seen.plainBatches > plainBefore, 'plain sends are still batched');

    const committed = await Promise.all(
      Array.from({ length: 10 }, (_, i) => tx.send({ topic: topics.fallbackTx, body: `t${i}` })),
    );
    for (const c of committed) assert.equal(c.state, TransactionState.COMMIT);
    await waitFor(() => sent.every((r) => received.has(r.msgId)), 'every timer message delivered');
    for (const r of sent) assert.ok((received.get(r.msgId)?.atMs ?? 0) >= (dueOf.get(r.msgId) ?? 0), 'not early');
    await waitFor(() => committed.every((c) => received.has(c.sendResult.msgId)), 'every committed message delivered');
  } finally {
    for (const [i, b] of cluster.brokers.entries())
      serverOf(b).registerProcessor(RequestCode.SEND_BATCH_MESSAGE, inner[i] as Processor);
    await tx.shutdown();
    await producer.shutdown();
  }
});

test('a refused batch of delay-level and plain members: each sent alone keeps the UNIQ_KEY its batch generated', async () => {
  const inner = cluster.brokers.map((b) => processorOf(b, RequestCode.SEND_BATCH_MESSAGE));
  let refused = 0;
  for (const [i, b] of cluster.brokers.entries()) {
    serverOf(b).registerProcessor(RequestCode.SEND_BATCH_MESSAGE, (req, conn) => {
      if (!isSplitHeader(req)) return (inner[i] as Processor)(req, conn);
      refused++;
      return createResponse(req, ResponseCode.MESSAGE_ILLEGAL, rocketmqRemark);
    });
  }
  // Messages without user properties get their UNIQ_KEY written as bytes when their batch is encoded.
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_split_fallback_ids' });
  await producer.start();
  try {
    const sent = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        producer.send({ topic: topics.fallback, body: `ids-${i}`, ...(i % 2 === 0 ? { delayTimeLevel: 1 } : {}) }),
      ),
    );
    assert.ok(refused >= 1, 'the mixed batch was refused');
    assert.equal(new Set(sent.map((r) => r.msgId)).size, 20, 'an id each');
    for (const r of sent) {
      assert.equal(r.status, SendStatus.SEND_OK);
      assert.equal((await storedOf(r)).properties.get(Prop.uniqKey), r.msgId, 'stored with the id its send answered');
    }
    await waitFor(() => sent.every((r) => received.has(r.msgId)), 'every member delivered under its id');
  } finally {
    for (const [i, b] of cluster.brokers.entries())
      serverOf(b).registerProcessor(RequestCode.SEND_BATCH_MESSAGE, inner[i] as Processor);
    await producer.shutdown();
  }
});
