/** The SDK as a user meets it: JSON-safe send results, NameServer lists checked up front, a `logger` option. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InvalidArgumentError, Producer, PullConsumer, PushConsumer, SendStatus } from '../../src/index.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;

before(async () => {
  cluster = await startCluster(1);
});

after(async () => {
  await cluster.close();
});

test('a SendResult survives JSON.stringify, its queue offset as a decimal string', async () => {
  await cluster.createTopic('Sdk_Json', 2);
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_sdk_json' });
  await producer.start();
  try {
    const r = await producer.send({ topic: 'Sdk_Json', body: 'x' });
    assert.equal(r.status, SendStatus.SEND_OK);
    assert.equal(typeof r.queueOffset, 'bigint');
    const json = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
    assert.equal(json['queueOffset'], String(r.queueOffset));
    assert.equal(json['msgId'], r.msgId);
    assert.equal(json['offsetMsgId'], r.offsetMsgId);
    assert.deepEqual(json['messageQueue'], r.messageQueue);
    const batch = await Promise.all([1, 2, 3].map((i) => producer.send({ topic: 'Sdk_Json', body: `b${i}` })));
    assert.deepEqual(
      batch.map((b) => (JSON.parse(JSON.stringify(b)) as { queueOffset: string }).queueOffset),
      batch.map((b) => String(b.queueOffset)),
    );
  } finally {
    await producer.shutdown();
  }
});

test('NameServer addresses are checked when a client is constructed', () => {
  const clients = [
    (nameServer: string) => new Producer({ nameServer, group: 'pg_sdk_ns' }),
    (nameServer: string) => new PushConsumer({ nameServer, group: 'cg_sdk_ns' }),
    (nameServer: string) => new PullConsumer({ nameServer, group: 'cg_sdk_ns' }),
  ];
  for (const make of clients) {
    assert.throws(
      () => make('localhost'),
      (err: unknown) =>
        err instanceof InvalidArgumentError && /'localhost'.*host:port.*localhost:9876/.test(err.message),
    );
    assert.throws(() => make(''), InvalidArgumentError);
    assert.throws(() => make('127.0.0.1:9876;localhost:99999'), /port out of range/);
    assert.throws(() => make('http://127.0.0.1:9876'), InvalidArgumentError);
    make('10.0.0.1:9876;10.0.0.2:9876');
    make('localhost:9876; [::1]:9876');
  }
});

test('a logger option receives the client log lines with their component', async () => {
  await cluster.createTopic('Sdk_Logger', 1);
  const lines: Array<{ level: string; msg: string; fields: Record<string, unknown> | undefined }> = [];
  const record = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, fields });
  };
  const logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_sdk_logger' });
  await producer.start();
  let calls = 0;
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_sdk_logger',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    logger,
  });
  consumer.subscribe('Sdk_Logger').onMessage(() => {
    calls++;
    if (calls === 1) throw new Error('first attempt fails');
  });
  try {
    await consumer.start();
    await producer.send({ topic: 'Sdk_Logger', body: 'log me' });
    await waitFor(() => lines.some((l) => l.msg.includes('handler threw')), 'handler failure logged');
    const line = lines.find((l) => l.msg.includes('handler threw'));
    assert.equal(line?.level, 'warn');
    assert.equal(line?.fields?.['component'], 'client.consume');
    assert.ok(line?.fields?.['err'] instanceof Error);
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
  }
});
