/**
 * Over a real `tsrocket start`: a message that exhausts its retries lands in %DLQ%<group> with its origin, the DLQ
 * topic has RocketMQ's shape, and `tsrocket admin resendMessageFromDLQ` (a real process) and Admin.resendFromDlq
 * put messages back so that group alone consumes each once more, with its original topic and id and
 * reconsumeTimes 0. The back-off before the DLQ is not asserted (delay levels own it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Admin } from '../../src/client/admin/admin.js';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import type { ReceivedMessage } from '../../src/client/received-message.js';
import { Prop } from '../../src/common/properties.js';
import { storePlannedKeys } from '../../src/store/config.js';
import { cliPath, createTopic, startServer, stopAll, tempDir, waitUntil, writeBrokerConf } from './procs.js';

const topic = 'DlqOrigin';
const group = 'dlq_it_group';
const otherGroup = 'dlq_it_other';
const waitMs = 40_000;

after(stopAll);

/** Once delay levels are built, retries wait on them: 1 s each here, so the test does not wait minutes. */
function brokerKeys(): Record<string, string> {
  const planned = storePlannedKeys['messageDelayLevel'];
  const built = planned === undefined || planned.notBuilt === undefined;
  return built ? { messageDelayLevel: Array.from({ length: 18 }, () => '1s').join(' ') } : {};
}

/** `tsrocket admin …` in its own process: exit code and stdout (its --json output is pretty-printed). */
function runAdminCli(nameServer: string, ...args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, 'admin', ...args, '-n', nameServer], (err, stdout) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, out: stdout });
    });
  });
}

test('exhausted retries → %DLQ%<group> with origin; resend by id (CLI) and by range (Admin) is consumed once, by that group only', async () => {
  const { dir, cleanup } = await tempDir('dlq');
  const conf = await writeBrokerConf(dir, brokerKeys());
  const server = await startServer(join(dir, 'data'), conf);
  const admin = new Admin({ nameServer: server.nameServer, timeoutMs: 5000 });
  const producer = new Producer({ nameServer: server.nameServer, group: 'dlq_it_producer' });
  const seen: ReceivedMessage[] = [];
  const otherSeen: string[] = [];
  let failing = true;
  const consumer = new PushConsumer({
    nameServer: server.nameServer,
    group,
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    maxReconsumeTimes: 1,
    handler: (m) => {
      seen.push(m);
      if (failing) throw new Error('always fails while failing');
    },
  }).subscribe(topic);
  const other = new PushConsumer({
    nameServer: server.nameServer,
    group: otherGroup,
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    handler: (m) => {
      otherSeen.push(m.msgId);
    },
  }).subscribe(topic);
  try {
    await createTopic(server.nameServer, server.brokerAddr, topic, 2);
    await producer.start();
    await consumer.start();
    await other.start();
    const bodies = ['small-1', 'small-2', 'x'.repeat(6000)]; // the last is sent compressed
    const sent = [];
    for (const [i, body] of bodies.entries()) sent.push(await producer.send({ topic, body, tags: 'T', keys: `k${i}` }));
    const ids = sent.map((s) => s.msgId);

    // First delivery and one retry each, then the DLQ (maxReconsumeTimes 1).
    const dlq = `%DLQ%${group}`;
    let dlqCount = 0;
    await waitUntil(() => seen.length >= 6, 'two deliveries of each message', waitMs);
    const deadline = Date.now() + waitMs;
    while (dlqCount < 3 && Date.now() < deadline) {
      const status = await admin.topicStatus(dlq).catch(() => []);
      dlqCount = status.reduce((n, q) => n + q.maxOffset, 0);
      if (dlqCount < 3) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(dlqCount, 3, 'all three messages dead-lettered');
    for (const id of ids) {
      const times = seen.filter((m) => m.msgId === id).map((m) => m.reconsumeTimes);
      assert.deepEqual(times, [0, 1], `deliveries of ${id}`);
    }
    assert.ok(
      seen.every((m) => m.topic === topic),
      'a retried message shows its original topic',
    );

    // The DLQ topic as RocketMQ creates it: one queue, read-write; each copy keeps its origin.
    const [dlqConfig] = await admin.topicConfig(dlq);
    assert.deepEqual(
      [dlqConfig?.config.readQueueNums, dlqConfig?.config.writeQueueNums, dlqConfig?.config.perm],
      [1, 1, 6],
    );
    const stored = (await admin.pull(server.brokerAddr, dlq, 0, 0)).messages;
    assert.equal(stored.length, 3);
    for (const m of stored) {
      const i = ids.indexOf(m.properties.get(Prop.uniqKey) ?? '');
      assert.ok(i >= 0, 'the DLQ copy keeps its msgId');
      assert.equal(m.properties.get(Prop.retryTopic), topic);
      assert.equal(m.properties.get(Prop.originMessageId), sent[i]?.offsetMsgId);
    }

    // Resend one by msgId through the CLI, in its own process.
    failing = false;
    const before = seen.length;
    const firstId = stored[0]?.properties.get(Prop.uniqKey) as string;
    const one = await runAdminCli(server.nameServer, 'resendMessageFromDLQ', '-g', group, '-i', firstId, '--json');
    assert.equal(one.code, 0, one.out);
    const report = JSON.parse(one.out) as { resent: Array<{ msgId: string; topic: string; dlqQueueOffset: number }> };
    assert.deepEqual(
      report.resent.map((r) => [r.msgId, r.topic, r.dlqQueueOffset]),
      [[firstId, topic, 0]],
    );
    await waitUntil(() => seen.length >= before + 1, 'the resent message', waitMs);

    // The other two by DLQ offset range through the SDK.
    const rest = await admin.resendFromDlq(group, { beginOffset: 1, endOffset: 3 });
    assert.deepEqual(
      rest.map((r) => r.dlqQueueOffset),
      [1, 2],
    );
    await waitUntil(() => seen.length >= before + 3, 'the other two resent messages', waitMs);
    // A short quiet spell: nothing arrives twice, and the other group gets nothing more.
    await new Promise((r) => setTimeout(r, 1500));
    const again = seen.slice(before);
    assert.deepEqual(again.map((m) => m.msgId).sort(), [...ids].sort(), 'each resent message consumed once');
    for (const m of again) {
      assert.equal(m.reconsumeTimes, 0, 'a full retry budget again');
      assert.equal(m.topic, topic, 'the original topic');
      assert.equal(m.sourceTopic, `%RETRY%${group}`);
      assert.equal(m.body.toString(), bodies[ids.indexOf(m.msgId)]);
      assert.equal(m.tags, 'T');
    }
    assert.deepEqual(
      [...otherSeen].sort(),
      [...ids].sort(),
      'the other group saw each message once, never the resends',
    );

    // Wrong inputs: an id not in the DLQ, a group with no DLQ, no selection.
    const missing = await runAdminCli(server.nameServer, 'resendMessageFromDLQ', '-g', group, '-i', '0'.repeat(32));
    assert.equal(missing.code, 1);
    await assert.rejects(admin.resendFromDlq('no_such_group', {}), /no %DLQ%no_such_group/);
    const bare = await runAdminCli(server.nameServer, 'resendMessageFromDLQ', '-g', group);
    assert.equal(bare.code, 2);
  } finally {
    await consumer.shutdown();
    await other.shutdown();
    await producer.shutdown();
    await admin.close();
    await server.proc.stop();
    await cleanup();
  }
});
