/**
 * Resend from the DLQ with Apache's RocketMQ 4.9.8 Java client as the consumer (Scenarios.java `dlq-resend`):
 * with maxReconsumeTimes 0 its RECONSUME_LATER sends the message to %DLQ%<group>; tsrocket's Admin resends it and
 * the Java consumer receives it once more, with its original topic and msgId and reconsumeTimes 0.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '../../src/client/admin/admin.js';
import { type JavaRun, runJavaScenarios } from './java-client.js';
import { type RunningSystem, startSystem } from './system.js';

const group = 'JavaDlqCG';
const dlqWaitMs = 40_000;
let system: RunningSystem | undefined;

before(async () => {
  system = await startSystem();
});
after(() => system?.stop());

test('Java consumer: RECONSUME_LATER past maxReconsumeTimes 0 → %DLQ%; Admin.resendFromDlq → delivered again once', async () => {
  const { nameSrv, dataDir } = system as RunningSystem;
  const admin = new Admin({ nameServer: nameSrv, timeoutMs: 5000 });
  try {
    const javaRun: Promise<JavaRun> = runJavaScenarios(nameSrv, dataDir, {
      serializeType: 'JSON',
      suffix: '',
      scenarios: ['dlq-resend'],
      properties: { 'scenarios.dlqResend': 'true' },
    });
    let settled = false;
    javaRun.finally(() => {
      settled = true;
    });
    // Wait for the dead-lettered copy, then resend the whole DLQ (one message).
    const deadline = Date.now() + dlqWaitMs;
    let inDlq = 0;
    while (inDlq < 1 && !settled && Date.now() < deadline) {
      inDlq = (await admin.topicStatus(`%DLQ%${group}`).catch(() => [])).reduce((n, q) => n + q.maxOffset, 0);
      if (inDlq < 1) await sleep(100);
    }
    assert.equal(inDlq, 1, 'the Java consumer dead-lettered the message');
    const resent = await admin.resendFromDlq(group);
    assert.equal(resent.length, 1);
    assert.equal(resent[0]?.topic, 'JavaDlq');

    const run = await javaRun;
    const r = run.results.get('dlq-resend');
    assert.ok(r !== undefined, `no result; JVM log:\n${run.stderr.slice(-4000)}`);
    assert.equal(r['error'], undefined, String(r['error']));
    const sent = r['sent'];
    const deliveries = r['deliveries'] as Array<Record<string, unknown>>;
    assert.equal(deliveries.length, 2, 'the first delivery and the resent one, no more');
    const [first, again] = deliveries;
    assert.equal(first?.['reconsumeTimes'], 0);
    assert.equal(resent[0]?.msgId, sent['msgId']);
    assert.equal(again?.['msgId'], sent['msgId'], 'the original msgId');
    assert.equal(again?.['topic'], 'JavaDlq', 'the original topic (from RETRY_TOPIC)');
    assert.equal(again?.['retryTopic'], 'JavaDlq');
    assert.equal(again?.['originMessageId'], sent['offsetMsgId']);
    assert.equal(again?.['reconsumeTimes'], 0);
    assert.equal(again?.['body'], 'dead, then resent');
    assert.equal(again?.['tags'], 'TagD');
  } finally {
    await admin.close();
  }
});
