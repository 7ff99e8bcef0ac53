import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Producer, PushConsumer, type ReceivedMessage } from '../../src/client/index.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;
let producer: Producer;

before(async () => {
  cluster = await startCluster(1);
  producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_group' });
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await cluster.close();
});

test('two push consumers of one group split 8 queues and consume every message once', async () => {
  await cluster.createTopic('E2E_Split', 8);
  const seen = new Map<string, string[]>();
  const make = (name: string) => {
    const c = new PushConsumer({
      nameServer: cluster.nameServer,
      group: 'cg_split',
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    });
    c.subscribe('E2E_Split', '*').onMessage((msg) => {
      const who = seen.get(msg.msgId) ?? [];
      who.push(name);
      seen.set(msg.msgId, who);
    });
    return c;
  };
  const c1 = make('c1');
  const c2 = make('c2');
  await c1.start();
  await c2.start();
  try {
    const split = () => c1.assignedQueues().filter((q) => q.topic === 'E2E_Split').length;
    const split2 = () => c2.assignedQueues().filter((q) => q.topic === 'E2E_Split').length;
    await waitFor(() => split() === 4 && split2() === 4, 'the 8 queues split 4/4');
    const ids = new Set(c1.assignedQueues().map((q) => `${q.topic}:${q.queueId}`));
    for (const q of c2.assignedQueues()) assert.ok(!ids.has(`${q.topic}:${q.queueId}`), 'no queue owned twice');
    const sent: string[] = [];
    for (let i = 0; i < 80; i++) sent.push((await producer.send({ topic: 'E2E_Split', body: `m${i}` })).msgId);
    await waitFor(() => sent.every((id) => seen.has(id)), 'all 80 messages consumed');
    await new Promise((r) => setTimeout(r, 200));
    for (const id of sent) assert.equal(seen.get(id)?.length, 1, `message ${id} consumed once`);
    const byC1 = [...seen.values()].filter((w) => w[0] === 'c1').length;
    assert.ok(byC1 > 0 && byC1 < 80, `both members consumed (c1 took ${byC1})`);
  } finally {
    await c1.shutdown();
    await c2.shutdown();
  }
});

test('broadcasting delivers every message to both members and keeps offsets in a local file', async () => {
  await cluster.createTopic('E2E_Broadcast', 4);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-offsets-'));
  const got = { a: [] as string[], b: [] as string[] };
  const make = (name: 'a' | 'b') =>
    new PushConsumer({
      nameServer: cluster.nameServer,
      group: 'cg_broadcast',
      instanceName: `bc-${name}`,
      messageModel: 'BROADCASTING',
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      offsetStoreDir: dir,
      persistOffsetIntervalMs: 100,
    })
      .subscribe('E2E_Broadcast', '*')
      .onMessage((m) => {
        got[name].push(m.body.toString());
      });
  const a = make('a');
  const b = make('b');
  await a.start();
  await b.start();
  try {
    await waitFor(() => a.assignedQueues().length === 4 && b.assignedQueues().length === 4, 'both own all 4 queues');
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'E2E_Broadcast', body: `b${i}` });
    await waitFor(() => got.a.length >= 10 && got.b.length >= 10, 'both received 10');
    assert.deepEqual([...got.a].sort(), [...got.b].sort());
    assert.equal(got.a.length, 10);
  } finally {
    await a.shutdown();
    await b.shutdown();
  }
  const file = JSON.parse(await readFile(path.join(dir, 'bc-a', 'cg_broadcast', 'offsets.json'), 'utf8')) as {
    offsetTable: Record<string, { offset: string }>;
  };
  const total = Object.values(file.offsetTable).reduce((s, e) => s + Number(e.offset), 0);
  assert.equal(total, 10, 'the committed offsets cover all 10 messages');
  await rm(dir, { recursive: true, force: true });
});

test('a failing handler gets the message again through %RETRY% with reconsumeTimes 1', async () => {
  await cluster.createTopic('E2E_Retry', 2);
  const deliveries: ReceivedMessage[] = [];
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_retry',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  });
  consumer.subscribe('E2E_Retry', '*').onMessage((msg) => {
    deliveries.push(msg);
    if (msg.reconsumeTimes === 0) throw new Error('first delivery fails');
  });
  await consumer.start();
  try {
    assert.ok(
      consumer.assignedQueues().some((q) => q.topic === '%RETRY%cg_retry'),
      'subscribed to the retry topic',
    );
    const sent = await producer.send({ topic: 'E2E_Retry', body: 'again', tags: 'T1', keys: 'key-1' });
    await waitFor(() => deliveries.length >= 2, 'the redelivery', 30_000);
    const [firstTry, retry] = deliveries;
    assert.equal(firstTry?.reconsumeTimes, 0);
    assert.equal(retry?.reconsumeTimes, 1);
    assert.equal(retry?.msgId, sent.msgId);
    assert.equal(retry?.topic, 'E2E_Retry', 'the original topic, not %RETRY%');
    assert.equal(retry?.sourceTopic, '%RETRY%cg_retry');
    assert.equal(retry?.body.toString(), 'again');
    assert.equal(retry?.tags, 'T1');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(deliveries.length, 2, 'no third delivery after success');
  } finally {
    await consumer.shutdown();
  }
});

test('offsets are committed: a restarted member resumes after what it consumed', async () => {
  await cluster.createTopic('E2E_Resume', 2);
  const bodies: string[] = [];
  const make = () =>
    new PushConsumer({
      nameServer: cluster.nameServer,
      group: 'cg_resume',
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    })
      .subscribe('E2E_Resume', '*')
      .onMessage((m) => {
        bodies.push(m.body.toString());
      });
  const first = make();
  await first.start();
  for (let i = 0; i < 5; i++) await producer.send({ topic: 'E2E_Resume', body: `r${i}` });
  await waitFor(() => bodies.length >= 5, 'first 5');
  await first.shutdown();
  for (let i = 5; i < 8; i++) await producer.send({ topic: 'E2E_Resume', body: `r${i}` });
  const second = make();
  await second.start();
  try {
    await waitFor(() => bodies.length >= 8, 'the other 3');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual([...bodies].sort(), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
  } finally {
    await second.shutdown();
  }
});
