/**
 * SQL92 subscriptions over a real `tsrocket start` (enablePropertyFilter on by default): a PushConsumer and a
 * PullConsumer with `{ sql }` receive exactly the messages whose properties match, and a bad expression is refused
 * when the consumer starts or subscribes, with the position, as a SubscriptionRefusedError.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SubscriptionRefusedError } from '../../src/client/errors.js';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PullConsumer } from '../../src/client/pull-consumer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { createTopic, type Server, startServer, stopAll, tempDir, waitUntil } from './procs.js';

const topic = 'SqlIt';
const count = 600;
const sql = "region = 'eu' AND price BETWEEN 100 AND 199 OR TAGS = 'vip'";
let server: Server;
let cleanup: () => Promise<void>;
/** UNIQ_KEY of every message the expression selects, computed here from what was sent. */
const expected = new Set<string>();

const regionOf = (i: number) => ['eu', 'us', 'ap'][i % 3] as string;
const priceOf = (i: number) => (i * 7) % 400;
const tagOf = (i: number) => (i % 50 === 0 ? 'vip' : 'plain');

before(async () => {
  const t = await tempDir('sql92');
  cleanup = t.cleanup;
  server = await startServer(join(t.dir, 'data'));
  await createTopic(server.nameServer, server.brokerAddr, topic, 2);
  const producer = new Producer({ nameServer: server.nameServer, group: 'sql_it_producer' });
  await producer.start();
  try {
    const sends = [];
    for (let i = 0; i < count; i++) {
      // Every 10th message has no price at all: a missing property is NULL, never a match by price.
      const properties: Record<string, string> = { region: regionOf(i) };
      if (i % 10 !== 3) properties['price'] = String(priceOf(i));
      sends.push(producer.send({ topic, body: `m${i}`, tags: tagOf(i), properties }));
    }
    const results = await Promise.all(sends);
    for (const [i, r] of results.entries()) {
      const price = i % 10 !== 3 ? priceOf(i) : undefined;
      const byPrice = regionOf(i) === 'eu' && price !== undefined && price >= 100 && price <= 199;
      if (byPrice || tagOf(i) === 'vip') expected.add(r.msgId);
    }
  } finally {
    await producer.shutdown();
  }
  assert.ok(expected.size > 20 && expected.size < count / 2, `a selective filter (${expected.size})`);
});

after(async () => {
  await stopAll();
  await cleanup?.();
});

test('a PushConsumer with a SQL92 selector receives exactly the matching messages', async () => {
  const got: string[] = [];
  const consumer = new PushConsumer({
    nameServer: server.nameServer,
    group: 'sql_it_push',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  consumer.subscribe(topic, { sql }).onMessage((msg) => {
    got.push(msg.msgId);
  });
  await consumer.start();
  try {
    await waitUntil(() => got.length >= expected.size, `${expected.size} matching messages`, 30_000);
    // Let anything that should not come have the chance to arrive.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(got.length, expected.size, 'no duplicates, nothing unmatched');
    assert.deepEqual(new Set(got), expected);
  } finally {
    await consumer.shutdown();
  }
});

test('a PullConsumer with a SQL92 selector polls exactly the matching messages', async () => {
  const consumer = new PullConsumer({ nameServer: server.nameServer, group: 'sql_it_pull' });
  await consumer.subscribe(topic, { sql });
  await consumer.start();
  try {
    const got: string[] = [];
    const deadline = Date.now() + 30_000;
    while (got.length < expected.size && Date.now() < deadline) {
      for (const m of await consumer.poll(1000)) got.push(m.msgId);
    }
    assert.deepEqual(new Set(got), expected);
    assert.equal(got.length, expected.size);
  } finally {
    await consumer.shutdown();
  }
});

test('a bad expression is refused at start (push) and at subscribe (pull, running) with its position', async () => {
  const push = new PushConsumer({ nameServer: server.nameServer, group: 'sql_it_bad_push' });
  push.subscribe(topic, { sql: "region = 'eu' AND price >" }).onMessage(() => undefined);
  await assert.rejects(push.start(), (e: unknown) => {
    assert.ok(e instanceof SubscriptionRefusedError, String(e));
    assert.equal(e.responseCode, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
    assert.equal(e.topic, topic);
    assert.match(e.message, /expected a value, found the end of the expression at line 1, column 26/);
    return true;
  });
  const pull = new PullConsumer({ nameServer: server.nameServer, group: 'sql_it_bad_pull' });
  await pull.subscribe(topic, { sql: "TAGS = 'vip'" });
  await pull.start();
  try {
    await assert.rejects(pull.subscribe(topic, { sql: 'price > > 1' }), (e: unknown) => {
      assert.ok(e instanceof SubscriptionRefusedError, String(e));
      assert.match(e.message, /at line 1, column 9/);
      return true;
    });
  } finally {
    await pull.shutdown();
  }
  const before = new PullConsumer({ nameServer: server.nameServer, group: 'sql_it_bad_pull2' });
  await before.subscribe(topic, { sql: 'price IN (1, 2)' });
  await assert.rejects(before.start(), SubscriptionRefusedError);
});
