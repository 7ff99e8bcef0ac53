/**
 * fd exhaustion with real processes: a broker over a file store runs under `ulimit -n 256` while clients open
 * 400 idle connections. The broker keeps an fd reserve: it refuses the connections that would eat into it, keeps
 * serving its open connections, its store keeps writing, and the process can still open new files. Once the
 * connections close it accepts again.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { encodeProperties } from '../../src/common/properties.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { tempDir } from '../store/helpers.js';

const childPath = fileURLToPath(new URL('./fd-reserve-child.js', import.meta.url));
const fdLimit = 256;
const reserve = 64;
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The child's stdout, line by line: `next(prefix)` resolves with the next line starting with it. */
function lines(child: ChildProcessWithoutNullStreams) {
  const seen: string[] = [];
  const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];
  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const w = waiters.findIndex((x) => line.startsWith(x.prefix));
      if (w >= 0) waiters.splice(w, 1)[0]?.resolve(line);
      else seen.push(line);
    }
  });
  return {
    seen,
    next(prefix: string, ms = 10_000): Promise<string> {
      const i = seen.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return Promise.resolve(seen.splice(i, 1)[0] as string);
      return new Promise((resolve, reject) => {
        waiters.push({ prefix, resolve });
        setTimeout(() => reject(new Error(`no '${prefix}' line from the child in ${ms} ms`)), ms).unref();
      });
    },
  };
}

function send(client: RemotingClient, addr: string, topic: string, i: number) {
  const header = {
    a: 'pg',
    b: topic,
    c: 'TBW102',
    d: 4,
    e: 0,
    f: 0,
    g: Date.now(),
    h: 0,
    i: encodeProperties({}),
    j: 0,
    k: false,
  };
  return client.invoke(addr, createRequest(RequestCode.SEND_MESSAGE_V2, header, Buffer.from(`m${i}`)), 5000);
}

async function runtimeInfo(client: RemotingClient, addr: string): Promise<Record<string, string>> {
  const r = await client.invoke(addr, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO, {}), 5000);
  return (JSON.parse(r.body?.toString() ?? '{}') as { table: Record<string, string> }).table;
}

/** An idle connection that notes when it is closed (it never writes, so only the server closes it). */
function idleConnection(port: number): { socket: Socket; closedByServer: boolean } {
  const socket = connect({ host: '127.0.0.1', port });
  const conn = { socket, closedByServer: false };
  socket.on('error', () => {});
  socket.once('close', () => {
    conn.closedByServer = true;
  });
  return conn;
}

test('under ulimit -n 256, 400 idle connections leave the store writing and file opens succeeding', async () => {
  const dir = await tempDir('tsrocket-fd-reserve-');
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  const child = spawn(
    'bash',
    [
      '-c',
      `ulimit -n ${fdLimit} && exec "$0" "$@"`,
      process.execPath,
      childPath,
      '--fd-reserve-child',
      dir,
      `${reserve}`,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TSROCKET_LOG_LEVEL: 'warn' } },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  const out = lines(child);
  const port = Number((await out.next('ready ')).split(' ')[1]);
  const addr = `127.0.0.1:${port}`;
  const client = new RemotingClient();
  cleanups.push(() => client.close());
  assert.equal((await send(client, addr, 'FdReserve', 0)).code, 0, 'the first send failed');

  const flood = Array.from({ length: 400 }, () => idleConnection(port));
  cleanups.push(() => {
    for (const f of flood) f.socket.destroy();
  });
  // The broker's checkpoint and flush run every second: give them a few rounds under the flood.
  await sleep(3000);
  const refused = flood.filter((f) => f.closedByServer).length;

  for (let i = 1; i <= 20; i++) {
    const r = await send(client, addr, 'FdReserve', i);
    assert.equal(r.code, 0, `send ${i} under the flood: ${r.code} ${r.remark}`);
  }
  child.stdin.write('open\n');
  assert.equal(await out.next('open '), 'open ok', 'the broker process could not open a new file');
  assert.ok(refused >= 100, `only ${refused} of 400 connections were refused under a 256 fd limit`);
  const info = await runtimeInfo(client, addr);
  assert.ok(Number(info['connectionsRefusedFdReserve']) >= refused, JSON.stringify(info));
  assert.equal(info['acceptPaused'], 'true');
  assert.equal(info['storeReadonlyReason'], undefined, `store read-only: ${info['storeReadonlyReason']}`);
  assert.ok(
    out.seen.some((l) => l.includes('accepting paused')),
    'no log line says accepting paused',
  );

  for (const f of flood) f.socket.destroy();
  let resumed = false;
  for (let i = 0; i < 50 && !resumed; i++) {
    await sleep(100);
    resumed = out.seen.some((l) => l.includes('accepting resumed'));
  }
  assert.ok(resumed, 'accepting did not resume once the connections closed');
  const late = new RemotingClient();
  cleanups.push(() => late.close());
  assert.equal((await send(late, addr, 'FdReserve', 21)).code, 0, 'a new client was not served after resuming');
  child.stdin.write('exit\n');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, stderr);
});
