/**
 * Request-reply on the broker: a request (REPLY_TO_CLIENT set) is stored with CLUSTER, other messages are not;
 * SEND_REPLY_MESSAGE_V2 (325) pushes PUSH_REPLY_MESSAGE_TO_CLIENT (326) to the requester's connection found among
 * the producers, with PUSH_REPLY_TIME, and stores the reply in `<cluster>_REPLY_TOPIC` (storeReplyMessageEnable);
 * a requester that is not connected, a reply without REPLY_TO_CLIENT or a requester refusing the push answer
 * SYSTEM_ERROR with a remark naming why.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encodeProperties, Prop } from '../../src/common/properties.js';
import { decodeRecords } from '../../src/common/record.js';
import { replyTopicOf } from '../../src/common/topics.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest, createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import { decodeReplyMessageHeader } from '../../src/remoting/protocol/reply.js';
import { encodeSendHeader, encodeSendHeaderV2 } from '../../src/remoting/protocol/send.js';
import { createTopic, type Harness, pull, sendV2, startHarness } from './helpers.js';

const replyTopic = replyTopicOf('DefaultCluster');
let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

/** A client registered as producer `clientId` whose 326 handler is `onPush`. */
async function requesterClient(
  clientId: string,
  onPush: (req: RemotingCommand) => RemotingCommand,
): Promise<RemotingClient> {
  const c = new RemotingClient();
  c.registerProcessor(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, onPush);
  const hb = { clientID: clientId, producerDataSet: [{ groupName: 'rq_group' }], consumerDataSet: [] };
  const r = await c.invoke(h.addr, createRequest(RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(hb))), 5000);
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  return c;
}

function sendReply(props: Record<string, string>, body = 'the answer'): Promise<RemotingCommand> {
  const fields = encodeSendHeaderV2({
    producerGroup: 'responder',
    topic: replyTopic,
    queueId: 0,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    flag: 3,
    properties: encodeProperties({ [Prop.msgType]: 'reply', ...props }),
    reconsumeTimes: 0,
    batch: false,
  });
  return h.client.invoke(h.addr, createRequest(RequestCode.SEND_REPLY_MESSAGE_V2, fields, Buffer.from(body)), 5000);
}

async function storedReplies(): Promise<number> {
  const p = await pull(h, replyTopic, 0, 0);
  return p.code === ResponseCode.SUCCESS ? decodeRecords(p.body ?? Buffer.alloc(0)).length : 0;
}

test('a request is stored with CLUSTER; a plain message is not', async () => {
  await createTopic(h, 'Requests', 1);
  assert.equal((await sendV2(h, 'Requests', 'plain', { [Prop.tags]: 'a' })).code, 0);
  const props = { [Prop.correlationId]: 'c-1', [Prop.replyToClient]: 'requester@1', [Prop.ttl]: '3000' };
  assert.equal((await sendV2(h, 'Requests', 'ask', props)).code, 0);
  const [plain, request] = decodeRecords((await pull(h, 'Requests', 0, 0)).body ?? Buffer.alloc(0));
  assert.equal(plain?.properties.get(Prop.clusterName), undefined);
  assert.equal(request?.properties.get(Prop.clusterName), 'DefaultCluster');
  assert.equal(request?.properties.get(Prop.correlationId), 'c-1');
});

