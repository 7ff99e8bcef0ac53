/**
 * Slow-loris over real TCP: a frame announced and trickled is closed after frameReadMsMax, and the bytes held by
 * incomplete frames across all connections stay under partialFramesBytesMax; a well-behaved client on another
 * connection is served throughout.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequest, createResponse } from '../../src/remoting/command.js';
import { RemotingServer, type RemotingServerOptions } from '../../src/remoting/server.js';
import { captureLogs, type RawPeer, rawPeer } from './helpers.js';

const logs = captureLogs();
const echoCode = 1000;
const servers: RemotingServer[] = [];
const peers: RawPeer[] = [];

after(async () => {
  for (const p of peers) p.socket.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

async function startServer(opts: Partial<RemotingServerOptions>): Promise<RemotingServer> {
  const server = new RemotingServer({ name: 'frames', port: 0, host: '127.0.0.1', ...opts });
  server.registerProcessor(echoCode, (req) => createResponse(req, 0, 'echo'));
  await server.start();
  servers.push(server);
  return server;
}

async function peer(port: number): Promise<RawPeer> {
  const p = await rawPeer(port);
  peers.push(p);
  return p;
}

async function echoOk(p: RawPeer): Promise<boolean> {
  p.send(createRequest(echoCode, {}));
  const answer = await Promise.race([p.next(), sleep(2000).then(() => undefined)]);
  return answer?.remark === 'echo';
}

/** The 4-byte length prefix of a frame of `bytes` (just under the 16 MiB limit by default). */
function announce(bytes = 16 * 1024 * 1024 - 8): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(bytes, 0);
  return b;
}

test('a frame trickled a byte at a time is closed after frameReadMsMax; another client is served throughout', async () => {
  const server = await startServer({ limits: { frameReadMsMax: 500 } });
  const good = await peer(server.port);
  const loris = await peer(server.port);
  loris.socket.write(announce());
  let closedAtMs: number | undefined;
  void loris.closed.then(() => {
    closedAtMs = Date.now();
  });
  const startedMs = Date.now();
  while (closedAtMs === undefined && Date.now() - startedMs < 3000) {
    if (!loris.socket.destroyed) loris.socket.write(Buffer.from([0x41]));
    assert.ok(await echoOk(good), 'the well-behaved client was not answered');
    await sleep(100);
  }
  assert.ok(closedAtMs !== undefined, 'a frame still incomplete after 3 s (limit 500 ms) kept its connection');
  assert.ok(closedAtMs - startedMs >= 500, `closed after ${closedAtMs - startedMs} ms, before the limit`);
  assert.ok(await echoOk(good));
  const stats = server.stats();
  assert.equal(stats.partialFramesTimedOut, 1);
  assert.equal(stats.partialFrameBytes, 0);
  assert.ok(logs.some((l) => l.includes('frame not complete within frameReadTimeoutMs')));
});

test('a pipelined stream of whole frames is never timed out, though a frame is always in flight', async () => {
  // Each frame completes within 120 ms (a loaded machine may stretch that several times over: the limit is
  // 600 ms), while some frame is in flight for 2 s: over three times the limit.
  const server = await startServer({ limits: { frameReadMsMax: 600 } });
  const p = await peer(server.port);
  // Each write completes one frame and starts the next.
  const frame = Buffer.concat([0, 1].map(() => encode()));
  const half = Math.floor(frame.length / 4);
  p.socket.write(frame.subarray(0, half));
  const startedMs = Date.now();
  let sent = 0;
  while (Date.now() - startedMs < 2000) {
    await sleep(120);
    p.socket.write(Buffer.concat([frame.subarray(half), frame.subarray(0, half)]));
    sent += 2;
  }
  const deadlineMs = Date.now() + 20_000;
  while (p.queued() < sent && !p.socket.destroyed && Date.now() < deadlineMs) await sleep(10);
  assert.equal(server.stats().partialFramesTimedOut, 0);
  assert.equal(p.socket.destroyed, false);
  assert.equal(p.queued(), sent, 'every whole frame was answered');
});

function encode(): Buffer {
  const h = Buffer.from(JSON.stringify({ code: echoCode, language: 'JAVA', version: 453, opaque: 7, flag: 0 }));
  const out = Buffer.alloc(8 + h.length);
  out.writeInt32BE(4 + h.length, 0);
  out.writeInt32BE(h.length, 4);
  h.copy(out, 8);
  return out;
}

test('incomplete frames across connections stay under partialFramesBytesMax: the largest holder is closed', async () => {
  const budgetBytes = 4 * 1024 * 1024;
  const server = await startServer({ limits: { partialFramesBytesMax: budgetBytes } });
  const good = await peer(server.port);
  const chunk = Buffer.alloc(1024 * 1024, 0x42);
  const hogs: RawPeer[] = [];
  let heldMaxBytes = 0;
  for (let i = 0; i < 20; i++) {
    const p = await peer(server.port);
    hogs.push(p);
    p.socket.write(announce());
    p.socket.write(chunk);
    // Wait until the server has read the megabyte, or has closed the connection.
    const deadlineMs = Date.now() + 3000;
    while (!p.socket.destroyed && p.socket.writableLength > 0 && Date.now() < deadlineMs) await sleep(5);
    await sleep(20);
    heldMaxBytes = Math.max(heldMaxBytes, server.stats().partialFrameBytes);
  }
  await sleep(100);
  const open = hogs.filter((p) => !p.socket.destroyed).length;
  assert.ok(open <= 4, `${open} connections each holding 1 MiB of a frame are open; the budget is 4 MiB`);
  assert.ok(heldMaxBytes <= budgetBytes, `incomplete frames held ${heldMaxBytes} bytes at once`);
  assert.ok(await echoOk(good), 'the well-behaved client was not answered');
  assert.ok(server.stats().partialFramesDroppedOverBudget >= 16);
  assert.ok(logs.some((l) => l.includes('incomplete frames over partialFramesBytesMax')));
});
