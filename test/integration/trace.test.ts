/**
 * Message trace over a real `tsrocket start` (traceTopicEnable on by default there): a producer and a push
 * consumer with `trace` on write Pub and SubBefore/SubAfter records to RMQ_SYS_TRACE_TOPIC; queryMsgTraceById
 * (Admin API and `tsrocket admin` CLI) shows the send, the store time and each consumption, a redelivery with
 * its retry count; a transactional send adds its EndTransaction; a custom trace topic (`-t`) works the same way.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, type MessageTrace } from '../../src/client/admin/admin.js';
import { ConsumeResult } from '../../src/client/consume-service.js';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { TransactionProducer, TransactionState } from '../../src/client/transaction-producer.js';
import { SystemTopic } from '../../src/common/topics.js';
import { cliPath, createTopic, type Server, startServer, stopAll, tempDir, writeBrokerConf } from './procs.js';

const topic = 'TracedTopic';
const customTraceTopic = 'MyTraceTopic';
let server: Server;
let admin: Admin;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await tempDir('trace');
  cleanup = t.cleanup;
  // Redeliveries after 1 s instead of 10 s, so a retried consumption shows up quickly.
  const conf = await writeBrokerConf(t.dir, { messageDelayLevel: Array.from({ length: 18 }, () => '1s').join(' ') });
  server = await startServer(join(t.dir, 'data'), conf);
  await createTopic(server.nameServer, server.brokerAddr, topic, 2);
  await createTopic(server.nameServer, server.brokerAddr, customTraceTopic, 1);
  admin = new Admin({ nameServer: server.nameServer, timeoutMs: 5000 });
});
after(async () => {
  await admin.close();
  await stopAll();
  await cleanup();
});

function runAdminCli(...args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, 'admin', ...args, '-n', server.nameServer], (err, stdout) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, out: stdout });
    });
  });
}

/** Polls queryMsgTraceById until `done` holds (trace records leave asynchronously, batched). */
async function traceWhen(
  msgId: string,
  done: (t: MessageTrace) => boolean,
  traceTopic?: string,
): Promise<MessageTrace> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const t = await admin.queryMsgTraceById(msgId, ...(traceTopic === undefined ? [] : [traceTopic]));
    if (done(t)) return t;
    if (Date.now() > deadline) assert.fail(`trace of ${msgId} incomplete: ${JSON.stringify(t)}`);
    await sleep(100);
  }
}

test('the broker created the trace topic at start (traceTopicEnable, one queue)', async () => {
  const route = await admin.topicRoute(SystemTopic.trace);
  assert.equal(route.queueDatas[0]?.writeQueueNums, 1);
});