test('325 pushes the reply to the requester (326) with PUSH_REPLY_TIME and stores it', async () => {
  const pushed: RemotingCommand[] = [];
  const requester = await requesterClient('requester@2', (req) => {
    pushed.push(req);
    return createResponse(req, ResponseCode.SUCCESS);
  });
  try {
    const before = await storedReplies();
    const r = await sendReply({ [Prop.correlationId]: 'c-2', [Prop.replyToClient]: 'requester@2' });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    assert.notEqual(r.extFields?.['msgId'], '0');
    assert.equal(pushed.length, 1);
    const req = pushed[0] as RemotingCommand;
    const ph = decodeReplyMessageHeader(req);
    assert.equal(ph.topic, replyTopic);
    assert.equal(ph.producerGroup, 'responder');
    assert.equal(ph.flag, 3);
    assert.equal(ph.storeHost, h.addr);
    assert.match(ph.bornHost, /^127\.0\.0\.1:\d+$/);
    assert.match(ph.properties, /CORRELATION_ID\u0001c-2\u0002/);
    assert.match(ph.properties, /PUSH_REPLY_TIME\u0001\d+\u0002$/);
    assert.equal(req.body?.toString(), 'the answer');
    assert.equal(await storedReplies(), before + 1);
  } finally {
    await requester.close();
  }
});

test('SEND_REPLY_MESSAGE (324, long header names) is served the same way; an unknown reply topic is refused', async () => {
  const pushed: RemotingCommand[] = [];
  const requester = await requesterClient('requester@7', (req) => {
    pushed.push(req);
    return createResponse(req, ResponseCode.SUCCESS);
  });
  try {
    const header = {
      producerGroup: 'responder',
      topic: replyTopic,
      queueId: -1,
      sysFlag: 0,
      bornTimestamp: Date.now(),
      flag: 0,
      properties: encodeProperties({ [Prop.correlationId]: 'c-7', [Prop.replyToClient]: 'requester@7' }),
      reconsumeTimes: 0,
      batch: false,
    };
    const v1 = await h.client.invoke(
      h.addr,
      createRequest(RequestCode.SEND_REPLY_MESSAGE, encodeSendHeader(header), Buffer.from('v1 answer')),
      5000,
    );
    assert.equal(v1.code, ResponseCode.SUCCESS, v1.remark);
    assert.equal(pushed[0]?.body?.toString(), 'v1 answer');
    const unknown = await h.client.invoke(
      h.addr,
      createRequest(RequestCode.SEND_REPLY_MESSAGE, encodeSendHeader({ ...header, topic: 'NoSuchReplyTopic' })),
      5000,
    );
    assert.equal(unknown.code, ResponseCode.TOPIC_NOT_EXIST);
  } finally {
    await requester.close();
  }
});

test('no connected requester, no REPLY_TO_CLIENT, or a refused push: SYSTEM_ERROR naming why', async () => {
  const gone = await sendReply({ [Prop.correlationId]: 'c-3', [Prop.replyToClient]: 'nobody@1' });
  assert.equal(gone.code, ResponseCode.SYSTEM_ERROR);
  assert.match(gone.remark ?? '', /channel of <nobody@1> not found/);

  const anonymous = await sendReply({ [Prop.correlationId]: 'c-4' });
  assert.equal(anonymous.code, ResponseCode.SYSTEM_ERROR);
  assert.match(anonymous.remark ?? '', /REPLY_TO_CLIENT/);

  const requester = await requesterClient('requester@5', (req) =>
    createResponse(req, ResponseCode.SYSTEM_ERROR, 'not now'),
  );
  try {
    const refused = await sendReply({ [Prop.correlationId]: 'c-5', [Prop.replyToClient]: 'requester@5' });
    assert.equal(refused.code, ResponseCode.SYSTEM_ERROR);
    assert.match(refused.remark ?? '', /requester@5 fail: not now/);
  } finally {
    await requester.close();
  }
});

test('storeReplyMessageEnable=false: pushed only (msgId "0"), nothing stored', async () => {
  await h.restart({ storeReplyMessageEnable: false });
  const requester = await requesterClient('requester@6', (req) => createResponse(req, ResponseCode.SUCCESS));
  try {
    const before = await storedReplies();
    const r = await sendReply({ [Prop.correlationId]: 'c-6', [Prop.replyToClient]: 'requester@6' });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    assert.equal(r.extFields?.['msgId'], '0');
    assert.equal(await storedReplies(), before);
  } finally {
    await requester.close();
    await h.restart();
  }
});
