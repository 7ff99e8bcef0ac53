/**
 * The push consumer's retry path, as RocketMQ's client: send-back (36) with delayLevel 0 and the group's
 * maxReconsumeTimes (-1 or unset = 16) in the header; when the broker refuses the send-back, the fallback send to
 * %RETRY%<group> (DELAY 3 + reconsumeTimes, RECONSUME_TIME / MAX_RECONSUME_TIMES moved into the send header,
 * ORIGIN_MESSAGE_ID, RETRY_TOPIC); the redelivery shows reconsumeTimes and the original topic and id.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import type { ReceivedMessage } from '../../src/client/received-message.js';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { Prop } from '../../src/common/properties.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import type { RemotingServer } from '../../src/remoting/server.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;
let producer: Producer;
/** Send-back (36) and send requests the broker saw, per group / topic. */
const sendBacks: Array<Record<string, string>> = [];
const retrySends: Array<Record<string, string>> = [];
let refuseSendBackFor: string | undefined;

before(async () => {
  cluster = await startCluster(1);
  // The broker's request hooks: watch the retry requests, and refuse send-backs of one group.
  const server = (cluster.brokers[0] as unknown as { server: RemotingServer }).server;
  server.addHook({
    name: 'test-retry-watch',
    before(req: RemotingCommand) {
      const f = req.extFields ?? {};
      if (req.code === RequestCode.CONSUMER_SEND_MSG_BACK) {
        sendBacks.push({ ...f });
        if (f['group'] === refuseSendBackFor) return createResponse(req, ResponseCode.SYSTEM_ERROR, 'refused by test');
      }
      const topic = f['b'] ?? f['topic'];
      if (req.code === RequestCode.SEND_MESSAGE_V2 && topic?.startsWith('%RETRY%') === true) retrySends.push({ ...f });
      return undefined;
    },
  });
  producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_push_retry' });
  await producer.start();
});
after(async () => {
  await producer.shutdown();
  await cluster.close();
});

async function failOnce(group: string, topic: string, maxReconsumeTimes: number | undefined) {
  const seen: ReceivedMessage[] = [];
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    maxReconsumeTimes,
    handler: (m) => {
      seen.push(m);
      if (m.reconsumeTimes === 0) throw new Error('first delivery fails');
    },
  }).subscribe(topic);
  await consumer.start();
  try {
    const sent = await producer.send({ topic, body: 'retry me', tags: 'TagR', properties: { user: 'kept' } });
    await waitFor(() => seen.length >= 2, 'the redelivery', 40_000);
    return { seen, sent };
  } finally {
    await consumer.shutdown();
  }
}

test('maxReconsumeTimes: unset and -1 send 16 (RocketMQ), a number is sent as is, a bad one is refused', async () => {
  const cases = [
    ['cg_max_unset', undefined, '16'],
    ['cg_max_minus1', -1, '16'],
    ['cg_max_3', 3, '3'],
  ] as const;
  // In parallel, so back-off waits (once delay levels apply them) overlap; a topic per group, as each consumer
  // starts from the first offset.
  for (const [group] of cases) await cluster.createTopic(`PR_${group}`, 1);
  const runs = await Promise.all(cases.map(([group, max]) => failOnce(group, `PR_${group}`, max)));
  for (const [i, [group, , expected]] of cases.entries()) {
    const { seen, sent } = runs[i] as Awaited<ReturnType<typeof failOnce>>;
    const back = sendBacks.filter((h) => h['group'] === group);
    assert.equal(back.length, 1, `${group}: one send-back`);
    assert.equal(back[0]?.['maxReconsumeTimes'], expected, group);
    assert.equal(back[0]?.['delayLevel'], '0', 'the broker picks the level (3 + reconsumeTimes)');
    assert.equal(seen[1]?.reconsumeTimes, 1, `${group}: redelivered, not dead-lettered`);
    assert.equal(seen[1]?.msgId, sent.msgId);
  }
  for (const bad of [-2, 1.5, Number.NaN]) {
    assert.throws(
      () => new PushConsumer({ nameServer: cluster.nameServer, group: 'cg_bad', maxReconsumeTimes: bad }),
      InvalidArgumentError,
    );
  }
});

test('a refused send-back falls back to a send to %RETRY%<group>; the redelivery keeps topic, id and properties', async () => {
  await cluster.createTopic('PR_Fallback', 1);
  refuseSendBackFor = 'cg_fallback';
  try {
    const { seen, sent } = await failOnce('cg_fallback', 'PR_Fallback', 5);
    assert.ok(
      sendBacks.some((h) => h['group'] === 'cg_fallback'),
      'the send-back was tried first',
    );
    const fallback = retrySends.filter((h) => h['b'] === '%RETRY%cg_fallback');
    assert.equal(fallback.length, 1, 'one fallback send');
    // RECONSUME_TIME / MAX_RECONSUME_TIMES travel in the header (j / l), not as properties.
    assert.equal(fallback[0]?.['j'], '1');
    assert.equal(fallback[0]?.['l'], '5');
    const props = fallback[0]?.['i'] ?? '';
    assert.match(props, new RegExp(`${Prop.delayLevel}\u00013\u0002`), 'DELAY = 3 + reconsumeTimes');
    assert.match(props, new RegExp(`${Prop.originMessageId}\u0001${sent.msgId}\u0002`));
    assert.match(props, new RegExp(`${Prop.retryTopic}\u0001PR_Fallback\u0002`));
    assert.doesNotMatch(props, new RegExp(`${Prop.reconsumeTime}\u0001|${Prop.maxReconsumeTimes}\u0001`));

    const retry = seen[1] as ReceivedMessage;
    assert.equal(retry.reconsumeTimes, 1);
    assert.equal(retry.topic, 'PR_Fallback', 'the original topic');
    assert.equal(retry.msgId, sent.msgId, 'the original msgId');
    assert.equal(retry.body.toString(), 'retry me');
    assert.equal(retry.tags, 'TagR');
    assert.equal(retry.properties.get('user'), 'kept');
  } finally {
    refuseSendBackFor = undefined;
  }
});
