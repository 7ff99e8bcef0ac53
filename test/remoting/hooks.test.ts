/** RemotingServer request hooks: before-hooks may answer instead of the processor; after-hooks see the outcome. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TsRocketError } from '../../src/common/errors.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { createRequest, createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import { type RemotingConnection, RemotingServer, type RequestHook } from '../../src/remoting/server.js';
import { captureLogs } from './helpers.js';

const logs = captureLogs();
const server = new RemotingServer({ name: 'hooks', port: 0, host: '127.0.0.1' });
const client = new RemotingClient();
let addr = '';
const Code = { ok: 2000, slow: 2001, hold: 2002, crash: 2003, rejected: 2004 } as const;
let processorCalls = 0;
const held: Array<{ req: RemotingCommand; conn: RemotingConnection }> = [];

interface Seen {
  code: number;
  respCode: number | undefined;
  elapsedMs: number;
}
const seen: Seen[] = [];
const order: string[] = [];

before(async () => {
  server.registerProcessor(Code.ok, (req) => {
    processorCalls++;
    return createResponse(req, 0, 'ok');
  });
  server.registerProcessor(Code.slow, async (req) => {
    await new Promise((r) => setTimeout(r, 40));
    return createResponse(req, 0, 'slow');
  });
  server.registerProcessor(Code.hold, (req, conn) => {
    held.push({ req, conn });
    return undefined;
  });
  server.registerProcessor(Code.crash, () => {
    throw new TypeError('boom');
  });
  server.registerProcessor(Code.rejected, (req) => {
    processorCalls++;
    return createResponse(req, 0, 'must not run');
  });
  await server.start();
  addr = `127.0.0.1:${server.port}`;
});
after(async () => {
  await client.close();
  await server.close();
});

test('with no hook registered requests are served as before', async () => {
  const r = await client.invoke(addr, createRequest(Code.ok, {}), 3000);
  assert.equal(r.remark, 'ok');
});

test('a before-hook answers instead of the processor; after-hooks see request, response and elapsed time', async () => {
  const reject: RequestHook = {
    name: 'acl',
    before(req) {
      order.push('acl');
      return req.code === Code.rejected ? createResponse(req, 16, 'no permission for this code') : undefined;
    },
  };
  const metrics: RequestHook = {
    name: 'metrics',
    before() {
      order.push('metrics');
      return undefined;
    },
    after(req, resp, elapsedMs) {
      seen.push({ code: req.code, respCode: resp?.code, elapsedMs });
    },
  };
  // Added after the client connected: open connections get them too.
  server.addHook(reject);
  server.addHook(metrics);
  const callsBefore = processorCalls;
  const r = await client.invoke(addr, createRequest(Code.rejected, {}), 3000);
  assert.equal(r.code, 16);
  assert.equal(r.remark, 'no permission for this code');
  assert.equal(processorCalls, callsBefore, 'the processor did not run');
  assert.deepEqual(order, ['acl'], 'later before-hooks are skipped once one answered');
  assert.deepEqual(
    seen.map((s) => [s.code, s.respCode]),
    [[Code.rejected, 16]],
  );

  order.length = 0;
  const slow = await client.invoke(addr, createRequest(Code.slow, {}), 3000);
  assert.equal(slow.remark, 'slow');
  assert.deepEqual(order, ['acl', 'metrics'], 'before-hooks run in registration order');
  const last = seen.at(-1);
  assert.equal(last?.code, Code.slow);
  assert.equal(last?.respCode, 0);
  assert.ok((last?.elapsedMs ?? 0) >= 35, `elapsed ${last?.elapsedMs} ms for a 40 ms processor`);
});

test('after-hooks see the error response of a throwing processor, and undefined for a held request', async () => {
  const crash = await client.invoke(addr, createRequest(Code.crash, {}), 3000);
  assert.equal(crash.code, 1);
  assert.equal(seen.at(-1)?.code, Code.crash);
  assert.equal(seen.at(-1)?.respCode, 1);

  const pending = client.invoke(addr, createRequest(Code.hold, {}), 3000);
  // Until the server has it (a fixed 50 ms was not always enough on a busy machine).
  for (const until = Date.now() + 2000; held.length === 0 && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(held.length, 1, 'the held request reached its processor');
  assert.equal(seen.at(-1)?.code, Code.hold);
  assert.equal(seen.at(-1)?.respCode, undefined);
  const h = held.shift();
  assert.ok(h);
  h.conn.send(createResponse(h.req, 0, 'later'));
  assert.equal((await pending).remark, 'later');
});

test('a before-hook that throws a TsRocketError answers with its code; a throwing after-hook is logged only', async () => {
  const shed: RequestHook = {
    name: 'shed',
    before(req) {
      if (req.extFields?.['shed'] === 'yes') throw new TsRocketError('too busy, try later', { code: 2 });
      return undefined;
    },
    after() {
      throw new Error('metrics sink broken');
    },
  };
  server.addHook(shed);
  const busy = await client.invoke(addr, createRequest(Code.ok, { shed: 'yes' }), 3000);
  assert.equal(busy.code, 2);
  assert.equal(busy.remark, 'too busy, try later');
  const ok = await client.invoke(addr, createRequest(Code.ok, {}), 3000);
  assert.equal(ok.remark, 'ok');
  assert.ok(logs.some((l) => l.includes('request hook failed') && l.includes('hook=shed')));
});
