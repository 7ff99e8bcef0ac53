/**
 * Producer de-duplication over TCP (topic attribute dedup.window.ms): a resend of a stored UNIQ_KEY is answered
 * with the first result and not stored; concurrent duplicates; batches with some duplicates; a delayed message
 * keyed by its real topic; the table rebuilt by a restart; topics without the attribute untouched.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encodeProperties } from '../../src/common/properties.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { call, createTopic, eventually, type Harness, sendBatch, sendV2, sleep, startHarness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness();
  await createTopic(h, 'PLAIN', 1);
  await setAttributes('DD', '+dedup.window.ms=600000', 2);
});
after(() => h.close());

async function setAttributes(topic: string, attributes: string, queues = 1): Promise<RemotingCommand> {
  return call(h, RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic,
    readQueueNums: queues,
    writeQueueNums: queues,
    perm: 6,
    attributes,
  });
}

const answerOf = (r: RemotingCommand) => ({
  code: r.code,
  msgId: r.extFields?.['msgId'],
  queueId: r.extFields?.['queueId'],
  queueOffset: r.extFields?.['queueOffset'],
});

const stored = (topic: string, queues = [0, 1]) =>
  queues.reduce((n, q) => n + Number(h.store.getMaxOffsetInQueue(topic, q)), 0);

test('a bad dedup.window.ms is refused when the topic is created, naming the range', async () => {
  const r = await setAttributes('DDBAD', '+dedup.window.ms=5');
  assert.notEqual(r.code, ResponseCode.SUCCESS);
  assert.match(r.remark ?? '', /dedup\.window\.ms '5'.*1000\.\.86400000/);
});

test('a resend of a stored UNIQ_KEY (even to another queue) is answered with the first result, stored once', async () => {
  const before = stored('DD');
  const first = await sendV2(h, 'DD', 'one', { UNIQ_KEY: 'K-ONE' }, 0);
  assert.equal(first.code, ResponseCode.SUCCESS, first.remark);
  const again = await sendV2(h, 'DD', 'one', { UNIQ_KEY: 'K-ONE' }, 1);
  assert.deepEqual(answerOf(again), answerOf(first));
  assert.equal(stored('DD'), before + 1);
  const other = await sendV2(h, 'DD', 'two', { UNIQ_KEY: 'K-TWO' }, 0);
  assert.notEqual(answerOf(other).msgId, answerOf(first).msgId);
  assert.equal(stored('DD'), before + 2);
});

test('concurrent duplicates (sent before the first put ends) are stored once and all get its answer', async () => {
  const before = stored('DD');
  const rs = await Promise.all(
    Array.from({ length: 30 }, (_, i) => sendV2(h, 'DD', 'c', { UNIQ_KEY: 'K-CONC' }, i % 2)),
  );
  const answers = new Set(rs.map((r) => JSON.stringify(answerOf(r))));
  assert.equal(answers.size, 1, [...answers].join('\n'));
  assert.equal(rs[0]?.code, ResponseCode.SUCCESS);
  assert.equal(stored('DD'), before + 1);
});

function sendKeyed(topic: string, keys: string[], queueId = 0) {
  const items = keys.map((k, i) => ({
    flag: 0,
    body: Buffer.from(`b${i}`),
    properties: encodeProperties({ UNIQ_KEY: k }),
  }));
  return sendBatch(h, topic, items, queueId);
}

test('a batch with some known keys stores only the new ones; its answer lists every offsetMsgId in order', async () => {
  const known = await sendV2(h, 'DD', 'k', { UNIQ_KEY: 'K-B1' }, 0);
  const before = stored('DD');
  const r = await sendKeyed('DD', ['K-B1', 'K-B2', 'K-B2', 'K-B3'], 0);
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  assert.equal(stored('DD'), before + 2, 'K-B2 and K-B3 stored, K-B1 and the second K-B2 not');
  const ids = (r.extFields?.['msgId'] ?? '').split(',');
  assert.equal(ids.length, 4);
  assert.equal(ids[0], known.extFields?.['msgId']);
  assert.equal(ids[1], ids[2]);
  assert.notEqual(ids[1], ids[3]);
  assert.equal(r.extFields?.['queueOffset'], String(h.store.getMaxOffsetInQueue('DD', 0) - 2n), 'K-B2 first stored');
  const all = await sendKeyed('DD', ['K-B3', 'K-B1'], 1);
  assert.equal(all.code, ResponseCode.SUCCESS);
  assert.equal(stored('DD'), before + 2, 'a batch of known keys stores nothing');
  assert.deepEqual(all.extFields?.['msgId'], `${ids[3]},${ids[0]}`);
});

test('a topic without the attribute stores every resend (the plain path)', async () => {
  const before = stored('PLAIN', [0]);
  const a = await sendV2(h, 'PLAIN', 'p', { UNIQ_KEY: 'K-PLAIN' });
  const b = await sendV2(h, 'PLAIN', 'p', { UNIQ_KEY: 'K-PLAIN' });
  assert.notEqual(answerOf(a).queueOffset, answerOf(b).queueOffset);
  assert.equal(stored('PLAIN', [0]), before + 2);
});

test('a delayed message is keyed by its real topic: the resend gets the first answer and one copy is delivered', async () => {
  const before = stored('DD');
  const first = await sendV2(h, 'DD', 'later', { UNIQ_KEY: 'K-DELAY', DELAY: '1' }, 0);
  assert.equal(first.code, ResponseCode.SUCCESS, first.remark);
  const again = await sendV2(h, 'DD', 'later', { UNIQ_KEY: 'K-DELAY', DELAY: '1' }, 0);
  assert.deepEqual(answerOf(again), answerOf(first));
  assert.ok(await eventually(() => stored('DD') === before + 1, 5000));
  await sleep(300);
  assert.equal(stored('DD'), before + 1, 'delivered once');
  // The delivered copy (same UNIQ_KEY, put by the delay service) did not count as a duplicate of its original.
  const after = await sendV2(h, 'DD', 'later', { UNIQ_KEY: 'K-DELAY', DELAY: '1' }, 0);
  assert.deepEqual(answerOf(after), answerOf(first));
});

test('the window ends: a resend after it is stored again', async () => {
  // A long window while the resend must be inside it (on a busy machine the two sends may be more than a second
  // apart), then the shortest (1 s, in force at once) and a resend more than 1 s after the first was stored.
  assert.equal((await setAttributes('DDSHORT', '+dedup.window.ms=600000')).code, ResponseCode.SUCCESS);
  const a = await sendV2(h, 'DDSHORT', 's', { UNIQ_KEY: 'K-SHORT' });
  const storedBy = Date.now();
  const b = await sendV2(h, 'DDSHORT', 's', { UNIQ_KEY: 'K-SHORT' });
  assert.deepEqual(answerOf(b), answerOf(a));
  assert.equal((await setAttributes('DDSHORT', '+dedup.window.ms=1000')).code, ResponseCode.SUCCESS);
  await sleep(Math.max(0, storedBy + 1001 - Date.now()));
  const c = await sendV2(h, 'DDSHORT', 's', { UNIQ_KEY: 'K-SHORT' });
  assert.equal(c.code, ResponseCode.SUCCESS);
  assert.notEqual(answerOf(c).queueOffset, answerOf(a).queueOffset);
  assert.equal(h.store.getMaxOffsetInQueue('DDSHORT', 0), 2n);
});

test('removing the attribute turns de-duplication off at once', async () => {
  await setAttributes('DDOFF', '+dedup.window.ms=600000');
  await sendV2(h, 'DDOFF', 'x', { UNIQ_KEY: 'K-OFF' });
  const r = await setAttributes('DDOFF', '-dedup.window.ms');
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  await sendV2(h, 'DDOFF', 'x', { UNIQ_KEY: 'K-OFF' });
  assert.equal(h.store.getMaxOffsetInQueue('DDOFF', 0), 2n);
});

test('a restart rebuilds the table from the store: resends after it are answered with the first results', async () => {
  const first = await sendV2(h, 'DD', 'r', { UNIQ_KEY: 'K-RESTART' }, 1);
  const before = stored('DD');
  const delayed = await sendV2(h, 'DD', 'r', { UNIQ_KEY: 'K-RESTART-D', DELAY: '1' }, 0);
  // Delivered to DD under the same UNIQ_KEY: the rebuild keeps the first answer (SCHEDULE_TOPIC_XXXX's).
  assert.ok(await eventually(() => stored('DD') === before + 1, 5000));
  await h.restart();
  const again = await sendV2(h, 'DD', 'r', { UNIQ_KEY: 'K-RESTART' }, 0);
  assert.deepEqual(answerOf(again), answerOf(first));
  const one = await sendV2(h, 'DD', 'one', { UNIQ_KEY: 'K-ONE' }, 0);
  assert.equal(one.code, ResponseCode.SUCCESS);
  const delayedAgain = await sendV2(h, 'DD', 'r', { UNIQ_KEY: 'K-RESTART-D', DELAY: '1' }, 0);
  assert.deepEqual(answerOf(delayedAgain), answerOf(delayed));
  await sleep(300);
  assert.equal(stored('DD'), before + 1);
  const status = await call(h, RequestCode.GET_BROKER_RUNTIME_INFO, {});
  const table = JSON.parse(status.body?.toString() ?? '{}').table as Record<string, string>;
  assert.ok(Number(table['dedupRebuiltKeys']) >= 8, JSON.stringify(table));
  assert.ok(Number(table['dedupDuplicates']) >= 3);
});

test('a prepared (half) message resent is answered with its first half offset and the queue it was sent to', async () => {
  const half = () => h.store.getMaxOffsetInQueue('RMQ_SYS_TRANS_HALF_TOPIC', 0);
  const before = half();
  const first = await sendV2(h, 'DD', 'tx', { UNIQ_KEY: 'K-TX', TRAN_MSG: 'true', PGROUP: 'pg' }, 1);
  assert.equal(first.code, ResponseCode.SUCCESS, first.remark);
  assert.equal(answerOf(first).queueId, '1');
  const again = await sendV2(h, 'DD', 'tx', { UNIQ_KEY: 'K-TX', TRAN_MSG: 'true', PGROUP: 'pg' }, 0);
  assert.deepEqual(answerOf(again), answerOf(first));
  assert.equal(half(), before + 1n);
});

test('messages without UNIQ_KEY on a de-duplicated topic are each stored', async () => {
  const before = stored('DD');
  const a = await sendV2(h, 'DD', 'nokey', {}, 0);
  const b = await sendV2(h, 'DD', 'nokey', {}, 0);
  assert.equal(a.code, ResponseCode.SUCCESS);
  assert.notEqual(answerOf(a).queueOffset, answerOf(b).queueOffset);
  assert.equal(stored('DD'), before + 2);
});

test('a refused first send leaves its key free: a concurrent duplicate is judged itself, a later good send is stored', async () => {
  const before = stored('DD');
  const bad = await Promise.all([
    sendV2(h, 'DD', 'x', { UNIQ_KEY: 'K-REFUSED', DELAY: 'soon' }, 0),
    sendV2(h, 'DD', 'x', { UNIQ_KEY: 'K-REFUSED', DELAY: 'soon' }, 0),
  ]);
  assert.deepEqual(
    bad.map((r) => r.code),
    [ResponseCode.MESSAGE_ILLEGAL, ResponseCode.MESSAGE_ILLEGAL],
  );
  const good = await sendV2(h, 'DD', 'x', { UNIQ_KEY: 'K-REFUSED' }, 0);
  assert.equal(good.code, ResponseCode.SUCCESS, good.remark);
  assert.equal(stored('DD'), before + 1);
});
