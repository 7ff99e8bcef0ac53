/**
 * A port opens only when what is behind it serves: the broker listens on a configured port after its store has
 * recovered (a connection before that is refused by the OS, not answered with an empty state); with listenPort 0
 * it listens first and answers a request during start-up with SERVICE_NOT_AVAILABLE (retried by the Java client
 * and ali-ons). A NameServer serves registrations in-process before its port opens, so the first route query
 * already finds the broker.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Broker } from '../../src/broker/broker.js';
import { NameServer } from '../../src/namesrv/namesrv.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { createMessageStore, type MessageStore } from '../../src/store/index.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A memory store whose start() (recovery) waits until `release` is called. */
function slowStore(dir: string): { store: MessageStore; started: Promise<void>; release: () => void } {
  const store = createMessageStore({ storePathRootDir: dir }, { kind: 'memory' });
  let release = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let entered = () => {};
  const started = new Promise<void>((r) => {
    entered = r;
  });
  const realStart = store.start.bind(store);
  store.start = async () => {
    entered();
    await gate;
    await realStart();
  };
  return { store, started, release };
}

test('with a configured port the broker listens only after its store has recovered', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-ready-'));
  const port = await freePort();
  const { store, started, release } = slowStore(dir);
  const broker = new Broker(
    { listenPort: port, listenHost: '127.0.0.1', namesrvAddr: '', storePathRootDir: dir },
    {},
    { store },
  );
  const client = new RemotingClient();
  try {
    const starting = broker.start();
    await started;
    assert.equal(broker.brokerAddr.endsWith(`:${port}`), true, 'the address is known before listening');
    assert.equal(await accepts(port), false, 'the port is closed while the store recovers');
    release();
    await starting;
    const r = await client.invoke(`127.0.0.1:${port}`, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO, {}), 5000);
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  } finally {
    release();
    await client.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('with listenPort 0 a request during start-up is answered SERVICE_NOT_AVAILABLE, then served', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-ready-'));
  const { store, started, release } = slowStore(dir);
  const broker = new Broker(
    { listenPort: 0, listenHost: '127.0.0.1', namesrvAddr: '', storePathRootDir: dir },
    {},
    { store },
  );
  const client = new RemotingClient();
  try {
    const starting = broker.start();
    await started;
    const addr = `127.0.0.1:${broker.port}`;
    const early = await client.invoke(addr, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO, {}), 5000);
    assert.equal(early.code, ResponseCode.SERVICE_NOT_AVAILABLE, early.remark);
    assert.match(early.remark ?? '', /is starting/);
    release();
    await starting;
    const later = await client.invoke(addr, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO, {}), 5000);
    assert.equal(later.code, ResponseCode.SUCCESS, later.remark);
  } finally {
    release();
    await client.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a broker registers in-process with a NameServer that has not opened its port; its first route query finds it', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-ready-'));
  const nsPort = await freePort();
  const namesrv = new NameServer({
    listenPort: nsPort,
    bindAddress: '127.0.0.1',
    kvConfigPath: path.join(dir, 'kv.json'),
  });
  const nsAddr = `127.0.0.1:${nsPort}`;
  const broker = new Broker(
    {
      listenPort: 0,
      listenHost: '127.0.0.1',
      brokerIP1: '127.0.0.1',
      namesrvAddr: nsAddr,
      storePathRootDir: path.join(dir, 'broker'),
      autoCreateTopicEnable: true,
    },
    {},
    {
      store: createMessageStore({ storePathRootDir: dir }, { kind: 'memory' }),
      inProcessNamesrv: { addr: nsAddr, invoke: (req) => namesrv.invokeLocal(req) },
    },
  );
  const client = new RemotingClient();
  try {
    await namesrv.prepare();
    await broker.start();
    assert.equal(await accepts(nsPort), false, 'the NameServer port is still closed');
    await namesrv.listen();
    const r = await client.invoke(nsAddr, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TBW102' }), 5000);
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    assert.match(r.body?.toString() ?? '', new RegExp(`127\\.0\\.0\\.1:${broker.port}`));
    await broker.close();
    const gone = await client.invoke(
      nsAddr,
      createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TBW102' }),
      5000,
    );
    assert.equal(gone.code, ResponseCode.TOPIC_NOT_EXIST, 'unregistered in-process on close');
  } finally {
    await client.close();
    await broker.close();
    await namesrv.close();
    await rm(dir, { recursive: true, force: true });
  }
});
