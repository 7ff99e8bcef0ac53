/** PopService in-process, as the gRPC endpoint calls it: receipt handles, delivery attempts, SQL92, refusals. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { brokerConfigOf } from '../../../src/broker/config.js';
import { tagsCodeOf } from '../../../src/broker/filter/tag-filter.js';
import { TopicConfigManager, topicConfigOf } from '../../../src/broker/metadata/topic-config.js';
import type { BrokerPopService } from '../../../src/broker/pop/pop-service.js';
import type { PopRequest } from '../../../src/broker/pop/types.js';
import { encodeProperties } from '../../../src/common/properties.js';
import { ResponseCode } from '../../../src/remoting/codes.js';
import { createMessageStore, type MessageStore } from '../../../src/store/index.js';
import { popServiceOf, savesSettled } from './pop-service-of.js';

let dir: string;
let store: MessageStore;
let pop: BrokerPopService;
let topics: TopicConfigManager;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-pop-service-'));
  store = createMessageStore({ storePathRootDir: dir }, { kind: 'memory' });
  await store.start();
  const config = brokerConfigOf({ storePathRootDir: dir, enablePropertyFilter: true, reviveQueueNum: 2 });
  topics = new TopicConfigManager(config);
  topics.upsert(topicConfigOf('S1', 2));
  pop = popServiceOf(config, store, topics, dir);
  await pop.start();
});
after(async () => {
  pop.stop();
  await store.shutdown();
  // A group a pop auto-created (findOrCreate) is persisted in the background: waited for before the dir goes.
  await savesSettled(pop, topics);
  await rm(dir, { recursive: true, force: true, maxRetries: 5 });
});

async function put(body: string, props: Record<string, string>, queueId: number): Promise<void> {
  const r = await store.putMessage({
    topic: 'S1',
    queueId,
    flag: 0,
    body: Buffer.from(body),
    properties: encodeProperties(props),
    sysFlag: 0,
    bornTimestamp: BigInt(Date.now()),
    bornHost: '127.0.0.1:1',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: tagsCodeOf(props['TAGS']),
  });
  assert.equal(r.status, 'PUT_OK');
}

const req = (over: Partial<PopRequest> = {}): PopRequest => ({
  group: 'svc',
  topic: 'S1',
  queueId: -1,
  maxMessages: 32,
  invisibleTimeMs: 2000,
  pollTimeMs: 0,
  initMode: 'min',
  filter: { type: 'TAG', expression: '*' },
  fifo: false,
  ...over,
});

test('receipt handles (POP_CK + commitLogOffset) ack; changeInvisible hands a new one; revived attempts count', async () => {
  await put('h1', { TAGS: 'x', color: 'red' }, 0);
  await put('h2', { TAGS: 'y', color: 'blue' }, 1);
  const r = await pop.pop(req());
  assert.equal(r.status, 'found');
  assert.equal(r.messages.length, 2);
  for (const m of r.messages) {
    assert.equal(m.deliveryAttempt, 1);
    const f = m.handle.split(' ');
    assert.equal(f.length, 9);
    assert.equal(f[8], String(m.msg.commitLogOffset));
    assert.equal(m.msg.topic, 'S1');
  }
  const [a, b] = r.messages;
  assert.ok(a && b);
  assert.deepEqual(await pop.ack('svc', 'S1', a.handle), { status: 'ok' });
  assert.deepEqual(await pop.ack('svc', 'S1', a.handle), { status: 'expired' });
  const c = await pop.changeInvisible('svc', 'S1', b.handle, 1000);
  assert.equal(c.status, 'ok');
  assert.ok(c.status === 'ok' && c.handle !== b.handle && c.handle.split(' ').length === 9);
  assert.deepEqual(await pop.ack('svc', 'S1', b.handle), { status: 'expired' });
  // Not acked: back after its invisible time, from the retry topic, as the second attempt.
  await new Promise((res) => setTimeout(res, 1100));
  await pop.revive();
  const again = await pop.pop(req());
  assert.equal(again.status, 'found');
  assert.ok(again.status === 'found');
  assert.deepEqual(
    again.messages.map((m) => [
      m.msg.body.toString(),
      m.msg.topic,
      m.deliveryAttempt,
      m.msg.properties.get('RETRY_TOPIC'),
    ]),
    [['h2', 'S1', 2, 'S1']],
  );
  assert.deepEqual(await pop.ack('svc', 'S1', (again.messages[0] as (typeof again.messages)[0]).handle), {
    status: 'ok',
  });
});

test('SQL92 filter on properties; refusals name the problem', async () => {
  await put('s-red', { color: 'red' }, 0);
  await put('s-blue', { color: 'blue' }, 1);
  const r = await pop.pop(req({ group: 'sql', filter: { type: 'SQL92', expression: "color = 'blue'" } }));
  assert.ok(r.status === 'found');
  assert.deepEqual(
    r.messages.map((m) => m.msg.body.toString()),
    ['h2', 's-blue'].filter((b) => r.messages.some((m) => m.msg.body.toString() === b)),
  );
  assert.ok(r.messages.every((m) => m.msg.properties.get('color') === 'blue'));
  const bad = await pop.pop(req({ filter: { type: 'SQL92', expression: 'color = = 1' } }));
  assert.equal(bad.status, 'refused');
  assert.ok(bad.status === 'refused' && bad.code === ResponseCode.SUBSCRIPTION_PARSE_FAILED);
  for (const [over, code] of [
    [{ maxMessages: 0 }, ResponseCode.INVALID_PARAMETER],
    [{ invisibleTimeMs: 10 }, ResponseCode.INVALID_PARAMETER],
    [{ pollTimeMs: -1 }, ResponseCode.INVALID_PARAMETER],
    [{ topic: 'nope' }, ResponseCode.TOPIC_NOT_EXIST],
  ] as const) {
    const x = await pop.pop(req(over));
    assert.ok(x.status === 'refused' && x.code === code, JSON.stringify(over));
  }
  const badHandle = await pop.ack('svc', 'S1', 'not a handle');
  assert.ok(badHandle.status === 'refused' && badHandle.code === ResponseCode.INVALID_PARAMETER);
});

test('initMode max: a young queue is read from its first message (RocketMQ checks it is still in memory)', async () => {
  const r = await pop.pop(req({ group: 'fresh', initMode: 'max', queueId: 0 }));
  assert.ok(r.status === 'found');
  assert.equal(r.messages[0]?.msg.queueOffset, 0n);
});

test('an aborted long poll answers none at once', async () => {
  const ac = new AbortController();
  const started = Date.now();
  // A group that read queue 0 to its end (the test before): the poll waits.
  await pop.pop(req({ group: 'abort', queueId: 0 }));
  const waiting = pop.pop(req({ group: 'abort', queueId: 0, pollTimeMs: 10_000 }), ac.signal);
  setTimeout(() => ac.abort(), 100);
  const r = await waiting;
  assert.deepEqual(r, { status: 'none' });
  assert.ok(Date.now() - started < 5000);
});

test('stop answers held pops at once, and a pop after it does not wait', async () => {
  await pop.pop(req({ group: 'stop', queueId: 1 }));
  const started = Date.now();
  const held = pop.pop(req({ group: 'stop', queueId: 1, pollTimeMs: 10_000 }));
  setTimeout(() => pop.stop(), 100);
  assert.deepEqual(await held, { status: 'none' });
  assert.deepEqual(await pop.pop(req({ group: 'stop', queueId: 1, pollTimeMs: 10_000 })), { status: 'none' });
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
});
