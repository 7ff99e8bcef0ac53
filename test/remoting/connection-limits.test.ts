/**
 * Connection lifetime over real TCP: idle connections are reaped (a held request is not idle), connections over
 * the per-IP and total caps are accepted and closed unanswered while the others keep being served, and new
 * connections are refused while they would eat into the fd reserve, then accepted again.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { setLogLevel } from '../../src/common/log.js';
import { createRequest, createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import { openFdCount } from '../../src/remoting/fd-count.js';
import { type RemotingConnection, RemotingServer, type RemotingServerOptions } from '../../src/remoting/server.js';
import { captureLogs, type RawPeer, rawPeer } from './helpers.js';

const logs = captureLogs();
setLogLevel('debug');
const Code = { echo: 1000, hold: 1001 } as const;
const servers: RemotingServer[] = [];
const peers: RawPeer[] = [];

after(async () => {
  for (const p of peers) p.socket.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

async function startServer(opts: Partial<RemotingServerOptions>): Promise<RemotingServer> {
  const server = new RemotingServer({ name: 'limits', port: 0, host: '127.0.0.1', ...opts });
  const held: Array<{ req: RemotingCommand; conn: RemotingConnection }> = [];
  server.registerProcessor(Code.echo, (req) => createResponse(req, 0, 'echo'));
  // Answers after the delay in its `ms` field, like a held pull.
  server.registerProcessor(Code.hold, (req, conn) => {
    held.push({ req, conn });
    setTimeout(() => conn.send(createResponse(req, 0, 'held')), Number(req.extFields?.['ms']));
    return undefined;
  });
  await server.start();
  servers.push(server);
  return server;
}

async function peer(port: number, localAddress?: string): Promise<RawPeer> {
  const p = await rawPeer(port, localAddress);
  peers.push(p);
  return p;
}

/** Sends an echo and waits for its answer; undefined when none comes within `ms`. */
async function echo(p: RawPeer, ms = 2000): Promise<RemotingCommand | undefined> {
  p.send(createRequest(Code.echo, {}));
  return within(p.next(), ms);
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  const timeout = sleep(ms).then(() => undefined);
  return Promise.race([promise, timeout]);
}

const isClosed = async (p: RawPeer, ms: number) =>
  (await within(
    p.closed.then(() => true),
    ms,
  )) === true;

test('an idle connection is closed after channelIdleMsMax; traffic and a held request keep one open', async () => {
  const server = await startServer({ limits: { channelIdleMsMax: 400 } });
  const silent = await peer(server.port);
  const chatty = await peer(server.port);
  const holding = await peer(server.port);
  // Held for 1.2 s: three idle periods with no byte either way.
  holding.send(createRequest(Code.hold, { ms: '1200' }));
  const startedMs = Date.now();
  for (let i = 0; i < 8; i++) {
    assert.equal((await echo(chatty))?.remark, 'echo');
    await sleep(150);
  }
  const silentClosed = await isClosed(silent, 0);
  assert.ok(silentClosed, 'a connection silent for 1.2 s with a 400 ms idle limit was not closed');
  assert.equal(chatty.socket.destroyed, false, 'a connection with traffic every 150 ms was closed');
  chatty.socket.destroy();
  const answer = await within(holding.next(), 2000);
  assert.equal(answer?.remark, 'held', 'the held request lost its connection');
  assert.ok(Date.now() - startedMs >= 1200);
  assert.ok(await isClosed(holding, 2000), 'the connection was not reaped once its answer went out and it fell idle');
  const stats = server.stats();
  assert.equal(stats.connectionsReapedIdle, 2);
  assert.ok(logs.some((l) => l.includes('idle connection closed')));
});

test('serverChannelMaxIdleTimeSeconds 0 never reaps', async () => {
  const server = await startServer({ limits: { channelIdleMsMax: 0, frameReadMsMax: 100 } });
  const silent = await peer(server.port);
  assert.equal(await isClosed(silent, 600), false);
  assert.equal(server.stats().connectionsReapedIdle, 0);
});

test('connections over connectionsPerIpMax and connectionsMax are closed unanswered; the others are served', async () => {
  const server = await startServer({ limits: { connectionsPerIpMax: 120, connectionsMax: 300 } });
  const open: RawPeer[] = [];
  for (const ip of ['127.0.0.1', '127.0.0.2']) {
    for (let i = 0; i < 120; i++) open.push(await peer(server.port, ip));
  }
  const overIp = await peer(server.port, '127.0.0.1');
  overIp.send(createRequest(Code.echo, {}));
  assert.ok(await isClosed(overIp, 2000), 'the 121st connection from one address was kept');
  assert.equal(overIp.queued(), 0, 'a refused connection was answered');
  for (let i = 0; i < 60; i++) open.push(await peer(server.port, '127.0.0.3'));
  const overTotal = await peer(server.port, '127.0.0.4');
  assert.ok(await isClosed(overTotal, 2000), 'the 301st connection was kept');
  // Every admitted connection is still served.
  const answers = await Promise.all(open.map((p) => echo(p)));
  assert.equal(answers.filter((a) => a?.remark === 'echo').length, 300);
  const stats = server.stats();
  assert.equal(stats.connectionsOpen, 300);
  assert.equal(stats.connectionsRefusedPerIp, 1);
  assert.equal(stats.connectionsRefusedTotal, 1);
  assert.ok(logs.some((l) => l.includes('connection refused: connectionsPerIpMax 120 reached')));
  assert.ok(logs.some((l) => l.includes('connection refused: connectionsMax 300 reached')));
  // A slot freed is a slot given again.
  const leaving = open.pop() as RawPeer;
  leaving.socket.destroy();
  await leaving.closed;
  await sleep(50);
  const next = await peer(server.port, '127.0.0.4');
  assert.equal((await echo(next))?.remark, 'echo');
});

test('new connections are closed while they would eat into the fd reserve, and accepted again once fds free up', async () => {
  const fdsNow = await openFdCount();
  if (typeof fdsNow !== 'number') return; // no /proc: the reserve is not checked here
  const reserve = 64;
  // Room for about 40 more fds in this process, which holds both ends of each connection.
  const server = await startServer({ fdLimit: fdsNow + reserve + 40, limits: { fdReserve: reserve } });
  const served = await peer(server.port);
  const open: RawPeer[] = [];
  let refused: RawPeer | undefined;
  for (let i = 0; i < 60 && refused === undefined; i++) {
    const p = await peer(server.port);
    if (await isClosed(p, 100)) refused = p;
    else open.push(p);
  }
  assert.ok(refused !== undefined, 'every connection was accepted although the fd reserve was reached');
  assert.equal((await echo(served))?.remark, 'echo', 'an open connection was no longer served');
  assert.ok(server.stats().acceptPaused);
  assert.ok(server.stats().connectionsRefusedFdReserve >= 1);
  assert.ok(logs.some((l) => l.includes('accepting paused')));
  for (const p of open) p.socket.destroy();
  await Promise.all(open.map((p) => p.closed));
  // The fds are counted again within a second.
  for (let i = 0; i < 30 && server.stats().acceptPaused; i++) await sleep(100);
  const again = await peer(server.port);
  assert.equal((await echo(again))?.remark, 'echo', 'no connection accepted after fds were freed');
  assert.equal(server.stats().acceptPaused, false);
  assert.ok(logs.some((l) => l.includes('accepting resumed')));
});
