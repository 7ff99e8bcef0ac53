import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RemotingClient } from '../../src/remoting/client.js';
import { createRequest, createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import {
  RemotingClosedError,
  RemotingConnectError,
  RemotingSendError,
  RemotingTimeoutError,
} from '../../src/remoting/errors.js';
import { type RemotingConnection, RemotingServer } from '../../src/remoting/server.js';
import { captureLogs } from './helpers.js';

captureLogs();
const Code = { echo: 1000, hold: 1002, oneway: 1003 } as const;
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Held {
  req: RemotingCommand;
  conn: RemotingConnection;
}

async function startServer(port = 0): Promise<{ server: RemotingServer; addr: string; held: Held[] }> {
  const server = new RemotingServer({ name: 'client-test', port, host: '127.0.0.1' });
  const held: Held[] = [];
  server.registerProcessor(Code.echo, (req) => createResponse(req, 0, `echo ${req.opaque}`));
  server.registerProcessor(Code.hold, (req, conn) => {
    held.push({ req, conn });
    return undefined;
  });
  await server.start();
  cleanups.push(() => server.close());
  return { server, addr: `127.0.0.1:${server.port}`, held };
}

function newClient(opts?: ConstructorParameters<typeof RemotingClient>[0]): RemotingClient {
  const client = new RemotingClient(opts);
  cleanups.push(() => client.close());
  return client;
}

/** Settles now (so a rejection is never unhandled) and yields the error or 'resolved'. */
function outcome(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => 'resolved',
    (err: unknown) => err,
  );
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

test('a timeout rejects, the late response is ignored, and the connection keeps working', async () => {
  const { addr, held } = await startServer();
  const client = newClient();
  // Connected first, so a loaded machine's slow connect can't eat the 100 ms under test.
  await client.invoke(addr, createRequest(Code.echo));
  const req = createRequest(Code.hold);
  await assert.rejects(client.invoke(addr, req, 100), (err: unknown) => {
    assert.ok(err instanceof RemotingTimeoutError, String(err));
    assert.equal(err.retriable, true);
    return true;
  });
  await until(() => held.length === 1);
  held[0]!.conn.send(createResponse(held[0]!.req, 0, 'too late'));
  const next = createRequest(Code.echo);
  const resp = await client.invoke(addr, next);
  assert.equal(resp.opaque, next.opaque);
  assert.equal(resp.remark, `echo ${next.opaque}`);
});

test('concurrent callers share one connection; many requests in flight', async () => {
  const { server, addr } = await startServer();
  const client = newClient();
  const reqs = Array.from({ length: 200 }, () => createRequest(Code.echo));
  const resps = await Promise.all(reqs.map((r) => client.invoke(addr, r)));
  for (const [i, resp] of resps.entries()) assert.equal(resp.remark, `echo ${reqs[i]!.opaque}`);
  assert.equal([...server.connections()].length, 1);
});

test('pending requests reject with RemotingClosedError when the server goes away; the next invoke reconnects', async () => {
  const first = await startServer();
  const port = first.server.port;
  const client = newClient({ connectTimeoutMs: 1000 });
  assert.equal((await client.invoke(first.addr, createRequest(Code.echo))).code, 0);
  const pending = outcome(client.invoke(first.addr, createRequest(Code.hold), 10_000));
  await until(() => first.held.length === 1);
  await first.server.close();
  assert.ok((await pending) instanceof RemotingClosedError);
  await assert.rejects(client.invoke(first.addr, createRequest(Code.echo)), RemotingConnectError);

  const second = await startServer(port);
  const resp = await client.invoke(second.addr, createRequest(Code.echo));
  assert.equal(resp.code, 0);
});

test('close() rejects pending requests, later invokes reject, and closeConnection reconnects', async () => {
  const { addr, held } = await startServer();
  const client = new RemotingClient();
  const pending = outcome(client.invoke(addr, createRequest(Code.hold), 10_000));
  await until(() => held.length === 1);
  await client.close();
  assert.ok((await pending) instanceof RemotingClosedError);
  await assert.rejects(client.invoke(addr, createRequest(Code.echo)), RemotingClosedError);

  const other = newClient();
  const pending2 = outcome(other.invoke(addr, createRequest(Code.hold), 10_000));
  await until(() => held.length === 2);
  other.closeConnection(addr);
  assert.ok((await pending2) instanceof RemotingClosedError);
  assert.equal((await other.invoke(addr, createRequest(Code.echo))).code, 0);
});

test('the pending map is bounded: RemotingSendError when full', async () => {
  const { addr, held } = await startServer();
  const client = newClient({ pendingRequestsMax: 2 });
  const a = client.invoke(addr, createRequest(Code.hold), 10_000);
  const b = client.invoke(addr, createRequest(Code.hold), 10_000);
  await until(() => held.length === 2);
  await assert.rejects(client.invoke(addr, createRequest(Code.echo)), RemotingSendError);
  for (const h of held) h.conn.send(createResponse(h.req, 0, 'released'));
  assert.equal((await a).remark, 'released');
  assert.equal((await b).remark, 'released');
  assert.equal((await client.invoke(addr, createRequest(Code.echo))).code, 0);
});

test('connect failures reject with RemotingConnectError', async () => {
  const { server } = await startServer();
  const port = server.port;
  await server.close();
  const client = newClient({ connectTimeoutMs: 1000 });
  await assert.rejects(client.invoke(`127.0.0.1:${port}`, createRequest(Code.echo)), RemotingConnectError);
  await assert.rejects(client.invoke('nonsense', createRequest(Code.echo)), RemotingConnectError);
});

test('invokeOneway resolves once written and the server sees it', async () => {
  const seen: RemotingCommand[] = [];
  const { server, addr } = await startServer();
  server.registerProcessor(Code.oneway, (req) => {
    seen.push(req);
    return createResponse(req, 0);
  });
  const client = newClient();
  await client.invokeOneway(addr, createRequest(Code.oneway, { x: 1 }));
  await until(() => seen.length === 1);
  assert.equal(seen[0]!.extFields?.['x'], '1');
  assert.equal((await client.invoke(addr, createRequest(Code.echo))).code, 0);
});

test('a process that closes its client and server exits by itself (no handles left)', async () => {
  const clientModule = fileURLToPath(new URL('../../src/remoting/client.js', import.meta.url));
  const serverModule = fileURLToPath(new URL('../../src/remoting/server.js', import.meta.url));
  const commandModule = fileURLToPath(new URL('../../src/remoting/command.js', import.meta.url));
  const script = `
    const { RemotingClient } = await import(${JSON.stringify(clientModule)});
    const { RemotingServer } = await import(${JSON.stringify(serverModule)});
    const { createRequest, createResponse } = await import(${JSON.stringify(commandModule)});
    const server = new RemotingServer({ name: 'exit', port: 0, host: '127.0.0.1' });
    server.registerProcessor(1, (req) => createResponse(req, 0));
    server.registerProcessor(2, () => undefined);
    await server.start();
    const client = new RemotingClient();
    const addr = '127.0.0.1:' + server.port;
    await client.invoke(addr, createRequest(1));
    const held = client.invoke(addr, createRequest(2), 60000).catch((e) => e.name);
    await new Promise((r) => setTimeout(r, 50));
    await client.close();
    await server.close();
    console.log('held:', await held);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TSROCKET_LOG_LEVEL: 'error' },
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(killer);
  assert.equal(code, 0, out);
  assert.match(out, /held: RemotingClosedError/);
});

test('a big request is on the wire before the turn that wrote it ends', async () => {
  // The peer runs in another process so it can note arrival times while this process is busy.
  const script = `
    import net from 'node:net';
    const server = net.createServer((sock) => {
      let got = 0;
      sock.on('data', (d) => {
        const before = got;
        got += d.length;
        if (before < 100 * 1024 && got >= 100 * 1024) process.stdout.write(Date.now() + '\\n');
      });
    });
    server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(async () => {
    child.kill('SIGKILL');
  });
  const lines: string[] = [];
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  await until(() => lines.length > 0);
  const addr = `127.0.0.1:${lines.shift()}`;
  const client = newClient({ requestTimeoutMsDefault: 1000 });
  // Connect first (the peer never answers, so this invoke times out and leaves the connection open).
  await outcome(client.invoke(addr, createRequest(Code.echo, {}), 50));
  const busyMs = 300;
  const big = outcome(client.invoke(addr, createRequest(Code.echo, {}, Buffer.alloc(200 * 1024, 1)), 1000));
  const wroteAt = Date.now();
  while (Date.now() - wroteAt < busyMs) {
    // This turn stays busy: only bytes already handed to the kernel can reach the peer now.
  }
  await until(() => lines.length > 0);
  const arrivedAt = Number(lines.shift());
  assert.ok(arrivedAt - wroteAt < busyMs - 100, `100 KiB arrived ${arrivedAt - wroteAt} ms after the write`);
  await big;
});
