/** What a broker says about itself: the address it registers (brokerIP1 / bind address) and its role. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Broker } from '../../src/broker/broker.js';
import { NameServer } from '../../src/namesrv/namesrv.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { call, startHarness } from './helpers.js';

/** Starts a NameServer and a broker with `config`; returns the address the NameServer routes to, then closes. */
async function registeredAddr(config: Record<string, unknown>): Promise<{ addr: string | undefined; port: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-addr-'));
  const ns = new NameServer({ listenPort: 0, bindAddress: '127.0.0.1' });
  await ns.start();
  const broker = new Broker({ listenPort: 0, namesrvAddr: `127.0.0.1:${ns.port}`, storePathRootDir: dir, ...config });
  const client = new RemotingClient();
  try {
    await broker.start();
    const res = await client.invoke(`127.0.0.1:${ns.port}`, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO, {}));
    const info = JSON.parse(res.body?.toString() ?? '{}') as {
      brokerAddrTable: Record<string, { brokerAddrs: Record<string, string> }>;
    };
    const addr = info.brokerAddrTable['broker-a']?.brokerAddrs['0'];
    // The registered address reaches the broker (checked on loopback only: tests send nothing elsewhere).
    if (addr?.startsWith('127.') === true) {
      const conf = await client.invoke(addr, createRequest(RequestCode.GET_BROKER_CONFIG, {}));
      assert.equal(conf.code, 0);
    }
    return { addr, port: broker.port };
  } finally {
    await client.close();
    await broker.close();
    await ns.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('brokerRole is reported as configured in GET_BROKER_CONFIG and the runtime info', async () => {
  const h = await startHarness(); // the default role, ASYNC_MASTER
  try {
    const conf = await call(h, RequestCode.GET_BROKER_CONFIG, {});
    assert.match(conf.body?.toString() ?? '', /^brokerRole=ASYNC_MASTER$/m);
    const info = await call(h, RequestCode.GET_BROKER_RUNTIME_INFO, {});
    const table = (JSON.parse(info.body?.toString() ?? '{}') as { table: Record<string, string> }).table;
    assert.equal(table['brokerRole'], 'ASYNC_MASTER');
  } finally {
    await h.close();
  }
});

test('a broker bound to 0.0.0.0 with brokerIP1=127.0.0.2 registers 127.0.0.2:port, reachable there', async () => {
  const { addr, port } = await registeredAddr({ listenHost: '0.0.0.0', brokerIP1: '127.0.0.2' });
  assert.equal(addr, `127.0.0.2:${port}`);
});

test('a broker bound to 0.0.0.0 without brokerIP1 registers a non-loopback interface address', async () => {
  const external = Object.values(networkInterfaces())
    .flatMap((a) => a ?? [])
    .find((a) => a.family === 'IPv4' && !a.internal && !/^(127|169\.254)\./.test(a.address));
  const { addr, port } = await registeredAddr({ listenHost: '0.0.0.0' });
  // With no such interface the machine's only choice is loopback.
  assert.equal(addr, `${external?.address ?? '127.0.0.1'}:${port}`);
});

test('a broker bound to 127.0.0.1 registers 127.0.0.1', async () => {
  const { addr, port } = await registeredAddr({ listenHost: '127.0.0.1' });
  assert.equal(addr, `127.0.0.1:${port}`);
});
