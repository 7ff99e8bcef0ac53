/**
 * Request-reply with Apache's RocketMQ 4.9.8 Java client (Scenarios.java `request-java-requester` and
 * `request-java-responder`, one JVM): the Java producer's request() is answered by tsrocket's responder
 * (createReply), tsrocket's Producer.request is answered by a Java responder (MessageUtil.createReplyMessage), each
 * reply carries its request's CORRELATION_ID, and a Java request nobody answers times out.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '../../src/client/admin/admin.js';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { createReply, type ReplyMessage } from '../../src/client/request-reply.js';
import { Prop } from '../../src/common/properties.js';
import { type JavaRun, runJavaScenarios } from './java-client.js';
import { type RunningSystem, startSystem } from './system.js';

const count = 20;
let system: RunningSystem | undefined;

before(async () => {
  system = await startSystem();
});
after(() => system?.stop());

/** Waits until the NameServer routes `topic` (the Java side creates it). */
async function routed(admin: Admin, topic: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const route = await admin.topicRoute(topic).catch(() => undefined);
    if (route !== undefined && route.queueDatas.length > 0) return;
    await sleep(100);
  }
  throw new Error(`topic ${topic} never routed`);
}

test('Java request() ↔ tsrocket responder, tsrocket request() ↔ Java responder, Java request timeout', async () => {
  const { nameSrv, dataDir } = system as RunningSystem;
  const admin = new Admin({ nameServer: nameSrv, timeoutMs: 5000 });
  await admin.createOrUpdateTopic(
    { cluster: 'DefaultCluster' },
    { topicName: 'JavaRequests', readQueueNums: 4, writeQueueNums: 4 },
  );
  const replier = new Producer({ nameServer: nameSrv, group: 'ts_replier', instanceName: 'ts_replier' });
  const requester = new Producer({ nameServer: nameSrv, group: 'ts_requester', instanceName: 'ts_requester' });
  const responder = new PushConsumer({
    nameServer: nameSrv,
    group: 'ts_responder',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    handler: async (m) => {
      await replier.send(createReply(m, `ts-re:${m.body.toString()}`));
    },
  }).subscribe('JavaRequests');
  try {
    await replier.start();
    await requester.start();
    await responder.start();
    const javaRun: Promise<JavaRun> = runJavaScenarios(nameSrv, dataDir, {
      serializeType: 'JSON',
      suffix: '',
      scenarios: ['request-java-requester', 'request-java-responder'],
      properties: { 'scenarios.requestReply': 'true', 'scenarios.requestReply.count': String(count) },
    });
    javaRun.catch(() => undefined);
    // Our requests wait in the topic until the Java responder starts consuming it.
    await routed(admin, 'JavaResponds', 60_000);
    const ours: ReplyMessage[] = await Promise.all(
      Array.from({ length: count }, (_, i) => requester.request({ topic: 'JavaResponds', body: `ts-q${i}` }, 40_000)),
    );
    for (const [i, r] of ours.entries()) {
      assert.equal(r.body.toString(), `java-re:ts-q${i}`);
      assert.equal(r.topic, 'DefaultCluster_REPLY_TOPIC');
      assert.equal(r.properties.get(Prop.msgType), 'reply');
    }
    assert.equal(new Set(ours.map((r) => r.correlationId)).size, count);

    const run = await javaRun;
    const asJavaRequester = run.results.get('request-java-requester');
    assert.ok(asJavaRequester !== undefined, `no result; JVM log:\n${run.stderr.slice(-4000)}`);
    assert.equal(asJavaRequester['error'], undefined, String(asJavaRequester['error']));
    const replies = asJavaRequester['replies'] as Array<Record<string, unknown>>;
    assert.equal(replies.length, count);
    for (const r of replies) {
      assert.equal(r['body'], `ts-re:${r['request']}`);
      assert.equal(r['correlationId'], r['requestCorrelationId']);
      assert.equal(r['topic'], 'DefaultCluster_REPLY_TOPIC');
      assert.equal(r['msgType'], 'reply');
    }
    assert.equal(asJavaRequester['timeout'], 'RequestTimeoutException');
    const asJavaResponder = run.results.get('request-java-responder');
    assert.ok(asJavaResponder !== undefined);
    assert.equal(asJavaResponder['error'], undefined, String(asJavaResponder['error']));
    assert.deepEqual(asJavaResponder['errors'], []);
    assert.equal(asJavaResponder['answered'], count);
  } finally {
    await responder.shutdown();
    await requester.shutdown();
    await replier.shutdown();
    await admin.close();
  }
});
