import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { createRequest, createResponse, Flag, type RemotingCommand } from '../../src/remoting/command.js';
import { type RemotingConnection, RemotingServer } from '../../src/remoting/server.js';
import { captureLogs, gate, jsonFrame, rawPeer } from './helpers.js';

const logs = captureLogs();
const server = new RemotingServer({ name: 'test', port: 0, host: '127.0.0.1' });
const client = new RemotingClient();
let addr = '';

const slowGate = gate();
const held: Array<{ req: RemotingCommand; conn: RemotingConnection }> = [];
const onewaySeen: RemotingCommand[] = [];

const Code = {
  echo: 1000,
  slow: 1001,
  hold: 1002,
  oneway: 1003,
  callBack: 1004,
  fail: 1005,
  crash: 1006,
  big: 1007,
} as const;
/** How often each big response's onWritten ran, by request opaque. */
const bigWritten = new Map<number, number>();
const bigPart = Buffer.alloc(1024 * 1024, 0x5a);

before(async () => {
  server.registerProcessor(Code.echo, (req) =>
    createResponse(req, 0, 'echo', undefined, Buffer.from(JSON.stringify(req.extFields ?? {}))),
  );
  server.registerProcessor(Code.slow, async (req) => {
    await slowGate.promise;
    return createResponse(req, 0, 'slow');
  });
  server.registerProcessor(Code.hold, (req, conn) => {
    held.push({ req, conn });
    return undefined;
  });
  server.registerProcessor(Code.oneway, (req) => {
    onewaySeen.push(req);
    return createResponse(req, 0, 'must not be sent');
  });
  server.registerProcessor(Code.callBack, async (req, conn) => {
    const answer = await conn.invoke(createRequest(40, { group: 'g' }), 3000);
    conn.invokeOneway(createRequest(41, { note: 'oneway to client' }));
    return createResponse(req, 0, `client said ${answer.code}/${answer.remark}`);
  });
  server.registerProcessor(Code.fail, () => {
    throw new InvalidArgumentError('topic name is empty', { code: 13 });
  });
  server.registerProcessor(Code.crash, async () => {
    throw new TypeError('boom');
  });
  server.registerProcessor(Code.big, (req) => {
    const resp = createResponse(req, 0, 'big');
    resp.bodyParts = Array.from({ length: 12 }, () => bigPart);
    resp.onWritten = () => bigWritten.set(req.opaque, (bigWritten.get(req.opaque) ?? 0) + 1);
    return resp;
  });
  await server.start();
  addr = `127.0.0.1:${server.port}`;
});

after(async () => {
  await client.close();
  await server.close();
});

test('unknown code → 3 with remark, same opaque, response flag, same serialize type', async () => {
  const peer = await rawPeer(server.port);
  const req = createRequest(999, { a: '1' });
  peer.send(req);
  const resp = await peer.next();
  assert.equal(resp.code, 3);
  assert.equal(resp.remark, 'request type 999 not supported');
  assert.equal(resp.opaque, req.opaque);
  assert.equal(resp.flag & Flag.response, Flag.response);
  assert.equal(resp.serializeType, 0);
  const binary = { ...createRequest(999), serializeType: 1 as const };
  peer.send(binary);
  const resp2 = await peer.next();
  assert.equal(resp2.serializeType, 1);
  assert.equal(resp2.opaque, binary.opaque);
  assert.equal(resp2.code, 3);
  peer.socket.destroy();
});

test('extFields sent as JSON numbers and booleans reach processors as strings', async () => {
  const peer = await rawPeer(server.port);
  peer.socket.write(
    jsonFrame({
      code: Code.echo,
      language: 'JAVA',
      opaque: 77,
      flag: 0,
      version: 121,
      extFields: { queueId: 2, unitMode: false, maxMsgNums: 32, skip: null, topic: 'T' },
    }),
  );
  const resp = await peer.next();
  assert.equal(resp.opaque, 77);
  assert.deepEqual(JSON.parse(resp.body!.toString()), {
    queueId: '2',
    unitMode: 'false',
    maxMsgNums: '32',
    topic: 'T',
  });
  peer.socket.destroy();
});

test('a frame claiming 2 GiB closes that socket only; other clients keep being served', async () => {
  assert.equal((await client.invoke(addr, createRequest(Code.echo))).code, 0);
  const bad = await rawPeer(server.port);
  bad.socket.write(Buffer.from('80000000', 'hex'));
  await bad.closed;
  assert.equal((await client.invoke(addr, createRequest(Code.echo))).code, 0);
  assert.ok(logs.some((l) => l.includes('WARN') && l.includes('exceeds frameBytesMax')));
});

test('a non-JSON header closes that socket only', async () => {
  const bad = await rawPeer(server.port);
  const header = Buffer.from('{"code":10,', 'utf8');
  const frame = Buffer.alloc(8 + header.length);
  frame.writeInt32BE(4 + header.length, 0);
  frame.writeInt32BE(header.length, 4);
  header.copy(frame, 8);
  bad.socket.write(frame);
  await bad.closed;
  assert.equal((await client.invoke(addr, createRequest(Code.echo))).code, 0);
  assert.ok(logs.some((l) => l.includes('JSON header does not parse')));
});

