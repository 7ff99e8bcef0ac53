/** startEmbedded(): an in-process NameServer + Broker for users' tests, imported from the package entry. */
import assert from 'node:assert/strict';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { setLogLevel } from '../../src/common/log.js';
import { ConsumeFromWhere, Producer, PushConsumer, startEmbedded } from '../../src/index.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { waitUntil } from './procs.js';

setLogLevel('error');

/** The broker's storePathRootDir, from GET_BROKER_CONFIG. */
async function storePathRootDir(brokerAddr: string): Promise<string> {
  const client = new RemotingClient();
  try {
    const r = await client.invoke(brokerAddr, createRequest(RequestCode.GET_BROKER_CONFIG, {}), 5000);
    const m = /^storePathRootDir=(.*)$/m.exec(r.body?.toString() ?? '');
    if (m === null) throw new Error(`no storePathRootDir in the broker config (code ${r.code})`);
    return m[1] as string;
  } finally {
    await client.close();
  }
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

test('startEmbedded: send and consume through it; its temp data dir is removed on close', async () => {
  const mq = await startEmbedded();
  assert.match(mq.nameServer, /^127\.0\.0\.1:\d+$/);
  assert.match(mq.brokerAddr, /^127\.0\.0\.1:\d+$/);
  assert.notEqual(mq.nameServer, mq.brokerAddr);
  const brokerRoot = await storePathRootDir(mq.brokerAddr);
  assert.ok(
    brokerRoot.startsWith(join(tmpdir(), 'tsrocket-embedded-')),
    `broker files under a temp dir: ${brokerRoot}`,
  );
  const dataDir = dirname(brokerRoot);
  assert.ok(await exists(dataDir));

  const producer = new Producer({ nameServer: mq.nameServer, group: 'PID_embedded', clientIp: '127.0.0.1' });
  const consumer = new PushConsumer({
    nameServer: mq.nameServer,
    group: 'GID_embedded',
    clientIp: '127.0.0.1',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  const got = new Map<string, string>();
  try {
    await producer.start();
    const sent = new Map<string, string>();
    // A new topic: auto-created by the embedded broker on first send.
    for (let i = 0; i < 20; i++) {
      const body = `embedded ${i}`;
      const r = await producer.send({ topic: 'EmbeddedTopic', body, tags: 'TagA' });
      sent.set(r.msgId, body);
    }
    consumer.subscribe('EmbeddedTopic', 'TagA').onMessage((msg) => {
      got.set(msg.msgId, msg.body.toString());
    });
    await consumer.start();
    await waitUntil(() => got.size >= sent.size, 'all 20 consumed', 15_000);
    assert.deepEqual(got, sent);
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
    await mq.close();
  }
  assert.equal(await exists(dataDir), false, 'temp data dir removed on close');
  await mq.close(); // idempotent
});

test('startEmbedded: a given data dir is kept, and a restart on it keeps the messages', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tsrocket-it-embedded-own-'));
  try {
    const first = await startEmbedded({
      dataDir,
      brokerConfig: { brokerName: 'broker-embedded' },
      storeConfig: { flushDiskType: 'SYNC_FLUSH' },
    });
    const producer = new Producer({ nameServer: first.nameServer, group: 'PID_embedded_own', clientIp: '127.0.0.1' });
    let msgId = '';
    try {
      await producer.start();
      msgId = (await producer.send({ topic: 'EmbeddedKept', body: 'kept' })).msgId;
    } finally {
      await producer.shutdown();
      await first.close();
    }
    assert.ok(await exists(join(dataDir, 'broker')), 'the broker files stay in the given dir');

    const second = await startEmbedded({ dataDir, brokerConfig: { brokerName: 'broker-embedded' } });
    const consumer = new PushConsumer({
      nameServer: second.nameServer,
      group: 'GID_embedded_own',
      clientIp: '127.0.0.1',
      consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    });
    const got: string[] = [];
    try {
      consumer.subscribe('EmbeddedKept', '*').onMessage((msg) => {
        got.push(msg.msgId);
      });
      await consumer.start();
      await waitUntil(() => got.length > 0, 'the kept message consumed', 15_000);
      assert.deepEqual(got, [msgId]);
    } finally {
      await consumer.shutdown();
      await second.close();
    }
    assert.ok(await exists(dataDir), 'a given data dir is not removed');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
