import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { decodeRecords } from '../../src/common/record.js';
import { NameServer } from '../../src/namesrv/namesrv.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { call, createTopic, eventually, pull, sendV2, startHarness } from './helpers.js';

test('broker registers with every NameServer; a new topic appears in the route; close unregisters', async () => {
  const ns1 = new NameServer({ listenPort: 0, bindAddress: '127.0.0.1' });
  const ns2 = new NameServer({ listenPort: 0, bindAddress: '127.0.0.1' });
  await ns1.start();
  await ns2.start();
  const client = new RemotingClient();
  const route = async (ns: NameServer, topic: string) => {
    const r = await client.invoke(`127.0.0.1:${ns.port}`, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }));
    return r.code === 0 ? JSON.parse(r.body?.toString() ?? '{}') : r.code;
  };
  const h = await startHarness({
    namesrvAddr: `127.0.0.1:${ns1.port};127.0.0.1:${ns2.port}`,
    registerNameServerPeriod: 60_000,
  });
  try {
    await createTopic(h, 'RouteT', 3);
    for (const ns of [ns1, ns2]) {
      assert.ok(await eventually(async () => typeof (await route(ns, 'RouteT')) === 'object'), 'route registered');
      const r = await route(ns, 'RouteT');
      assert.equal(r.brokerDatas[0].brokerName, 'broker-a');
      assert.equal(r.brokerDatas[0].brokerAddrs['0'], h.addr);
      assert.equal(r.queueDatas[0].writeQueueNums, 3);
      assert.equal(r.queueDatas[0].perm, 6);
    }
    await h.broker.close();
    assert.ok(
      await eventually(async () => (await route(ns1, 'RouteT')) === ResponseCode.TOPIC_NOT_EXIST),
      'unregistered',
    );
  } finally {
    await h.close();
    await client.close();
    await ns1.close();
    await ns2.close();
  }
});

test('restart keeps topics, consumer offsets, subscription groups and every acked message', async () => {
  const h = await startHarness({ flushConsumerOffsetInterval: 60_000 });
  try {
    await createTopic(h, 'Keep', 2);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await sendV2(h, 'Keep', `m${i}`, {}, i % 2);
      assert.equal(r.code, 0);
      acked.push(`m${i}`);
    }
    await call(h, RequestCode.UPDATE_CONSUMER_OFFSET, {
      consumerGroup: 'KG',
      topic: 'Keep',
      queueId: 1,
      commitOffset: 4,
    });
    await call(
      h,
      RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
      {},
      Buffer.from('{"groupName":"KG","retryMaxTimes":5}'),
    );
    await h.restart();
    const offsets = JSON.parse(await readFile(path.join(h.dir, 'config', 'consumerOffset.json'), 'utf8'));
    assert.equal(offsets.offsetTable['Keep@KG']['1'], 4);
    const q = await call(h, RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'KG', topic: 'Keep', queueId: 1 });
    assert.equal(q.extFields?.['offset'], '4');
    const groups = JSON.parse(
      (await call(h, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, {})).body?.toString() ?? '{}',
    );
    assert.equal(groups.subscriptionGroupTable.KG.retryMaxTimes, 5);
    const got: string[] = [];
    for (const queueId of [0, 1]) {
      const r = await pull(h, 'Keep', queueId, 0);
      assert.equal(r.code, 0, r.remark);
      got.push(...decodeRecords(r.body ?? Buffer.alloc(0)).map((m) => m.body.toString()));
    }
    assert.deepEqual(got.sort(), acked.sort());
    const topics = JSON.parse(await readFile(path.join(h.dir, 'config', 'topics.json'), 'utf8'));
    assert.equal(topics.topicConfigTable.Keep.readQueueNums, 2);
  } finally {
    await h.close();
  }
});

test('auto-create on send follows TBW102 and can be turned off', async () => {
  const on = await startHarness({ autoCreateTopicEnable: true, defaultTopicQueueNums: 4 });
  try {
    const r = await sendV2(on, 'AutoT', 'x');
    assert.equal(r.code, 0, r.remark);
    const cfg = JSON.parse((await call(on, RequestCode.GET_ALL_TOPIC_CONFIG, {})).body?.toString() ?? '{}');
    assert.equal(cfg.topicConfigTable.AutoT.writeQueueNums, 4);
    assert.equal(cfg.topicConfigTable.TBW102.perm, 7);
  } finally {
    await on.close();
  }
});