test('requests on one connection are answered out of order', async () => {
  const peer = await rawPeer(server.port);
  const slow = createRequest(Code.slow);
  const fast = createRequest(Code.echo);
  peer.send(slow);
  peer.send(fast);
  const first = await peer.next();
  assert.equal(first.opaque, fast.opaque);
  slowGate.open();
  const second = await peer.next();
  assert.equal(second.opaque, slow.opaque);
  assert.equal(second.remark, 'slow');
  peer.socket.destroy();
});

test('a held request (processor returned undefined) does not block later ones and is answered later', async () => {
  const hold = client.invoke(addr, createRequest(Code.hold), 10_000);
  assert.equal((await client.invoke(addr, createRequest(Code.echo))).remark, 'echo');
  while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
  const h = held.shift()!;
  h.conn.send(createResponse(h.req, 19, 'no new message'));
  const resp = await hold;
  assert.equal(resp.code, 19);
});

test('oneway requests get no response, even for unknown codes', async () => {
  const peer = await rawPeer(server.port);
  const oneway = createRequest(Code.oneway, { n: 1 });
  oneway.flag |= Flag.oneway;
  const unknownOneway = createRequest(998);
  unknownOneway.flag |= Flag.oneway;
  const normal = createRequest(Code.echo);
  peer.send(oneway);
  peer.send(unknownOneway);
  peer.send(normal);
  const resp = await peer.next();
  assert.equal(resp.opaque, normal.opaque);
  assert.equal(onewaySeen.length, 1);
  assert.equal(onewaySeen[0]!.extFields?.['n'], '1');
  assert.equal(peer.queued(), 0);
  peer.socket.destroy();
});

test('server → client invoke and oneway', async () => {
  const notified: RemotingCommand[] = [];
  client.registerProcessor(40, (req) => createResponse(req, 0, `ids changed for ${req.extFields?.['group']}`));
  client.registerProcessor(41, (req) => {
    notified.push(req);
    return undefined;
  });
  const resp = await client.invoke(addr, createRequest(Code.callBack));
  assert.equal(resp.remark, 'client said 0/ids changed for g');
  while (notified.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(notified[0]!.extFields?.['note'], 'oneway to client');
});

test('client answers 3 to server-initiated requests it has no processor for', async () => {
  const conns = [...server.connections()];
  assert.ok(conns.length >= 1);
  const resp = await conns[0]!.invoke(createRequest(4242), 3000);
  assert.equal(resp.code, 3);
  assert.equal(resp.remark, 'request type 4242 not supported');
});

test('processor errors become responses: TsRocketError code + message, others SYSTEM_ERROR', async () => {
  const refused = await client.invoke(addr, createRequest(Code.fail));
  assert.equal(refused.code, 13);
  assert.equal(refused.remark, 'topic name is empty');
  const crashed = await client.invoke(addr, createRequest(Code.crash));
  assert.equal(crashed.code, 1);
  assert.equal(crashed.remark, 'boom');
});

test('close() closes connections, reports them, and stops listening', async () => {
  const s = new RemotingServer({ name: 'closing', port: 0, host: '127.0.0.1' });
  s.registerProcessor(Code.echo, (req) => createResponse(req, 0));
  await s.start();
  const closedConns: number[] = [];
  s.onConnectionClose((c) => closedConns.push(c.id));
  const peer = await rawPeer(s.port);
  peer.send(createRequest(Code.echo));
  await peer.next();
  await s.close();
  await peer.closed;
  assert.equal(closedConns.length, 1);
  await assert.rejects(rawPeer(s.port));
});

test('onWritten runs once, after the bytes reached the kernel: not while the peer does not read', async () => {
  // 5 × 12 MiB: more than the kernel's socket buffers on both sides can hold while the peer reads nothing.
  const peer = await rawPeer(server.port);
  peer.socket.pause();
  const reqs = Array.from({ length: 5 }, () => createRequest(Code.big, {}));
  for (const req of reqs) peer.send(req);
  await new Promise((r) => setTimeout(r, 300));
  const written = () => reqs.filter((r) => bigWritten.get(r.opaque) !== undefined).length;
  assert.ok(written() < reqs.length, `written while the peer reads nothing: ${written()} of ${reqs.length}`);
  peer.socket.resume();
  for (let i = 0; i < reqs.length; i++) assert.equal((await peer.next()).body?.length, 12 * 1024 * 1024);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(
    reqs.map((r) => bigWritten.get(r.opaque)),
    reqs.map(() => 1),
  );

  // A peer that goes away with responses unsent: onWritten still runs, once each.
  const gone = await rawPeer(server.port);
  gone.socket.pause();
  const reqs2 = Array.from({ length: 5 }, () => createRequest(Code.big, {}));
  for (const req of reqs2) gone.send(req);
  await new Promise((r) => setTimeout(r, 200));
  gone.socket.destroy();
  const all = () => reqs2.every((r) => bigWritten.get(r.opaque) !== undefined);
  for (let i = 0; i < 200 && !all(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(
    reqs2.map((r) => bigWritten.get(r.opaque)),
    reqs2.map(() => 1),
  );
});
