/** ServiceList: start in order, stop in reverse, a failed start undoes itself and names the failing service. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Broker } from '../../../src/broker/broker.js';
import {
  type BrokerService,
  ServiceList,
  ServiceStartError,
  ServiceStopError,
} from '../../../src/broker/services/lifecycle.js';
import type { Logger } from '../../../src/common/log.js';
import type { MessageStore } from '../../../src/store/types.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function recorder() {
  const events: string[] = [];
  const svc = (name: string, opts: { failStart?: boolean; failStop?: boolean } = {}): BrokerService => ({
    name,
    async start() {
      await Promise.resolve();
      if (opts.failStart) throw new Error(`${name} cannot start`);
      events.push(`start ${name}`);
    },
    stop() {
      events.push(`stop ${name}`);
      if (opts.failStop) throw new Error(`${name} cannot stop`);
    },
  });
  return { events, svc };
}

test('services start in order and stop in reverse order', async () => {
  const { events, svc } = recorder();
  const list = new ServiceList([svc('a'), svc('b'), svc('c')], quiet);
  await list.startAll();
  assert.deepEqual(list.running(), ['a', 'b', 'c']);
  await list.stopAll();
  assert.deepEqual(events, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  assert.deepEqual(list.running(), []);
});

test('a failing start stops the ones already started, in reverse, and reports which one failed', async () => {
  const { events, svc } = recorder();
  const list = new ServiceList([svc('a'), svc('b'), svc('c', { failStart: true }), svc('d')], quiet);
  const err = await list.startAll().then(
    () => assert.fail('start should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ServiceStartError);
  assert.equal(err.service, 'c');
  assert.match(err.message, /broker service c failed to start: c cannot start/);
  assert.equal((err.cause as Error).message, 'c cannot start');
  assert.deepEqual(events, ['start a', 'start b', 'stop b', 'stop a']);
});

test('every service is stopped even when one fails to stop; the failure is reported after', async () => {
  const { events, svc } = recorder();
  const list = new ServiceList([svc('a'), svc('b', { failStop: true }), svc('c')], quiet);
  await list.startAll();
  await assert.rejects(list.stopAll(), (e: unknown) => e instanceof ServiceStopError && e.services[0] === 'b');
  assert.deepEqual(events.slice(3), ['stop c', 'stop b', 'stop a']);
});

test('stopAll during startAll: the service being started is stopped and no later one starts', async () => {
  const { events, svc } = recorder();
  let release: () => void = () => {};
  const slow: BrokerService = {
    name: 'slow',
    start: () =>
      new Promise<void>((r) => {
        release = () => {
          events.push('start slow');
          r();
        };
      }),
    stop: () => {
      events.push('stop slow');
    },
  };
  const list = new ServiceList([svc('a'), slow, svc('c')], quiet);
  const starting = list.startAll();
  await new Promise((r) => setTimeout(r, 10));
  await list.stopAll();
  release();
  await assert.rejects(starting, ServiceStartError);
  assert.deepEqual(events, ['start a', 'stop a', 'start slow', 'stop slow']);
});

test('a broker whose store fails to start rejects with the service name and frees its port', async () => {
  const failing = {
    start: () => Promise.reject(new Error('disk on fire')),
    shutdown: () => Promise.resolve(),
  } as unknown as MessageStore;
  const broker = new Broker({ listenPort: 0, listenHost: '127.0.0.1', namesrvAddr: '' }, {}, { store: failing });
  await assert.rejects(
    broker.start(),
    (e: unknown) => e instanceof ServiceStartError && e.service === 'store' && /disk on fire/.test(e.message),
  );
  const port = broker.port;
  assert.ok(port > 0);
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
  assert.ok(refused, 'the listening socket was closed');
  await broker.close();
});
