// biome-ignore-all lint/suspicious/noExplicitAny: assertions read the CLI's parsed --json output
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Broker } from '../../src/broker/broker.js';
import { runAdmin } from '../../src/cli/admin/index.js';
import { setLogLevel } from '../../src/common/log.js';
import { NameServer } from '../../src/namesrv/namesrv.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { createRequest } from '../../src/remoting/command.js';
import { defaultStoreConfig } from '../../src/store/config.js';

const cluster = 'AdminE2ECluster';
const brokerName = 'broker-admin-e2e';
const topic = 'AdminE2ETopic';
const waitMsMax = 15_000;

let ns: NameServer;
let broker: Broker;
let dir: string;
let nsAddr: string;
let brokerAddr: string;

async function admin(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin([...argv, '-n', nsAddr], { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function adminJson(...argv: string[]): Promise<any> {
  const r = await admin(...argv, '--json');
  assert.equal(r.code, 0, `${argv.join(' ')} failed: ${r.err}`);
  return JSON.parse(r.out);
}

/** Polls `check` until it returns a value (registration with the NameServer is asynchronous). */
async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + waitMsMax;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  setLogLevel('warn');
  dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-admin-'));
  ns = new NameServer({ listenPort: 0, bindAddress: '127.0.0.1' });
  await ns.start();
  nsAddr = `127.0.0.1:${ns.port}`;
  const store = { ...defaultStoreConfig(path.join(dir, 'store')), mappedFileSizeCommitLog: 4 * 1024 * 1024 };
  broker = new Broker(
    {
      brokerClusterName: cluster,
      brokerName,
      listenPort: 0,
      namesrvAddr: nsAddr,
      brokerIP1: '127.0.0.1',
      listenHost: '127.0.0.1',
      storePathRootDir: dir,
    },
    store,
  );
  await broker.start();
  brokerAddr = `127.0.0.1:${broker.port}`;
});

after(async () => {
  await broker?.close();
  await ns?.close();
  await rm(dir, { recursive: true, force: true });
});

test('admin end to end against an in-process NameServer and Broker', async (t) => {
  await t.test('clusterList and brokerStatus show the broker', async () => {
    const list = await eventually('broker registration', async () => {
      const j = await adminJson('clusterList');
      return j.brokers.length > 0 ? j : undefined;
    });
    assert.deepEqual(
      list.brokers.map((b: any) => [b.cluster, b.brokerName, b.brokerId, b.addr]),
      [[cluster, brokerName, 0, brokerAddr]],
    );
    const table = await admin('clusterList');
    assert.match(table.out, new RegExp(`${cluster}\\s+${brokerName}\\s+0\\s+${brokerAddr}`));
    const status = await adminJson('brokerStatus', '-b', brokerAddr);
    assert.equal(status.brokerAddr, brokerAddr);
    assert.ok(Object.keys(status.table).length > 0, 'runtime info has entries');
  });

  await t.test('updateTopic then topicList / topicRoute show it', async () => {
    const r = await admin('updateTopic', '-c', cluster, '-t', topic, '-r', '4', '-w', '4');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`create topic to ${brokerAddr} success`));
    const route = await eventually('topic route', async () => {
      const res = await admin('topicRoute', '-t', topic, '--json');
      return res.code === 0 ? JSON.parse(res.out) : undefined;
    });
    assert.deepEqual(
      route.queueDatas.map((q: any) => [q.brokerName, q.readQueueNums, q.writeQueueNums, q.perm]),
      [[brokerName, 4, 4, 6]],
    );
    assert.equal(route.brokerDatas[0].brokerAddrs['0'], brokerAddr);
    const { topics } = await adminJson('topicList');
    assert.ok(topics.includes(topic), `topicList has ${topic}: ${topics.join(',')}`);
  });

  let sent: any;
  await t.test('sendMessage then topicStatus shows max offset 1', async () => {
    sent = await adminJson('sendMessage', '-t', topic, '-p', 'hello admin', '-k', 'orderKey42', '-c', 'TagA');
    assert.equal(sent.status, 'SEND_OK');
    assert.match(sent.msgId, /^[0-9A-F]{32}$/);
    assert.match(sent.offsetMsgId, /^[0-9A-F]{32}$/);
    const status = await adminJson('topicStatus', '-t', topic);
    assert.equal(status.queues.length, 4);
    const q = status.queues.find((x: any) => x.queueId === sent.queueId);
    assert.equal(q.maxOffset, 1);
    assert.equal(
      status.queues.reduce((a: number, x: any) => a + x.maxOffset, 0),
      1,
    );
    const table = await admin('topicStatus', '-t', topic);
    assert.match(table.out, /#Broker Name\s+#QID\s+#Min Offset\s+#Max Offset/);
  });

  await t.test('queryMsgById finds it by offsetMsgId and by client msgId', async () => {
    // The stored record's offsetMsgId (the send answer's may be the client id on brokers that echo it).
    const stored = await eventually('key index', async () => {
      const r = await adminJson('queryMsgByKey', '-t', topic, '-k', 'orderKey42');
      return r.messages[0];
    });
    const byOffset = await adminJson('queryMsgById', '-i', stored.offsetMsgId);
    assert.equal(byOffset.messages[0].body, 'hello admin');
    assert.equal(byOffset.messages[0].tags, 'TagA');
    const byUniq = await eventually('uniq key index', async () => {
      const j = await adminJson('queryMsgById', '-i', sent.msgId, '-t', topic);
      return j.messages.length > 0 ? j : undefined;
    });
    assert.equal(byUniq.messages[0].offsetMsgId, stored.offsetMsgId);
    const human = await admin('queryMsgById', '-i', stored.offsetMsgId);
    assert.match(human.out, /Message Body\s*: hello admin/);
  });

  await t.test('queryMsgByKey finds it', async () => {
    const j = await eventually('key index', async () => {
      const r = await adminJson('queryMsgByKey', '-t', topic, '-k', 'orderKey42');
      return r.messages.length > 0 ? r : undefined;
    });
    assert.equal(j.messages.length, 1);
    assert.equal(j.messages[0].msgId, sent.msgId);
    const none = await adminJson('queryMsgByKey', '-t', topic, '-k', 'noSuchKey');
    assert.equal(none.messages.length, 0);
  });

  await t.test('consumeMessage prints it', async () => {
    const r = await admin('consumeMessage', '-t', topic);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /BODY: hello admin/);
    assert.match(r.out, /1 message\(s\) printed/);
    const j = await adminJson(
      'consumeMessage',
      '-t',
      topic,
      '-b',
      brokerName,
      '-i',
      String(sent.queueId),
      '-o',
      '0',
      '-c',
      '5',
    );
    assert.deepEqual(
      j.messages.map((m: any) => m.body),
      ['hello admin'],
    );
  });

  await t.test('consumerProgress shows broker offset, consumer offset and lag', async () => {
    const group = 'AdminE2EGroup';
    const client = new RemotingClient();
    try {
      for (let q = 0; q < 4; q++) {
        const resp = await client.invoke(
          brokerAddr,
          createRequest(15, { consumerGroup: group, topic, queueId: q, commitOffset: 0 }),
          5_000,
        );
        assert.equal(resp.code, 0, resp.remark);
      }
    } finally {
      await client.close();
    }
    const p = await adminJson('consumerProgress', '-g', group, '-t', topic);
    assert.equal(p.group, group);
    assert.equal(p.queues.length, 4);
    assert.equal(p.brokerOffsetTotal, 1);
    assert.equal(p.diffTotal, 1);
    const human = await admin('consumerProgress', '-g', group, '-t', topic);
    assert.match(human.out, /Consume Diff Total: 1/);
  });

  await t.test('server errors exit 1 with the code name; bad flags exit 2', async () => {
    const missing = await admin('topicRoute', '-t', 'NoSuchTopicHere');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /TOPIC_NOT_EXIST \(17\)/);
    assert.equal((await admin('topicStatus')).code, 2);
    assert.equal((await admin('queryMsgByKey', '-t', topic)).code, 2);
    assert.equal((await admin('sendMessage', '-t', topic, '-p', 'x', '--bogus')).code, 2);
  });

  await t.test('deleteTopic removes it', async () => {
    const r = await admin('deleteTopic', '-c', cluster, '-t', topic);
    assert.equal(r.code, 0, r.err);
    const { topics } = await adminJson('topicList');
    assert.ok(!topics.includes(topic));
    const route = await admin('topicRoute', '-t', topic);
    assert.equal(route.code, 1);
  });
});