test('sent and consumed with tracing on: queryMsgTraceById shows the send, the store and both consumptions', async () => {
  const producer = new Producer({ nameServer: server.nameServer, group: 'trace_pg', trace: true });
  let attempts = 0;
  const consumer = new PushConsumer({
    nameServer: server.nameServer,
    group: 'trace_cg',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    trace: true,
    // The first delivery fails: the redelivery is traced with retryTimes 1.
    handler: () => (attempts++ === 0 ? ConsumeResult.RECONSUME_LATER : ConsumeResult.CONSUME_SUCCESS),
  }).subscribe(topic);
  await producer.start();
  await consumer.start();
  try {
    const sentAt = Date.now();
    const r = await producer.send({ topic, body: 'traced body', tags: 'TagT', keys: ['order-7'] });
    const t = await traceWhen(r.msgId, (x) => x.sends.length === 1 && x.consumes.filter((c) => c.success).length === 1);
    const s = t.sends[0];
    assert.ok(s);
    assert.equal(s.producerGroup, 'trace_pg');
    assert.equal(s.topic, topic);
    assert.equal(s.tags, 'TagT');
    assert.equal(s.keys, 'order-7');
    assert.equal(s.storeHost, server.brokerAddr);
    assert.equal(s.offsetMsgId, r.offsetMsgId);
    assert.equal(s.bodyLength, 11);
    assert.equal(s.success, true);
    assert.ok(s.clientHost !== undefined && s.clientHost !== '');
    assert.ok(s.sendTimeMs >= sentAt - 5 && s.costMs >= 0);
    assert.ok(t.storeTimeMs !== undefined && t.storeTimeMs >= s.sendTimeMs - 5, 'store time from the message');
    assert.deepEqual(
      t.consumes.map((c) => [c.consumerGroup, c.retryTimes, c.success, c.contextCode]),
      [
        ['trace_cg', 0, false, 4],
        ['trace_cg', 1, true, 0],
      ],
    );
    for (const c of t.consumes) assert.ok(c.costMs !== undefined && c.costMs >= 0 && c.clientHost !== undefined);

    // The same through the CLI: a timeline table, and --json.
    const cli = await runAdminCli('queryMsgTraceById', '-i', r.msgId);
    assert.equal(cli.code, 0, cli.out);
    const steps = cli.out
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/)[0]);
    assert.deepEqual(steps, ['sent', 'stored', 'consumed', 'consumed', '']);
    assert.match(cli.out, /trace_pg/);
    assert.match(cli.out, /trace_cg .* failed .*retryTimes=0 FAILED/);
    assert.match(cli.out, /trace_cg .* success .*retryTimes=1 SUCCESS/);
    const json = JSON.parse((await runAdminCli('queryMsgTraceById', '-i', r.msgId.toLowerCase(), '--json')).out);
    assert.equal(json.sends[0].storeHost, server.brokerAddr);
    assert.equal(json.consumes.length, 2);

    // Trace messages are stored like any other: found by key = msgId on the trace topic.
    const stored = await admin.queryMessageByKey(SystemTopic.trace, r.msgId);
    assert.ok(stored.length >= 2, `${stored.length} trace messages`);

    // Oneway and batch sends are traced too, one Pub per message.
    const batch = await producer.send([
      { topic, body: 'b1' },
      { topic, body: 'b2' },
    ]);
    const ids = batch.msgId.split(',');
    assert.equal(ids.length, 2);
    for (const id of ids) await traceWhen(id, (x) => x.sends.length === 1 && x.sends[0]?.success === true);
    assert.equal(producer.tracer?.dispatcher.stats.dropped, 0);
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
  }
});

test('a transactional send adds an EndTransaction record; a custom trace topic is read with -t', async () => {
  const tx = new TransactionProducer({
    nameServer: server.nameServer,
    group: 'trace_tx',
    trace: { topic: customTraceTopic },
    executeLocal: () => TransactionState.COMMIT,
    checkLocal: () => TransactionState.COMMIT,
  });
  await tx.start();
  try {
    const { sendResult } = await tx.send({ topic, body: 'tx body' });
    const t = await traceWhen(
      sendResult.msgId,
      (x) => x.sends.length === 1 && x.endTransactions.length === 1,
      customTraceTopic,
    );
    assert.equal(t.sends[0]?.msgType, 1, 'Trans_Msg_Half');
    assert.equal(t.endTransactions[0]?.transactionState, 'COMMIT_MESSAGE');
    assert.equal(t.endTransactions[0]?.producerGroup, 'trace_tx');
    const none = await admin.queryMsgTraceById(sendResult.msgId);
    assert.equal(none.sends.length, 0, 'nothing in the default trace topic');
    const cli = await runAdminCli('queryMsgTraceById', '-i', sendResult.msgId, '-t', customTraceTopic);
    assert.equal(cli.code, 0);
    assert.match(cli.out, /endTransaction\s+trace_tx/);
  } finally {
    await tx.shutdown();
  }
});

test('queryMsgTraceById: a msgId that is not 32 hex is refused (exit code 2 in the CLI)', async () => {
  await assert.rejects(admin.queryMsgTraceById('nope'), /32 \(or 56\) hex characters/);
  const cli = await runAdminCli('queryMsgTraceById', '-i', 'nope');
  assert.equal(cli.code, 2);
});
