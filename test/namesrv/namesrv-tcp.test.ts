import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import type { NameServer } from '../../src/namesrv/namesrv.js';
import { startNameServer } from './helpers.js';

let ns: NameServer;
before(async () => {
  ns = await startNameServer();
});
after(async () => {
  await ns.close();
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(ns.port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** A JSON-typed frame built by hand: [len][type 0 | header len 24 bits][header][body]. */
function jsonFrame(header: string | object, body = Buffer.alloc(0)): Buffer {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + h.length + body.length);
  out.writeInt32BE(4 + h.length + body.length, 0);
  out.writeInt32BE(h.length & 0xffffff, 4); // serialize type 0 in the top byte
  h.copy(out, 8);
  body.copy(out, 8 + h.length);
  return out;
}

/** Reads one frame; resolves with its serialize type, header JSON and body. */
function readFrame(s: Socket): Promise<{ type: number; header: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      s.off('data', onData);
      const len = buf.readInt32BE(0);
      const type = buf.readUInt8(4);
      const headerLen = buf.readInt32BE(4) & 0xffffff;
      const header = JSON.parse(buf.toString('utf8', 8, 8 + headerLen));
      resolve({ type, header, body: buf.subarray(8 + headerLen, 4 + len) });
    };
    s.on('data', onData);
    s.once('error', reject);
    s.once('close', () => reject(new Error('closed before a frame arrived')));
  });
}

function closed(s: Socket, timeoutMs: number): Promise<boolean> {
  if (s.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function routeRequestWorks(): Promise<void> {
  const s = await open();
  try {
    s.write(jsonFrame({ code: 105, language: 'JAVA', version: 453, opaque: 7, flag: 0, extFields: { topic: 'X' } }));
    const res = await readFrame(s);
    assert.equal(res.header['opaque'], 7);
    assert.equal(res.header['code'], 17);
  } finally {
    s.destroy();
  }
}

test('unknown topic over a raw socket: JSON response, flag bit 0, same opaque, code 17, remark', async () => {
  const s = await open();
  try {
    s.write(
      jsonFrame({
        code: 105,
        language: 'NODE_JS',
        version: 1,
        opaque: 4242,
        flag: 0,
        extFields: { topic: 'NoSuchTopic' },
      }),
    );
    const res = await readFrame(s);
    assert.equal(res.type, 0);
    assert.equal((res.header['flag'] as number) & 1, 1);
    assert.equal(res.header['opaque'], 4242);
    assert.equal(res.header['code'], 17);
    assert.match(String(res.header['remark']), /No topic route info in name server for the topic: NoSuchTopic/);
  } finally {
    s.destroy();
  }
});

test('numeric extFields values (as ali-ons sends) and a missing header field are answered, not fatal', async () => {
  const s = await open();
  try {
    s.write(jsonFrame({ code: 105, language: 'NODE_JS', version: 1, opaque: 1, flag: 0, extFields: {} }));
    const res = await readFrame(s);
    assert.equal(res.header['opaque'], 1);
    assert.notEqual(res.header['code'], 0);
    assert.match(String(res.header['remark']), /topic/);
    s.write(
      jsonFrame({ code: 106, language: 'NODE_JS', version: 1, opaque: 2, flag: 0, extFields: { n: 5, b: true } }),
    );
    const info = await readFrame(s);
    assert.equal(info.header['code'], 0);
    assert.deepEqual(JSON.parse(info.body.toString('utf8')), { brokerAddrTable: {}, clusterAddrTable: {} });
  } finally {
    s.destroy();
  }
});

test('unknown request code gets 3 with a remark; the connection stays usable', async () => {
  const s = await open();
  try {
    s.write(jsonFrame({ code: 9999, language: 'JAVA', version: 453, opaque: 11, flag: 0 }));
    const res = await readFrame(s);
    assert.equal(res.header['code'], 3);
    assert.equal(res.header['opaque'], 11);
    assert.ok(String(res.header['remark'] ?? '').length > 0);
    s.write(jsonFrame({ code: 105, language: 'JAVA', version: 453, opaque: 12, flag: 0, extFields: { topic: 'Y' } }));
    assert.equal((await readFrame(s)).header['code'], 17);
  } finally {
    s.destroy();
  }
});

test('a frame claiming 2 GiB closes only that connection', async () => {
  const bystander = await open();
  const bad = await open();
  try {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(0x7fffffff, 0);
    bad.write(head);
    bad.on('error', () => {});
    assert.equal(await closed(bad, 10_000), true);
    assert.equal(bystander.destroyed, false);
    bystander.write(
      jsonFrame({ code: 105, language: 'JAVA', version: 453, opaque: 3, flag: 0, extFields: { topic: 'Z' } }),
    );
    assert.equal((await readFrame(bystander)).header['code'], 17);
  } finally {
    bystander.destroy();
    bad.destroy();
  }
  await routeRequestWorks();
});

test('a non-JSON header does not take the server down; the next client is served', async () => {
  const bad = await open();
  bad.on('error', () => {});
  bad.write(jsonFrame('this is {not json'));
  // The server may answer or close; either way it must keep serving others.
  await Promise.race([closed(bad, 2000), readFrame(bad).catch(() => undefined)]);
  bad.destroy();
  await routeRequestWorks();
});
