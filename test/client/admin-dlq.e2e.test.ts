/**
 * Admin.resendFromDlq against an in-process broker: the copy in %RETRY%<group> starts afresh (reconsumeTimes 0;
 * DELAY, timer, REAL_* and retry counters dropped) and keeps what the consumer must see (UNIQ_KEY, RETRY_TOPIC,
 * ORIGIN_MESSAGE_ID, tags, user properties, a compressed body as stored); lookup by offsetMsgId and by msgId.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { Admin } from '../../src/client/admin/admin.js';
import { DlqMessageNotFoundError } from '../../src/client/admin/dlq.js';
import { encodeProperties, Prop } from '../../src/common/properties.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;
let admin: Admin;
const raw = new RemotingClient();

before(async () => {
  cluster = await startCluster(1);
  admin = new Admin({ nameServer: cluster.nameServer });
});
after(async () => {
  await admin.close();
  await raw.close();
  await cluster.close();
});

/** A send to %RETRY%<group> at its budget: the broker stores it in %DLQ%<group> (as a client's fallback would). */
async function deadLetter(group: string, props: Record<string, string>, body: Buffer, sysFlag = 0) {
  const addr = (cluster.brokers[0] as { brokerAddr: string }).brokerAddr;
  const fields = {
    a: 'pg',
    b: `%RETRY%${group}`,
    c: 'TBW102',
    d: 4,
    e: 0,
    f: sysFlag,
    g: Date.now(),
    h: 0,
    i: encodeProperties(props),
    j: 2,
    k: false,
    l: 2,
  };
  const r = await raw.invoke(addr, createRequest(RequestCode.SEND_MESSAGE_V2, fields, body), 5000);
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  return r.extFields?.['msgId'] as string;
}

test('resend by offsetMsgId: a fresh copy in %RETRY%<group> that keeps what the consumer sees', async () => {
  const group = 'dlq_unit';
  const body = deflateSync(Buffer.from('z'.repeat(5000)));
  const dlqOffsetMsgId = await deadLetter(
    group,
    {
      [Prop.uniqKey]: 'AABBCCDDEEFF00112233445566778899',
      [Prop.retryTopic]: 'OrigTopic',
      [Prop.originMessageId]: 'C0A8000100002A9F0000000000000ABC',
      [Prop.tags]: 'TagA',
      [Prop.delayLevel]: '5',
      [Prop.realTopic]: 'OrigTopic',
      [Prop.maxReconsumeTimes]: '2',
      user: 'kept',
    },
    body,
    1,
  );
  await waitFor(
    async () => (await admin.topicRoute('%DLQ%dlq_unit').catch(() => undefined)) !== undefined,
    'DLQ route',
  );
  const [resent] = await admin.resendFromDlq(group, { msgId: dlqOffsetMsgId });
  assert.equal(resent?.msgId, 'AABBCCDDEEFF00112233445566778899');
  assert.equal(resent?.topic, 'OrigTopic');
  assert.equal(resent?.dlqOffsetMsgId, dlqOffsetMsgId);
  assert.equal(resent?.brokerName, 'broker-a');

  const addr = (cluster.brokers[0] as { brokerAddr: string }).brokerAddr;
  const [copy] = (await admin.pull(addr, '%RETRY%dlq_unit', 0, 0)).messages;
  assert.ok(copy !== undefined, 'the copy is in the retry topic');
  assert.equal(copy.offsetMsgId, resent?.retryOffsetMsgId);
  assert.equal(copy.reconsumeTimes, 0);
  assert.equal(copy.sysFlag & 1, 1, 'still compressed');
  assert.deepEqual(copy.body, body);
  assert.deepEqual(Object.fromEntries(copy.properties), {
    ...Object.fromEntries(copy.properties),
    [Prop.uniqKey]: 'AABBCCDDEEFF00112233445566778899',
    [Prop.retryTopic]: 'OrigTopic',
    [Prop.originMessageId]: 'C0A8000100002A9F0000000000000ABC',
    [Prop.tags]: 'TagA',
    user: 'kept',
  });
  for (const gone of [Prop.delayLevel, Prop.realTopic, Prop.maxReconsumeTimes]) {
    assert.equal(copy.properties.has(gone), false, `${gone} dropped`);
  }

  // By client msgId (QUERY_MESSAGE on the DLQ topic) it is found too.
  const byId = await admin.resendFromDlq(group, { msgId: 'AABBCCDDEEFF00112233445566778899' });
  assert.equal(byId[0]?.dlqOffsetMsgId, dlqOffsetMsgId);
  // A message of another topic is not resent as a DLQ message.
  await assert.rejects(admin.resendFromDlq(group, { msgId: copy.offsetMsgId }), DlqMessageNotFoundError);
  await assert.rejects(admin.resendFromDlq('bad group!', {}), /group/i);
});
