import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { FakeBroker, queryRoute, startNameServer, waitFor } from './helpers.js';

test('two brokers register with two NameServers; routes merge on both; a silent broker expires', async () => {
  const expiryMs = 1500;
  const servers = [
    await startNameServer({ brokerChannelExpiredTime: expiryMs, scanNotActiveBrokerInterval: 100 }),
    await startNameServer({ brokerChannelExpiredTime: expiryMs, scanNotActiveBrokerInterval: 100 }),
  ];
  const addrs = servers.map((s) => `127.0.0.1:${s.port}`);
  const a = new FakeBroker({ brokerName: 'broker-a', brokerAddr: '127.0.0.1:10911', topics: { Shared: 8, OnlyA: 2 } });
  const b = new FakeBroker({ brokerName: 'broker-b', brokerAddr: '127.0.0.1:20911', topics: { Shared: 4 } });
  const client = new RemotingClient();
  let keepA: NodeJS.Timeout | undefined;
  try {
    for (const addr of addrs) {
      assert.equal((await a.register(addr)).code, 0);
      assert.equal((await b.register(addr)).code, 0);
    }
    for (const addr of addrs) {
      const { code, route } = await queryRoute(client, addr, 'Shared');
      assert.equal(code, 0);
      assert.deepEqual(
        route?.brokerDatas.map((d) => [d.brokerName, d.brokerAddrs['0']]),
        [
          ['broker-a', '127.0.0.1:10911'],
          ['broker-b', '127.0.0.1:20911'],
        ],
      );
      assert.deepEqual(
        route?.queueDatas.map((q) => [q.brokerName, q.writeQueueNums]),
        [
          ['broker-a', 8],
          ['broker-b', 4],
        ],
      );
      const info = await client.invoke(addr, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
      assert.deepEqual(JSON.parse(info.body?.toString() ?? '{}').clusterAddrTable, {
        DefaultCluster: ['broker-a', 'broker-b'],
      });
    }

    // broker-a keeps registering; broker-b goes silent (its connection stays open).
    keepA = setInterval(() => {
      for (const addr of addrs) a.register(addr).catch(() => {});
    }, 200);
    for (const addr of addrs) {
      const gone = await waitFor(async () => {
        const { route } = await queryRoute(client, addr, 'Shared');
        return route?.brokerDatas.length === 1;
      }, 15_000);
      assert.ok(gone, `broker-b still routed by ${addr}`);
      const { route } = await queryRoute(client, addr, 'Shared');
      assert.deepEqual(
        route?.brokerDatas.map((d) => d.brokerName),
        ['broker-a'],
      );
      assert.equal((await queryRoute(client, addr, 'OnlyA')).code, 0);
    }
  } finally {
    clearInterval(keepA);
    await Promise.all([a.close(), b.close(), client.close()]);
    await Promise.all(servers.map((s) => s.close()));
  }
});

test('a broker whose connection closes disappears at once (long expiry configured)', async () => {
  const servers = [await startNameServer(), await startNameServer()]; // default 120 s expiry
  const addrs = servers.map((s) => `127.0.0.1:${s.port}`);
  const a = new FakeBroker({ brokerName: 'broker-a', brokerAddr: '127.0.0.1:10911', topics: { T: 8 } });
  const b = new FakeBroker({ brokerName: 'broker-b', brokerAddr: '127.0.0.1:20911', topics: { T: 8 } });
  const client = new RemotingClient();
  try {
    for (const addr of addrs) {
      await a.register(addr);
      await b.register(addr);
    }
    const startedMs = Date.now();
    await b.close();
    for (const addr of addrs) {
      const gone = await waitFor(
        async () => (await queryRoute(client, addr, 'T')).route?.brokerDatas.length === 1,
        10_000,
      );
      assert.ok(gone, `broker-b still routed by ${addr}`);
    }
    assert.ok(Date.now() - startedMs < 60_000, 'removal came from the connection close, not expiry');
    await a.close();
    for (const addr of addrs) {
      assert.ok(await waitFor(async () => (await queryRoute(client, addr, 'T')).code === 17, 10_000));
    }
  } finally {
    await Promise.all([a.close(), b.close(), client.close()]);
    await Promise.all(servers.map((s) => s.close()));
  }
});

test('KV config and topic admin over TCP', async () => {
  const ns = await startNameServer();
  const addr = `127.0.0.1:${ns.port}`;
  const client = new RemotingClient();
  const a = new FakeBroker({ brokerName: 'broker-a', brokerAddr: '127.0.0.1:10911', topics: { T1: 8, T2: 8 } });
  try {
    await a.register(addr);
    const put = await client.invoke(
      addr,
      createRequest(RequestCode.PUT_KV_CONFIG, { namespace: 'NS', key: 'k', value: 'v' }),
    );
    assert.equal(put.code, 0);
    const get = await client.invoke(addr, createRequest(RequestCode.GET_KV_CONFIG, { namespace: 'NS', key: 'k' }));
    assert.equal(get.extFields?.['value'], 'v');
    const list = await client.invoke(addr, createRequest(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: 'NS' }));
    assert.deepEqual(JSON.parse(list.body?.toString() ?? ''), { table: { k: 'v' } });
    await client.invoke(addr, createRequest(RequestCode.DELETE_KV_CONFIG, { namespace: 'NS', key: 'k' }));
    const miss = await client.invoke(addr, createRequest(RequestCode.GET_KV_CONFIG, { namespace: 'NS', key: 'k' }));
    assert.equal(miss.code, 22);

    const all = await client.invoke(addr, createRequest(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER));
    assert.deepEqual(JSON.parse(all.body?.toString() ?? ''), { topicList: ['T1', 'T2'] });
    const del = await client.invoke(addr, createRequest(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'T1' }));
    assert.equal(del.code, 0);
    const byCluster = await client.invoke(
      addr,
      createRequest(RequestCode.GET_TOPICS_BY_CLUSTER, { cluster: 'DefaultCluster' }),
    );
    assert.deepEqual(JSON.parse(byCluster.body?.toString() ?? ''), { topicList: ['T2'] });
    assert.equal((await queryRoute(client, addr, 'T1')).code, 17);
  } finally {
    await Promise.all([a.close(), client.close()]);
    await ns.close();
  }
});

