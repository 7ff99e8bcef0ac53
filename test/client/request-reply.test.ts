/** createReply (MessageUtil.createReplyMessage) and ReplyWaiters (matching pushed replies by CORRELATION_ID). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { Producer } from '../../src/client/producer.js';
import { createReply, ReplyWaiters, RequestTimeoutError } from '../../src/client/request-reply.js';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { encodeProperties, Prop } from '../../src/common/properties.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { encodeReplyMessageHeader } from '../../src/remoting/protocol/reply.js';

test('createReply addresses <CLUSTER>_REPLY_TOPIC with MSG_TYPE reply and the request correlation; no CLUSTER is refused', () => {
  const request = {
    properties: new Map([
      [Prop.clusterName, 'C1'],
      [Prop.correlationId, 'id-1'],
      [Prop.replyToClient, '10.0.0.1@x'],
      [Prop.ttl, '3000'],
      [Prop.tags, 'not copied'],
    ]),
  };
  assert.deepEqual(createReply(request, 'ok'), {
    topic: 'C1_REPLY_TOPIC',
    body: 'ok',
    properties: {
      [Prop.msgType]: 'reply',
      [Prop.correlationId]: 'id-1',
      [Prop.replyToClient]: '10.0.0.1@x',
      [Prop.ttl]: '3000',
    },
  });
  assert.throws(() => createReply({ properties: new Map() }, 'x'), InvalidArgumentError);
});

function push(props: Record<string, string>, body: Buffer, sysFlag = 0) {
  const fields = encodeReplyMessageHeader({
    producerGroup: 'g',
    topic: 'C1_REPLY_TOPIC',
    defaultTopic: 'TBW102',
    defaultTopicQueueNums: 4,
    queueId: 0,
    sysFlag,
    bornTimestamp: 1n,
    flag: 0,
    properties: encodeProperties(props),
    reconsumeTimes: 0,
    unitMode: false,
    bornHost: '127.0.0.1:1',
    storeHost: '127.0.0.1:2',
    storeTimestamp: 2n,
  });
  return createRequest(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, fields, body);
}

test('a pushed reply resolves the request with its correlation id (inflated when compressed); others are answered and dropped', async () => {
  const w = new ReplyWaiters();
  const a = w.expect('a', 'T', 5000);
  const b = w.expect('b', 'T', 5000);
  assert.equal(w.onPush(push({ [Prop.correlationId]: 'zzz' }, Buffer.from('late'))).code, ResponseCode.SUCCESS);
  assert.equal(w.onPush(push({ [Prop.correlationId]: 'b' }, deflateSync(Buffer.from('bee')), 1)).code, 0);
  assert.equal(w.onPush(push({ [Prop.correlationId]: 'a' }, Buffer.from('ay'))).code, 0);
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra.body.toString(), 'ay');
  assert.equal(rb.body.toString(), 'bee');
  assert.equal(rb.correlationId, 'b');
  assert.ok(ra.properties.has(Prop.replyArriveTime));
  assert.equal(w.pending, 0);
});

test('no reply in time: RequestTimeoutError naming the topic; cancel rejects with the given error', async () => {
  const w = new ReplyWaiters();
  await assert.rejects(w.expect('t', 'Topic1', 20), (err: unknown) => {
    return err instanceof RequestTimeoutError && err.topic === 'Topic1' && err.correlationId === 't';
  });
  const c = w.expect('c', 'T', 5000);
  w.cancel('c', new Error('send failed'));
  await assert.rejects(c, /send failed/);
  assert.equal(w.pending, 0);
});

test('a reply whose compressed body does not inflate fails its request; a bad request timeout is refused', async () => {
  const w = new ReplyWaiters();
  const r = w.expect('z', 'T', 5000);
  assert.equal(w.onPush(push({ [Prop.correlationId]: 'z' }, Buffer.from('not zlib'), 1)).code, ResponseCode.SUCCESS);
  await assert.rejects(r, /does not inflate/);
  const producer = new Producer({ nameServer: '127.0.0.1:1' });
  await assert.rejects(producer.request({ topic: 'T', body: 'x' }, 0), InvalidArgumentError);
  await assert.rejects(producer.request({ topic: 'T', body: 'x' }, 1.5), InvalidArgumentError);
});
