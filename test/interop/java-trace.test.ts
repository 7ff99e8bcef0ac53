/**
 * Message trace with Apache's RocketMQ 4.9.8 Java client (Scenarios.java, trace block): a DefaultMQProducer and a
 * DefaultMQPushConsumer built with enableMsgTrace=true write their records to RMQ_SYS_TRACE_TOPIC of
 * `tsrocket start` (traceTopicEnable on there), and our queryMsgTraceById (API and CLI) reads them: the send
 * (group, store host, success) and the consumption (group, client host, cost, success) of each message.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, type MessageTrace } from '../../src/client/admin/admin.js';
import { type JavaRun, runJavaScenarios, type ScenarioResult } from './java-client.js';
import { cli, type RunningSystem, startSystem } from './system.js';

let system: RunningSystem;
let run: JavaRun;
let admin: Admin;

before(async () => {
  system = await startSystem();
  run = await runJavaScenarios(system.nameSrv, system.dataDir, {
    serializeType: 'JSON',
    suffix: '',
    scenarios: ['trace-java'],
    properties: { 'scenarios.trace': 'true' },
  });
  admin = new Admin({ nameServer: system.nameSrv, timeoutMs: 5000 });
});
after(async () => {
  await admin?.close();
  await system?.stop();
});

function scenario(name: string): ScenarioResult {
  const r = run.results.get(name);
  assert.ok(r !== undefined, `scenario ${name} printed no result; JVM log:\n${run.stderr.slice(-4000)}`);
  assert.equal(r['error'], undefined, `scenario ${name} failed`);
  assert.equal(r['skipped'], undefined, `scenario ${name} skipped`);
  return r;
}

/** Polls until the trace holds a send and a finished consumption (the JVM flushed at shutdown; this is slack). */
async function fullTrace(msgId: string): Promise<MessageTrace> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const t = await admin.queryMsgTraceById(msgId);
    if (t.sends.length >= 1 && t.consumes.some((c) => c.success !== undefined)) return t;
    if (Date.now() > deadline) assert.fail(`trace of ${msgId} incomplete: ${JSON.stringify(t)}`);
    await sleep(100);
  }
}

test('the Java client traces (enableMsgTrace) are read by queryMsgTraceById: sent and consumed', async () => {
  const r = scenario('trace-java');
  const sent = r['sent'] as ScenarioResult[];
  assert.equal(sent.length, 3);
  assert.equal((r['received'] as ScenarioResult[]).length, 3, 'every message consumed');
  assert.equal(r['tracedSeenByJava'], true, 'the JVM found every Pub and SubAfter before shutting down');
  for (const s of sent) {
    const t = await fullTrace(s['msgId'] as string);
    assert.equal(t.undecodable, 0);
    const pub = t.sends[0];
    assert.ok(pub);
    assert.equal(pub.producerGroup, 'JavaTracedPG');
    assert.equal(pub.topic, 'JavaTraced');
    assert.equal(pub.tags, 'TagT');
    assert.equal(pub.keys, s['keys']);
    assert.equal(pub.offsetMsgId, s['offsetMsgId']);
    assert.equal(pub.success, true);
    assert.match(pub.storeHost, /^127\.0\.0\.1:\d+$/);
    assert.ok(t.storeTimeMs !== undefined);
    const c = t.consumes.find((x) => x.success !== undefined);
    assert.ok(c);
    assert.equal(c.consumerGroup, 'JavaTracedCG');
    assert.equal(c.retryTimes, 0);
    assert.equal(c.success, true);
    assert.equal(c.contextCode, 0);
    assert.ok(c.costMs !== undefined && c.costMs >= 0);
  }
  const first = sent[0]?.['msgId'] as string;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [cli, 'admin', 'queryMsgTraceById', '-i', first, '-n', system.nameSrv], (err, stdout) =>
      err === null ? resolve(stdout) : reject(err),
    );
  });
  assert.match(out, /^sent\s+JavaTracedPG/m);
  assert.match(out, /^stored/m);
  assert.match(out, /^consumed\s+JavaTracedCG\s.*success/m);
});
