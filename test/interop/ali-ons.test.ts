/**
 * Interop with the real RocketMQ 4.x client `ali-ons` against `tsrocket start` running as its own process:
 * ali-ons → ali-ons, our Producer → ali-ons consumer, ali-ons producer → our PushConsumer.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { cli, type RunningSystem, startSystem } from './system.js';

const run = promisify(execFile);
const driver = fileURLToPath(new URL('./ali-ons-driver.js', import.meta.url));

let system: RunningSystem;
let nameSrv: string;

before(async () => {
  system = await startSystem();
  nameSrv = system.nameSrv;
});

after(() => system?.stop());

async function createTopic(topic: string): Promise<void> {
  const { stdout } = await run(process.execPath, [
    cli,
    'admin',
    'updateTopic',
    '-n',
    nameSrv,
    '-c',
    'DefaultCluster',
    '-t',
    topic,
    '-r',
    '4',
    '-w',
    '4',
  ]);
  assert.match(stdout, /success/);
}

interface OnsSent {
  msgId: string;
  tag: string;
  key: string;
  body: string;
}
interface OnsReceived {
  msgId: string;
  tag: string;
  keys: string;
  body: string;
  uniqKey?: string;
}

async function onsProduce(topic: string, count: number): Promise<OnsSent[]> {
  const { stdout } = await run(process.execPath, [driver, 'produce', nameSrv, topic, String(count)], {
    timeout: 60_000,
  });
  return (JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { sent: OnsSent[] }).sent;
}

async function onsConsume(
  topic: string,
  group: string,
  tags: string,
  count: number,
  lingerMs = 0,
): Promise<OnsReceived[]> {
  const { stdout } = await run(
    process.execPath,
    [driver, 'consume', nameSrv, topic, group, tags, String(count), '40000', String(lingerMs)],
    {
      timeout: 60_000,
    },
  );
  return (JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { received: OnsReceived[] }).received;
}

test('ali-ons producer → ali-ons consumer with a tag filter; msgIds match', async () => {
  await createTopic('InteropOns');
  const sent = await onsProduce('InteropOns', 100);
  assert.equal(sent.length, 100);
  const received = await onsConsume('InteropOns', 'GID_interop_ons', 'TagA', 50);
  const expected = sent.filter((m) => m.tag === 'TagA');
  assert.equal(received.length, 50, 'every TagA message once, no TagB');
  assert.ok(received.every((m) => m.tag === 'TagA'));
  assert.deepEqual(new Set(received.map((m) => m.msgId)), new Set(expected.map((m) => m.msgId)));
  const byId = new Map(expected.map((m) => [m.msgId, m]));
  for (const m of received) {
    assert.equal(m.body, byId.get(m.msgId)?.body);
    assert.equal(m.keys, byId.get(m.msgId)?.key);
  }
});

test('ali-ons consumer with a tag filter commits offsets past filtered messages (lag 0)', async () => {
  await createTopic('InteropOnsLag');
  const producer = new Producer({ nameServer: nameSrv, group: 'PID_interop_lag', clientIp: '127.0.0.1' });
  await producer.start();
  const admin = new Admin({ nameServer: nameSrv });
  try {
    await producer.send({ topic: 'InteropOnsLag', body: 'a', tags: 'TagA' });
    for (let i = 0; i < 5; i++) await producer.send({ topic: 'InteropOnsLag', body: `b${i}`, tags: 'TagB' });
    // Lingers past one 1 s long poll: ali-ons moves a drained queue's offset on NO_NEW_MSG / NO_MATCHED_MSG.
    const received = await onsConsume('InteropOnsLag', 'GID_interop_lag', 'TagA', 1, 5000);
    assert.deepEqual(
      received.map((m) => m.body),
      ['a'],
    );
    const progress = await admin.consumerProgress('GID_interop_lag', 'InteropOnsLag');
    assert.equal(progress.brokerOffsetTotal, 6);
    assert.equal(progress.lagTotal, 0);
  } finally {
    await admin.close();
    await producer.shutdown();
  }
});

test('our Producer → ali-ons consumer', async () => {
  await createTopic('InteropOurs');
  const producer = new Producer({ nameServer: nameSrv, group: 'PID_interop_ours', clientIp: '127.0.0.1' });
  await producer.start();
  const sent: Array<{ msgId: string; offsetMsgId: string; body: string }> = [];
  try {
    for (let i = 0; i < 100; i++) {
      const body = `tsrocket message ${i}`;
      const tags = i % 2 === 0 ? 'TagA' : 'TagB';
      const r = await producer.send({ topic: 'InteropOurs', body, tags, keys: [`our-key-${i}`] });
      assert.ok(r !== undefined);
      if (tags === 'TagA') sent.push({ msgId: r.msgId, offsetMsgId: r.offsetMsgId, body });
    }
  } finally {
    await producer.shutdown();
  }
  const received = await onsConsume('InteropOurs', 'GID_interop_ours', 'TagA', 50);
  assert.equal(received.length, 50);
  // ali-ons reports the offsetMsgId as msgId (it decodes the stored record); our msgId travels as UNIQ_KEY.
  assert.deepEqual(new Set(received.map((m) => m.msgId)), new Set(sent.map((m) => m.offsetMsgId)));
  assert.deepEqual(new Set(received.map((m) => m.uniqKey)), new Set(sent.map((m) => m.msgId)));
});

test('ali-ons producer → our PushConsumer with a tag filter', async () => {
  await createTopic('InteropTheirs');
  const sent = await onsProduce('InteropTheirs', 100);
  const expected = sent.filter((m) => m.tag === 'TagB');
  const got = new Map<string, string>();
  const consumer = new PushConsumer({
    nameServer: nameSrv,
    group: 'GID_interop_theirs',
    clientIp: '127.0.0.1',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  });
  const all = new Promise<void>((resolve) => {
    consumer.subscribe('InteropTheirs', 'TagB').onMessage(async (msg) => {
      got.set(msg.msgId, msg.body.toString());
      if (got.size >= expected.length) resolve();
    });
  });
  await consumer.start();
  try {
    await Promise.race([
      all,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${got.size} of 50`)), 30_000).unref()),
    ]);
  } finally {
    await consumer.shutdown();
  }
  assert.deepEqual(new Set(got.keys()), new Set(expected.map((m) => m.msgId)));
  for (const m of expected) assert.equal(got.get(m.msgId), m.body);
});
