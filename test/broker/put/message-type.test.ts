/**
 * The message-type put hook: a typed topic refuses other types with MESSAGE_ILLEGAL naming both; an untyped topic
 * accepts everything; the type survives a restart (topics.json) and an update that does not name it.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { brokerConfigOf } from '../../../src/broker/config.js';
import { TopicConfigManager, topicConfigOf } from '../../../src/broker/metadata/topic-config.js';
import { messageTypeHook, messageTypeOf } from '../../../src/broker/put/message-type-hook.js';
import { type PutMessage, PutRefusal } from '../../../src/broker/put/types.js';
import { SysFlag } from '../../../src/common/message.js';
import { encodeProperties, Prop } from '../../../src/common/properties.js';
import { RequestCode, ResponseCode } from '../../../src/remoting/codes.js';
import { call, encodeBatchBody, sendV2, startHarness } from '../helpers.js';

function msg(topic: string, props: Record<string, string>, over: Partial<PutMessage> = {}): PutMessage {
  return {
    topic,
    queueId: 0,
    flag: 0,
    body: Buffer.from('x'),
    properties: encodeProperties(props),
    sysFlag: 0,
    bornTimestamp: 1n,
    bornHost: '127.0.0.1:1',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: 0n,
    ...over,
  };
}

test("a message's type follows RocketMQ 5's order: transaction, then delay, then sharding key, else normal", () => {
  assert.equal(messageTypeOf(msg('T', {})), 'NORMAL');
  assert.equal(messageTypeOf(msg('T', { [Prop.shardingKey]: 'k' })), 'FIFO');
  assert.equal(
    messageTypeOf(
      msg('T', { [Prop.shardingKey]: 'k' }, { properties: Buffer.from(encodeProperties({ [Prop.shardingKey]: 'k' })) }),
    ),
    'FIFO',
  );
  assert.equal(
    messageTypeOf(msg('T', { [Prop.shardingKey]: 'k', [Prop.delayLevel]: '3' }, { scheduled: true })),
    'DELAY',
  );
  assert.equal(
    messageTypeOf(msg('T', { [Prop.delayLevel]: '3' }, { scheduled: true, transactionPrepared: true })),
    'TRANSACTION',
  );
  assert.equal(messageTypeOf(msg('T', {}, { sysFlag: SysFlag.transactionPreparedType })), 'TRANSACTION');
  assert.equal(messageTypeOf(msg('T', {}, { sysFlag: SysFlag.transactionCommitType })), 'TRANSACTION');
  // A value that merely contains the name is not a sharding key.
  assert.equal(messageTypeOf(msg('T', { [Prop.keys]: Prop.shardingKey })), 'NORMAL');
});

test('while no topic is typed the hook never reads the properties; a typed topic refuses a mismatch', () => {
  const topics = new TopicConfigManager(brokerConfigOf({ storePathRootDir: '/nonexistent', brokerName: 'b1' }));
  topics.upsert(topicConfigOf('Plain', 4));
  const hook = messageTypeHook(topics);
  const untouchable = msg('Plain', {});
  Object.defineProperty(untouchable, 'properties', {
    get() {
      throw new Error('properties read on an untyped broker');
    },
  });
  assert.equal(hook.beforePut(untouchable, { reconsumeTimes: 0, maxReconsumeTimes: undefined }), undefined);
  assert.equal(topics.typedTopicCount, 0);

  topics.upsert({ ...topicConfigOf('Fifo', 4), attributes: { 'message.type': 'FIFO' } });
  assert.equal(topics.typedTopicCount, 1);
  const req = { reconsumeTimes: 0, maxReconsumeTimes: undefined };
  assert.equal(hook.beforePut(msg('Fifo', { [Prop.shardingKey]: 'order-1' }), req), undefined);
  const refused = hook.beforePut(msg('Fifo', {}), req);
  assert.ok(refused instanceof PutRefusal);
  assert.equal(refused.code, ResponseCode.MESSAGE_ILLEGAL);
  assert.match(refused.remark, /topic\[Fifo\] accepts FIFO messages only; this message is NORMAL/);
  // Untyped topics stay open to every type, also with typed topics around.
  assert.equal(hook.beforePut(msg('Plain', {}, { transactionPrepared: true }), req), undefined);
  // Replacing and deleting keep the count right.
  topics.upsert(topicConfigOf('Fifo', 4));
  assert.equal(topics.typedTopicCount, 0);
  topics.upsert({ ...topicConfigOf('Fifo', 4), attributes: { 'message.type': 'DELAY' } });
  topics.delete('Fifo');
  assert.equal(topics.typedTopicCount, 0);
});

test('over TCP: create typed (17 with attributes), refuse a mismatched send and batch, keep the type across update and restart', async () => {
  const h = await startHarness();
  try {
    const create = (fields: Record<string, string>) =>
      call(h, RequestCode.UPDATE_AND_CREATE_TOPIC, {
        topic: 'TF',
        readQueueNums: 2,
        writeQueueNums: 2,
        perm: 6,
        ...fields,
      });
    assert.equal((await create({ attributes: '+message.type=FIFO' })).code, ResponseCode.SUCCESS);
    const ok = await sendV2(h, 'TF', 'fifo', { [Prop.shardingKey]: 'order-1' });
    assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark);
    const bad = await sendV2(h, 'TF', 'plain');
    assert.equal(bad.code, ResponseCode.MESSAGE_ILLEGAL);
    assert.match(bad.remark ?? '', /accepts FIFO messages only; this message is NORMAL/);
    const delayed = await sendV2(h, 'TF', 'later', { [Prop.delayLevel]: '2' });
    assert.match(delayed.remark ?? '', /this message is DELAY/);
    const batch = await call(
      h,
      RequestCode.SEND_BATCH_MESSAGE,
      { a: 'pg', b: 'TF', c: 'TBW102', d: 4, e: 0, f: 0, g: Date.now(), h: 0, i: '', j: 0, k: false, m: true },
      encodeBatchBody([
        { body: Buffer.from('a'), flag: 0, properties: encodeProperties({ [Prop.shardingKey]: 'o' }) },
        { body: Buffer.from('b'), flag: 0, properties: '' },
      ]),
    );
    assert.equal(batch.code, ResponseCode.MESSAGE_ILLEGAL, batch.remark);
    assert.equal(h.store.getMaxOffsetInQueue('TF', 0), 1n, 'only the FIFO message was stored');

    // An update without attributes (a 4.x admin) keeps the type; a bad attribute is refused.
    assert.equal((await create({ readQueueNums: '4', writeQueueNums: '4' })).code, ResponseCode.SUCCESS);
    const wrong = await create({ attributes: '+message.type=ORDERED' });
    assert.equal(wrong.code, ResponseCode.INVALID_PARAMETER);
    assert.match(wrong.remark ?? '', /'ORDERED' is not one of/);
    await h.broker.topics.persist();
    await h.restart();
    assert.deepEqual(h.broker.topics.get('TF')?.attributes, { 'message.type': 'FIFO' });
    assert.equal((await sendV2(h, 'TF', 'plain')).code, ResponseCode.MESSAGE_ILLEGAL);
    const all = await call(h, RequestCode.GET_ALL_TOPIC_CONFIG, {});
    assert.deepEqual(JSON.parse(String(all.body)).topicConfigTable.TF.attributes, { 'message.type': 'FIFO' });

    // Untyped again: every type is accepted.
    assert.equal((await create({ attributes: '-message.type' })).code, ResponseCode.SUCCESS);
    assert.equal(h.broker.topics.get('TF')?.attributes, undefined);
    const plain = await sendV2(h, 'TF', 'plain');
    assert.equal(plain.code, ResponseCode.SUCCESS, plain.remark);
  } finally {
    await h.close();
  }
});

test('topics.json with a malformed or unknown message.type loads as untyped (every type accepted), a known one as typed', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-types-'));
  try {
    await mkdir(path.join(dir, 'config'));
    const table = {
      Garbage: { ...topicConfigOf('Garbage', 1), attributes: 'message.type=FIFO' },
      Unknown: { ...topicConfigOf('Unknown', 1), attributes: { 'message.type': 'PRIORITY' } },
      Typed: { ...topicConfigOf('Typed', 1), attributes: { 'message.type': 'DELAY' } },
    };
    await writeFile(path.join(dir, 'config', 'topics.json'), JSON.stringify({ topicConfigTable: table }));
    const topics = new TopicConfigManager(brokerConfigOf({ storePathRootDir: dir, brokerName: 'b1' }));
    await topics.load();
    assert.equal(topics.typedTopicCount, 1);
    const hook = messageTypeHook(topics);
    const req = { reconsumeTimes: 0, maxReconsumeTimes: undefined };
    assert.equal(hook.beforePut(msg('Garbage', {}), req), undefined);
    assert.equal(hook.beforePut(msg('Unknown', {}), req), undefined);
    assert.ok(hook.beforePut(msg('Typed', {}), req) instanceof PutRefusal);
    assert.equal(topics.get('Garbage')?.attributes, undefined, 'a non-map attributes value is dropped at load');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
