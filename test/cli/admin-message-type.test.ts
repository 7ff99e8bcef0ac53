// biome-ignore-all lint/suspicious/noExplicitAny: assertions read the CLI's parsed --json output
/** `tsrocket admin updateTopic -m/-a` types a topic; topicRoute shows the type; the Admin API reads it back. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runAdmin } from '../../src/cli/admin/index.js';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer } from '../../src/client/producer.js';
import { Prop } from '../../src/common/properties.js';
import { RemotingResponseError } from '../../src/remoting/errors.js';
import { startCluster, type TestCluster } from '../client/cluster.js';

let cluster: TestCluster;

before(async () => {
  cluster = await startCluster(1);
});
after(async () => {
  await cluster.close();
});

async function admin(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin([...argv, '-n', cluster.nameServer], {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function routed(topic: string): Promise<void> {
  const a = new Admin({ nameServer: cluster.nameServer });
  try {
    for (let i = 0; i < 200; i++) {
      if ((await a.topicRoute(topic).catch(() => undefined)) !== undefined) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${topic} never routed`);
  } finally {
    await a.close();
  }
}

test('updateTopic -m FIFO types a topic: topicRoute shows it, a plain send is refused, -a=-message.type untypes it', async () => {
  const addr = (cluster.brokers[0] as { brokerAddr: string }).brokerAddr;
  const created = await admin('updateTopic', '-b', addr, '-t', 'TypedFifo', '-r', '2', '-w', '2', '-m', 'fifo');
  assert.equal(created.code, 0, created.err);
  await routed('TypedFifo');
  const route = await admin('topicRoute', '-t', 'TypedFifo');
  assert.match(route.out, /#MessageType/);
  assert.match(route.out, /broker-a\s+2\s+2\s+6\s+FIFO/);
  const json = JSON.parse((await admin('topicRoute', '-t', 'TypedFifo', '--json')).out) as any;
  assert.deepEqual(json.messageTypes, { 'broker-a': 'FIFO' });

  const producer = new Producer({ nameServer: cluster.nameServer, group: 'typed_producer' });
  await producer.start();
  try {
    // As a 5.x client sends a message group: the __SHARDINGKEY property.
    const ok = await producer.send({ topic: 'TypedFifo', body: 'in order', properties: { [Prop.shardingKey]: 'o7' } });
    assert.ok(ok.msgId);
    await assert.rejects(producer.send({ topic: 'TypedFifo', body: 'plain' }), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /accepts FIFO messages only; this message is NORMAL/);
      return true;
    });

    const untyped = await admin(
      'updateTopic',
      '-b',
      addr,
      '-t',
      'TypedFifo',
      '-r',
      '2',
      '-w',
      '2',
      '--attributes=-message.type',
    );
    assert.equal(untyped.code, 0, untyped.err);
    await producer.send({ topic: 'TypedFifo', body: 'plain now' });
  } finally {
    await producer.shutdown();
  }

  const bad = await admin('updateTopic', '-b', addr, '-t', 'TypedFifo', '-m', 'ORDERED');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--messageType must be NORMAL, FIFO, DELAY or TRANSACTION/);
  const unknown = await admin('updateTopic', '-b', addr, '-t', 'TypedFifo', '-a', '+queue.type=BCQ');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /'queue.type' is not supported/);

  const a = new Admin({ nameServer: cluster.nameServer });
  try {
    await a.createOrUpdateTopic({ brokerAddr: addr }, { topicName: 'TypedTx', messageType: 'TRANSACTION' });
    await routed('TypedTx');
    const [cfg] = await a.topicConfig('TypedTx');
    assert.deepEqual(cfg?.config.attributes, { 'message.type': 'TRANSACTION' });
    await assert.rejects(
      a.sendMessage('TypedTx', 'plain'),
      (e: unknown) => e instanceof RemotingResponseError && /accepts TRANSACTION messages only/.test(e.message),
    );
  } finally {
    await a.close();
  }
});