test('REGISTER_BROKER: slave gets master and HA addresses; bad bodies and missing fields get code 1', async () => {
  const ns = await startNameServer();
  const addr = `127.0.0.1:${ns.port}`;
  const master = new FakeBroker({ brokerName: 'broker-a', brokerAddr: '127.0.0.1:10911', topics: { T: 4 } });
  const slave = new FakeBroker({
    brokerName: 'broker-a',
    brokerAddr: '127.0.0.1:10921',
    brokerId: 1,
    topics: { T: 4 },
  });
  const client = new RemotingClient();
  try {
    const first = await master.register(addr);
    assert.equal(first.code, 0);
    assert.equal(first.extFields?.['masterAddr'], undefined);
    const res = await slave.register(addr);
    assert.equal(res.code, 0);
    assert.equal(res.extFields?.['masterAddr'], '127.0.0.1:10911');
    assert.equal(res.extFields?.['haServerAddr'], '127.0.0.1:10912');
    const { route } = await queryRoute(client, addr, 'T');
    assert.deepEqual(route?.brokerDatas[0]?.brokerAddrs, { '0': '127.0.0.1:10911', '1': '127.0.0.1:10921' });

    const header = { brokerName: 'b', brokerAddr: '127.0.0.1:1', clusterName: 'C', haServerAddr: 'x:1', brokerId: 0 };
    const garbage = await client.invoke(addr, createRequest(RequestCode.REGISTER_BROKER, header, Buffer.from('{oops')));
    assert.equal(garbage.code, 1);
    assert.match(garbage.remark ?? '', /JSON|RegisterBrokerBody/);
    const missing = await client.invoke(addr, createRequest(RequestCode.REGISTER_BROKER, { brokerName: 'b' }));
    assert.equal(missing.code, 1);
    assert.match(missing.remark ?? '', /brokerAddr|clusterName|haServerAddr|brokerId/);
    const crc = await client.invoke(
      addr,
      createRequest(RequestCode.REGISTER_BROKER, { ...header, bodyCrc32: 12345 }, Buffer.from('{}')),
    );
    assert.equal(crc.code, 1);
    assert.equal(crc.remark, 'crc32 not match');
    const goodBody = Buffer.from('{"topicConfigSerializeWrapper":{"topicConfigTable":{}}}');
    const goodCrc = crc32(goodBody) & 0x7fffffff; // RocketMQ's UtilAll.crc32
    const ok = await client.invoke(
      addr,
      createRequest(RequestCode.REGISTER_BROKER, { ...header, bodyCrc32: goodCrc }, goodBody),
    );
    assert.equal(ok.code, 0);
    const info = await client.invoke(addr, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
    assert.deepEqual(Object.keys(JSON.parse(info.body?.toString() ?? '{}').brokerAddrTable).sort(), ['b', 'broker-a']);
  } finally {
    await Promise.all([master.close(), slave.close(), client.close()]);
    await ns.close();
  }
});
