/**
 * Request-reply over a real `tsrocket start`: 1,000 requests (50 callers at a time), each answered by a responder (PushConsumer
 * + createReply + Producer.send) with a body derived from its request, come back to the right caller (correlation);
 * the reply is also stored in `<cluster>_REPLY_TOPIC`; a request nobody answers fails with RequestTimeoutError.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Admin } from '../../src/client/admin/admin.js';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { createReply, type ReplyMessage, RequestTimeoutError } from '../../src/client/request-reply.js';
import { Prop } from '../../src/common/properties.js';
import { replyTopicOf } from '../../src/common/topics.js';
import { createTopic, type Server, startServer, stopAll, tempDir } from './procs.js';

const topic = 'RequestTopic';
let server: Server;
let requester: Producer;
let replier: Producer;
let responder: PushConsumer;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await tempDir('reqreply');
  cleanup = t.cleanup;
  server = await startServer(join(t.dir, 'data'));
  await createTopic(server.nameServer, server.brokerAddr, topic, 4);
  await createTopic(server.nameServer, server.brokerAddr, 'NobodyAnswers', 1);
  requester = new Producer({ nameServer: server.nameServer, group: 'rr_requester', instanceName: 'requester' });
  replier = new Producer({ nameServer: server.nameServer, group: 'rr_replier', instanceName: 'replier' });
  await requester.start();
  await replier.start();
  responder = new PushConsumer({
    nameServer: server.nameServer,
    group: 'rr_responder',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    consumeConcurrency: 64,
    handler: async (m) => {
      await replier.send(createReply(m, `re:${m.body.toString()}`));
    },
  }).subscribe(topic);
  await responder.start();
});
after(async () => {
  await responder.shutdown();
  await replier.shutdown();
  await requester.shutdown();
  await stopAll();
  await cleanup();
});

test('1,000 requests, 50 at a time, each get their own reply', async () => {
  const n = 1000;
  const replies: ReplyMessage[] = [];
  let next = 0;
  // 50 callers at once: enough to interleave replies, not a send flood that the broker's flow control sheds.
  const caller = async () => {
    for (let i = next++; i < n; i = next++) {
      replies[i] = await requester.request({ topic, body: `q${i}`, tags: 'ask' }, 30_000);
    }
  };
  await Promise.all(Array.from({ length: 50 }, caller));
  for (const [i, r] of replies.entries()) {
    assert.equal(r.body.toString(), `re:q${i}`);
    assert.equal(r.topic, replyTopicOf('DefaultCluster'));
    assert.equal(r.properties.get(Prop.msgType), 'reply');
    assert.equal(r.properties.get(Prop.correlationId), r.correlationId);
    assert.ok(r.properties.has(Prop.pushReplyTime));
    assert.ok(r.properties.has(Prop.replyArriveTime));
  }
  assert.equal(new Set(replies.map((r) => r.correlationId)).size, n);

  // storeReplyMessageEnable (default): the replies are stored too.
  const admin = new Admin({ nameServer: server.nameServer, timeoutMs: 5000 });
  try {
    const stats = await admin.topicStatus(replyTopicOf('DefaultCluster'));
    assert.equal(
      stats.reduce((sum, q) => sum + Number(q.maxOffset), 0),
      n,
    );
  } finally {
    await admin.close();
  }
});

test('a request nobody answers fails with RequestTimeoutError after its timeout', async () => {
  const started = Date.now();
  await assert.rejects(requester.request({ topic: 'NobodyAnswers', body: 'anyone?' }, 400), (err: unknown) => {
    assert.ok(err instanceof RequestTimeoutError);
    assert.equal(err.topic, 'NobodyAnswers');
    assert.equal(err.timeoutMs, 400);
    return true;
  });
  assert.ok(Date.now() - started >= 390);
});
