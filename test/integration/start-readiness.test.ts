/**
 * `tsrocket start` opens a port only when what is behind it serves: SIGKILLed with data and restarted on the same
 * ports, a client that starts the moment the NameServer's port accepts (as a TCP readiness probe allows) finds the
 * broker's routes and gets its messages promptly — ali-ons (which would otherwise wait ~45 s for its next route
 * refresh) and our PushConsumer.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type AddressInfo, connect, createServer } from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setLogLevel } from '../../src/common/log.js';
import { ConsumeFromWhere, Producer, PushConsumer } from '../../src/index.js';
import { createTopic, Proc, startArgs, stopAll, tempDir } from './procs.js';

setLogLevel('error');
const run = promisify(execFile);
const onsDriver = fileURLToPath(new URL('../interop/ali-ons-driver.js', import.meta.url));
/** From the port accepting to the last message received: well under ali-ons' 30 s route refresh. */
const promptMs = 5000;

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Resolves with the time the port first accepts a connection (tried every 2 ms). */
async function portOpen(port: number): Promise<number> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return Date.now();
    await sleep(2);
  }
}

function start(dataDir: string, namesrvPort: number, brokerPort: number): Proc {
  return new Proc('tsrocket start', startArgs(dataDir, namesrvPort, brokerPort));
}

test('SIGKILL + restart of tsrocket start: clients starting as the port opens get their messages promptly', async (t) => {
  const { dir, cleanup } = await tempDir('start-ready');
  cleanups.push(cleanup);
  const [nsPort, brokerPort] = [await freePort(), await freePort()];
  const nameServer = `127.0.0.1:${nsPort}`;
  const topic = 'ReadyAfterRestart';
  const count = 40;

  const first = start(dir, nsPort, brokerPort);
  await first.line(/tsrocket started/);
  await createTopic(nameServer, `127.0.0.1:${brokerPort}`, topic, 4);
  const producer = new Producer({ nameServer, group: 'PID_ready', clientIp: '127.0.0.1' });
  await producer.start();
  try {
    for (let i = 0; i < count; i++) await producer.send({ topic, body: `ready ${i}`, tags: 'TagA' });
  } finally {
    await producer.shutdown();
  }
  first.kill('SIGKILL');
  await first.exited;

  // Both clients wait on the port before the restart, then start the moment it accepts.
  const ons = run(
    process.execPath,
    [onsDriver, 'consume', nameServer, topic, 'GID_ready_ons', '*', String(count), '40000'],
    {
      timeout: 60_000,
      env: { ...process.env, ONS_WAIT_FOR_PORT: '1' },
    },
  );
  const ours = (async () => {
    const portOpenMs = await portOpen(nsPort);
    const got = new Set<string>();
    let lastMs = 0;
    const consumer = new PushConsumer({
      nameServer,
      group: 'GID_ready_ours',
      clientIp: '127.0.0.1',
      consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    });
    consumer.subscribe(topic, '*').onMessage((m) => {
      got.add(m.body.toString());
      if (got.size === count) lastMs = Date.now();
    });
    await consumer.start();
    const deadline = Date.now() + 40_000;
    while (got.size < count && Date.now() < deadline) await sleep(20);
    await consumer.shutdown();
    return { got: got.size, elapsedMs: lastMs - portOpenMs };
  })();
  await sleep(300); // the ali-ons child is loaded and probing
  const second = start(dir, nsPort, brokerPort);
  await second.line(/tsrocket started/);

  const onsOut = JSON.parse((await ons).stdout.trim().split('\n').pop() ?? '{}') as {
    received: unknown[];
    portOpenMs: number;
    lastMs?: number;
  };
  const oursOut = await ours;
  t.diagnostic(
    `all ${count} messages after the port opened: ali-ons ${onsOut.lastMs === undefined ? 'never' : onsOut.lastMs - onsOut.portOpenMs} ms, ours ${oursOut.elapsedMs} ms`,
  );
  assert.equal(onsOut.received.length, count, 'ali-ons received every message');
  const onsMs = (onsOut.lastMs ?? Number.POSITIVE_INFINITY) - onsOut.portOpenMs;
  assert.ok(onsMs < promptMs, `ali-ons received them ${onsMs} ms after the port opened`);
  assert.equal(oursOut.got, count, 'our PushConsumer received every message');
  assert.ok(oursOut.elapsedMs < promptMs, `our consumer received them ${oursOut.elapsedMs} ms after the port opened`);
  await second.stop();
});
