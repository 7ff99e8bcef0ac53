/**
 * The server's sockets read into slabs (read-slab.ts): consecutive reads lie next to each other in one slab, the
 * FrameDecoder merges such chunks so that a frame across reads is a view instead of a copy, quiet connections read
 * through a shared scratch buffer copied out at once. What must hold: every frame's bytes as sent, also for a
 * request a handler keeps past any number of later reads on its connection and on others (no slab or scratch byte
 * is reused under a live view); frames split anywhere, slow, interleaved over connections; half-close.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { decodeFrame, encodeFrameParts, FrameDecoder } from '../../src/remoting/codec.js';
import { createRequest, createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import type { Channel } from '../../src/remoting/connection.js';
import { bulkBytes, slabBytes, trickleReads } from '../../src/remoting/read-slab.js';
import { type RemotingConnection, RemotingServer } from '../../src/remoting/server.js';
import { captureLogs } from './helpers.js';

captureLogs();

/** A frame of `bytes` content bytes (after the 4-byte length prefix), its content from `seed`. */
function rawFrame(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(4 + bytes);
  out.writeUInt32BE(bytes, 0);
  for (let i = 4; i < out.length; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
}

/** A deterministic generator (tests repeatable). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('the decoder merges a chunk that continues the last one in memory: a frame across both is a view', () => {
  const slab = Buffer.allocUnsafeSlow(300_000);
  const stream = Buffer.concat([rawFrame(70_000, 1), rawFrame(100, 2), rawFrame(150_000, 3)]);
  stream.copy(slab);
  const decoder = new FrameDecoder();
  const frames: Buffer[] = [];
  // Reads of 64 KiB into consecutive places of the slab, as the slab reader's.
  for (let at = 0; at < stream.length; at += 65536) {
    const end = Math.min(stream.length, at + 65536);
    for (const f of decoder.push(slab.subarray(at, end))) frames.push(f);
  }
  assert.equal(frames.length, 3);
  let at = 0;
  for (const f of frames) {
    assert.equal(f.buffer, slab.buffer, 'a frame across reads of one slab was copied');
    assert.equal(f.byteOffset, at + 4);
    assert.ok(f.equals(stream.subarray(at + 4, at + 4 + f.length)));
    at += 4 + f.length;
  }
  assert.equal(decoder.pendingBytes, 0);
});

test('chunks of one buffer with a gap, or of other buffers, are not merged', () => {
  const slab = Buffer.allocUnsafeSlow(64);
  const frame = rawFrame(20, 5);
  frame.copy(slab, 0, 0, 10);
  slab.fill(0xee, 10, 12);
  frame.copy(slab, 12, 10);
  const decoder = new FrameDecoder();
  assert.deepEqual(decoder.push(slab.subarray(0, 10)), []);
  const [f] = decoder.push(slab.subarray(12, 12 + frame.length - 10));
  assert.ok(f?.equals(frame.subarray(4)), 'the gap leaked into the frame');
  const other = new FrameDecoder();
  assert.deepEqual(other.push(Buffer.from(frame.subarray(0, 9))), []);
  const [g] = other.push(Buffer.from(frame.subarray(9)));
  assert.ok(g?.equals(frame.subarray(4)));
});

test('the decoder carries an incomplete last frame into a new buffer: the rest read after it merges into a view', () => {
  const stream = Buffer.concat([rawFrame(50, 1), rawFrame(70_000, 2), rawFrame(30, 3), rawFrame(20_000, 4)]);
  const decoder = new FrameDecoder();
  assert.equal(decoder.missingBytes, -1);
  // Two chunks of other buffers hold the second frame's start.
  const [first] = decoder.push(Buffer.from(stream.subarray(0, 40_000)));
  assert.ok(first?.equals(stream.subarray(4, 54)));
  assert.deepEqual(decoder.push(Buffer.from(stream.subarray(40_000, 50_000))), []);
  assert.equal(decoder.missingBytes, 70_000 - (50_000 - 58));
  assert.equal(decoder.tailBytes, 50_000 - 58);
  const slab = Buffer.allocUnsafeSlow(100_000);
  decoder.moveTailInto(decoder.tailBytes, slab);
  assert.equal(decoder.pendingBytes, 50_000 - 58);
  const carried = 50_000 - 58;
  const end2 = 54 + 70_004;
  stream.copy(slab, carried, 50_000, end2 + 10);
  const frames = decoder.push(slab.subarray(carried, carried + end2 + 10 - 50_000));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.buffer, slab.buffer, 'the frame was joined instead of read on after its carried start');
  assert.ok(frames[0]!.equals(stream.subarray(58, end2)));
  // 10 bytes of the next frames held: the prefix of the 30-byte frame is known, the frame is not complete.
  assert.equal(decoder.missingBytes, 34 - 10);
  // Complete frames held before an incomplete one (not taken yet): only the incomplete one moves.
  const other = new FrameDecoder();
  other.append(Buffer.from(stream.subarray(end2, end2 + 2)));
  assert.equal(other.missingBytes, -1, 'a prefix alone has no known length');
  other.append(Buffer.from(stream.subarray(end2 + 2, end2 + 34 + 3)));
  assert.equal(other.missingBytes, -1);
  other.append(Buffer.from(stream.subarray(end2 + 37, end2 + 34 + 5_000)));
  assert.equal(other.missingBytes, 20_004 - 5_000);
  assert.equal(other.tailBytes, 5_000);
  const next = Buffer.allocUnsafeSlow(30_000);
  other.moveTailInto(5_000, next);
  stream.copy(next, 5_000, end2 + 34 + 5_000);
  const [small, large] = other.push(next.subarray(5_000, 20_004));
  assert.ok(small?.equals(stream.subarray(end2 + 4, end2 + 34)));
  assert.equal(large?.buffer, next.buffer);
  assert.ok(large?.equals(stream.subarray(end2 + 38)));
  assert.equal(other.pendingBytes, 0);
  assert.throws(() => other.moveTailInto(10, Buffer.alloc(10)), RangeError);
});

test('random frames split at random places, in slabs, in separate chunks and mixed, decode the same', () => {
  const next = rng(42);
  for (let round = 0; round < 40; round++) {
    const sent: Buffer[] = [];
    for (let i = 0; i < 1 + Math.floor(next() * 12); i++) {
      const size = next() < 0.3 ? 4 + Math.floor(next() * 8) : 4 + Math.floor(next() * (next() < 0.2 ? 200_000 : 3000));
      sent.push(rawFrame(size, round * 100 + i));
    }
    const stream = Buffer.concat(sent);
    // Cut points, then each piece placed: right after the previous one in the same slab, or in a new buffer.
    const pieces: Buffer[] = [];
    let slab = Buffer.allocUnsafeSlow(stream.length);
    let slabPos = 0;
    for (let at = 0; at < stream.length; ) {
      const n = Math.min(stream.length - at, 1 + Math.floor(next() * (next() < 0.5 ? 10 : 90_000)));
      const mode = next();
      if (mode < 0.2) {
        pieces.push(Buffer.from(stream.subarray(at, at + n)));
      } else {
        if (mode < 0.3) {
          slab = Buffer.allocUnsafeSlow(stream.length);
          slabPos = 0;
        } else if (mode < 0.4) {
          slabPos += 1; // a gap
        }
        if (slabPos + n > slab.length) {
          slab = Buffer.allocUnsafeSlow(stream.length + 1);
          slabPos = 0;
        }
        stream.copy(slab, slabPos, at, at + n);
        pieces.push(slab.subarray(slabPos, slabPos + n));
        slab.fill(0xcc, slabPos + n, Math.min(slab.length, slabPos + n + 1));
        slabPos += n;
      }
      at += n;
    }
    const decoder = new FrameDecoder();
    const got: Buffer[] = [];
    for (const p of pieces) for (const f of decoder.push(p)) got.push(f);
    assert.equal(got.length, sent.length, `round ${round}`);
    for (let i = 0; i < sent.length; i++) assert.ok(got[i]!.equals(sent[i]!.subarray(4)), `round ${round} frame ${i}`);
    assert.equal(decoder.pendingBytes, 0);
  }
});

test('random frames appended in random pieces, taken at random times, their incomplete tail carried at random', () => {
  const next = rng(7);
  for (let round = 0; round < 60; round++) {
    const sent: Buffer[] = [];
    for (let i = 0; i < 2 + Math.floor(next() * 10); i++) {
      sent.push(rawFrame(4 + Math.floor(next() * (next() < 0.3 ? 8 : 40_000)), round * 100 + i));
    }
    const stream = Buffer.concat(sent);
    const starts: number[] = [];
    for (let i = 0, at = 0; i < sent.length; at += sent[i]!.length, i++) starts.push(at);
    const decoder = new FrameDecoder();
    const got: Buffer[] = [];
    let pushed = 0;
    while (got.length < sent.length) {
      if (pushed < stream.length) {
        const n = Math.min(stream.length - pushed, 1 + Math.floor(next() * (next() < 0.5 ? 6 : 30_000)));
        decoder.append(Buffer.from(stream.subarray(pushed, pushed + n)));
        pushed += n;
      }
      // Take some of the complete frames, not always all (a connection's turn ends).
      const takes = pushed === stream.length ? Number.POSITIVE_INFINITY : Math.floor(next() * 3);
      for (let k = 0; k < takes; k++) {
        const f = decoder.next();
        if (f === undefined) break;
        got.push(f);
      }
      // The reference: the frame that `pushed` falls in, if it is incomplete with its prefix held.
      const last = starts.findLastIndex((at) => at < pushed);
      const at = last < 0 ? 0 : starts[last]!;
      const end = last < 0 ? 0 : at + sent[last]!.length;
      const incomplete = last >= 0 && end > pushed && pushed - at >= 4 && last >= got.length;
      const expected = incomplete ? end - pushed : -1;
      assert.equal(decoder.missingBytes, expected, `round ${round}, ${pushed} of ${stream.length} bytes`);
      if (incomplete) {
        const prefixRead = last === got.length && decoder.expectedBytes >= 0;
        const tail = pushed - at - (prefixRead ? 4 : 0);
        assert.equal(decoder.tailBytes, tail, `round ${round}: tail`);
        if (next() < 0.3) {
          // Carried into a new buffer, the rest of which the next pieces fill, as a slab's reader does.
          const into = Buffer.allocUnsafeSlow(tail + (end - pushed));
          decoder.moveTailInto(tail, into);
          stream.copy(into, tail, pushed, end);
          decoder.append(into.subarray(tail));
          pushed = end;
        }
      }
    }
    for (let i = 0; i < sent.length; i++) assert.ok(got[i]!.equals(sent[i]!.subarray(4)), `round ${round} frame ${i}`);
    assert.equal(decoder.pendingBytes, 0);
  }
});

// Over real sockets: a server whose handler keeps every request until told to answer.
const Code = { hold: 2000, flush: 2001, echo: 2002 } as const;
const server = new RemotingServer({ name: 'slab-test', port: 0, host: '127.0.0.1' });
const held: Array<{ req: RemotingCommand; conn: RemotingConnection }> = [];

before(async () => {
  server.registerProcessor(Code.hold, (req, conn) => {
    held.push({ req, conn });
    return undefined;
  });
  server.registerProcessor(Code.echo, (req) => createResponse(req, 0, 'echo', undefined, req.body));
  await server.start();
});
after(() => server.close());

interface Peer {
  socket: Socket;
  answers: RemotingCommand[];
  waitAnswers(n: number): Promise<void>;
}

async function peer(): Promise<Peer> {
  const socket = connect({ host: '127.0.0.1', port: server.port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const decoder = new FrameDecoder();
  const answers: RemotingCommand[] = [];
  let wake = (): void => {};
  socket.on('data', (chunk: Buffer) => {
    for (const f of decoder.push(chunk)) answers.push(decodeFrame(Buffer.from(f)));
    wake();
  });
  return {
    socket,
    answers,
    waitAnswers: async (n) => {
      while (answers.length < n) await new Promise<void>((resolve) => (wake = resolve));
    },
  };
}

function frameBytes(cmd: RemotingCommand): Buffer {
  return Buffer.concat(encodeFrameParts(cmd));
}

function bodyOf(n: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (n * 131 + i * 17 + (i >> 8)) & 0xff;
  return b;
}

/** Waits until `n` requests are held; fails when a peer's connection was closed (a frame did not decode). */
async function waitHeld(n: number, peers: Socket[]): Promise<void> {
  while (held.length < n) {
    for (const s of peers)
      if (s.closed || s.readableEnded) assert.fail(`connection closed with ${held.length} of ${n} held`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Answers every held request with its body as it is now. */
function answerHeld(): void {
  for (const { req, conn } of held.splice(0)) conn.send(createResponse(req, 0, 'held', undefined, req.body));
}

test('requests kept past later reads keep their bytes: bulk frames are views into slabs never reused', async () => {
  const p = await peer();
  const count = 60;
  const bodies: Buffer[] = [];
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    // 20–90 KB: most frames span reads, many span slabs.
    const body = bodyOf(i, 20_000 + ((i * 7919) % 70_000));
    bodies.push(body);
    frames.push(frameBytes(createRequest(Code.hold, { n: i }, body)));
  }
  // Written in pieces of every size, so reads end anywhere.
  const all = Buffer.concat(frames);
  const next = rng(7);
  for (let at = 0; at < all.length; ) {
    const n = Math.min(all.length - at, 1 + Math.floor(next() * 200_000));
    p.socket.write(all.subarray(at, at + n));
    at += n;
    if (next() < 0.2) await new Promise((resolve) => setImmediate(resolve));
  }
  await waitHeld(count, [p.socket]);
  const conn = held[0]!.conn as Channel;
  const stats = conn.readStats;
  assert.ok(stats !== undefined, 'the server socket did not read into slabs on this Node');
  assert.ok(stats.slabs >= 5, `${stats.slabs} slabs for ${all.length} bytes`);
  // Frames inside one slab are views into it, not copies.
  const views = held.filter(({ req }) => req.body?.buffer.byteLength === slabBytes).length;
  assert.ok(views >= count / 2, `only ${views} of ${count} bodies are views into a slab`);
  // More traffic on this connection and on another one before the held requests are looked at.
  const other = await peer();
  for (let i = 0; i < 40; i++) {
    other.socket.write(frameBytes(createRequest(Code.echo, { n: i }, bodyOf(1000 + i, 100 + i * 3000))));
    p.socket.write(frameBytes(createRequest(Code.echo, { n: i }, bodyOf(2000 + i, 70_000))));
  }
  await other.waitAnswers(40);
  await p.waitAnswers(40);
  assert.ok(!p.socket.closed && !other.socket.closed);
  for (let i = 0; i < 40; i++) {
    assert.ok(other.answers[i]!.body?.equals(bodyOf(1000 + i, 100 + i * 3000)) ?? false, `echo ${i}`);
    assert.ok(p.answers[i]!.body?.equals(bodyOf(2000 + i, 70_000)) ?? false, `echo ${i} on the held connection`);
  }
  const byN = new Map(held.map(({ req }) => [Number(req.extFields?.['n']), req.body]));
  for (let i = 0; i < count; i++) assert.ok(byN.get(i)?.equals(bodies[i]!), `held body ${i} changed`);
  answerHeld();
  await p.waitAnswers(40 + count);
  for (let i = 0; i < count; i++) assert.ok(p.answers[40 + i]!.body?.equals(bodies[i]!), `answer ${i}`);
  p.socket.destroy();
  other.socket.destroy();
});

test('a stream of bulk frames: every frame is a view into one slab, none joined across two', async () => {
  const p = await peer();
  const count = 200;
  const bodies: Buffer[] = [];
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    // 66 KB as a SEND_BATCH of 64 × 1 KiB, some larger and smaller: frames end anywhere in a slab.
    const body = bodyOf(5000 + i, 60_000 + ((i * 4099) % 12_000));
    bodies.push(body);
    frames.push(frameBytes(createRequest(Code.hold, { n: i }, body)));
  }
  const all = Buffer.concat(frames);
  for (let at = 0; at < all.length; at += 1 << 20) p.socket.write(all.subarray(at, at + (1 << 20)));
  await waitHeld(count, [p.socket]);
  const stats = (held[0]!.conn as Channel).readStats!;
  assert.ok(stats.slabs >= all.length / slabBytes, `${stats.slabs} slabs for ${all.length} bytes`);
  // A connection starts quiet: its first reads go through the scratch buffer and are copied out until one of at
  // least bulkBytes takes a slab, so the first two frames may lie partly in such copies; every later one lies in a
  // slab, and a frame that would end past its slab's end is carried or ended early, never joined.
  const joined = held.filter(
    ({ req }) => Number(req.extFields?.['n']) > 1 && req.body?.buffer.byteLength !== slabBytes,
  );
  assert.equal(
    joined.length,
    0,
    `frames joined across slabs: ${joined.map(({ req }) => req.extFields?.['n']).join(' ')} (carries ${stats.carries}, reads ended at a frame's end ${stats.frameEndReads})`,
  );
  const byN = new Map(held.map(({ req }) => [Number(req.extFields?.['n']), req.body]));
  for (let i = 0; i < count; i++) assert.ok(byN.get(i)?.equals(bodies[i]!), `frame ${i}`);
  answerHeld();
  await p.waitAnswers(count);
  for (let i = 0; i < count; i++) assert.ok(p.answers[i]!.body?.equals(bodies[i]!), `answer ${i}`);
  p.socket.destroy();
});

test('quiet connections read through the shared scratch buffer: small frames byte by byte, interleaved', async () => {
  const peers = await Promise.all([peer(), peer(), peer()]);
  const frames = peers.map((_, k) =>
    Array.from({ length: 30 }, (_, i) =>
      frameBytes(createRequest(Code.hold, { k, n: i }, bodyOf(k * 100 + i, i * 40))),
    ),
  );
  const streams = frames.map((f) => Buffer.concat(f));
  // One byte at a time from each peer in turn for the first frames, then pieces of a few hundred bytes.
  const at = streams.map(() => 0);
  for (let step = 0; at.some((a, k) => a < streams[k]!.length); step++) {
    for (let k = 0; k < peers.length; k++) {
      const s = streams[k]!;
      if (at[k]! >= s.length) continue;
      const n = Math.min(s.length - at[k]!, at[k]! < 300 ? 1 : 1 + ((step * 37 + k * 11) % 400));
      peers[k]!.socket.write(s.subarray(at[k]!, at[k]! + n));
      at[k]! += n;
    }
    if (step % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await waitHeld(
    90,
    peers.map((x) => x.socket),
  );
  for (const { req } of held) {
    const k = Number(req.extFields?.['k']);
    const n = Number(req.extFields?.['n']);
    assert.ok((req.body ?? Buffer.alloc(0)).equals(bodyOf(k * 100 + n, n * 40)), `peer ${k} frame ${n}`);
  }
  const stats = (held[0]!.conn as Channel).readStats!;
  assert.equal(stats.slabs, 0, 'a quiet connection took a slab');
  assert.equal(stats.copiedReads, stats.reads);
  answerHeld();
  for (const p of peers) {
    await p.waitAnswers(30);
    p.socket.destroy();
  }
});

test('a connection that turns bulk and quiet again: every frame intact, held ones too', async () => {
  const p = await peer();
  const expected: Buffer[] = [];
  let n = 0;
  for (let round = 0; round < 6; round++) {
    // Quiet: a few small requests, one at a time.
    for (let i = 0; i < 3; i++) {
      const body = bodyOf(n, 50 + i);
      expected.push(body);
      p.socket.write(frameBytes(createRequest(Code.hold, { n: n++ }, body)));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    // Bulk: a burst of large frames.
    const burst: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const body = bodyOf(n, bulkBytes + 1000 * i + round);
      expected.push(body);
      burst.push(frameBytes(createRequest(Code.hold, { n: n++ }, body)));
    }
    p.socket.write(Buffer.concat(burst));
    await waitHeld(n, [p.socket]);
  }
  const stats = (held[0]!.conn as Channel).readStats!;
  assert.ok(stats.slabs >= 2, `${stats.slabs} slabs`);
  assert.ok(stats.copiedReads < stats.reads && stats.copiedReads > 0, 'both kinds of read were used');
  const byN = new Map(held.map(({ req }) => [Number(req.extFields?.['n']), req.body]));
  for (let i = 0; i < n; i++) assert.ok(byN.get(i)?.equals(expected[i]!), `frame ${i}`);
  answerHeld();
  await p.waitAnswers(n);
  p.socket.destroy();
});

test('frames sent one at a time (a broker that keeps up reads 64 KiB + a small tail): one slab for several', async () => {
  const p = await peer();
  const count = 30;
  for (let i = 0; i < count; i++) {
    p.socket.write(frameBytes(createRequest(Code.echo, { n: i }, bodyOf(3000 + i, 66_000))));
    await p.waitAnswers(i + 1);
    assert.ok(p.answers[i]!.body?.equals(bodyOf(3000 + i, 66_000)), `frame ${i}`);
  }
  p.socket.write(frameBytes(createRequest(Code.hold, { n: 0 })));
  await waitHeld(1, [p.socket]);
  const stats = (held[0]!.conn as Channel).readStats!;
  assert.ok(stats.slabs <= count / 3, `${stats.slabs} slabs for ${count} frames of 66 KB sent one at a time`);
  answerHeld();
  await p.waitAnswers(count + 1);
  p.socket.destroy();
});

test('a bulk read then a trickle: the held bytes leave the slab, the frame arrives whole', async () => {
  const p = await peer();
  const body = bodyOf(77, 100_000);
  const frame = frameBytes(createRequest(Code.hold, { n: 0 }, body));
  p.socket.write(frame.subarray(0, 50_000));
  let at = 50_000;
  for (let i = 0; i < trickleReads + 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    p.socket.write(frame.subarray(at, at + 100));
    at += 100;
  }
  p.socket.write(frame.subarray(at));
  await waitHeld(1, [p.socket]);
  const { req, conn } = held[0]!;
  assert.ok(req.body?.equals(body));
  const stats = (conn as Channel).readStats!;
  assert.ok(stats.compactions >= 1, 'a trickling connection kept its slab');
  assert.notEqual(req.body?.buffer.byteLength, slabBytes, 'the frame is still a view into the slab it left');
  answerHeld();
  await p.waitAnswers(1);
  p.socket.destroy();
});

test('a peer that half-closes after its frames: the frames are handled and the connection closes', async () => {
  const socket = connect({ host: '127.0.0.1', port: server.port });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.on('data', () => {});
  const body = randomBytes(100_000);
  socket.end(frameBytes(createRequest(Code.hold, { n: 1 }, body)));
  while (held.length < 1) await new Promise((resolve) => setTimeout(resolve, 2));
  const { req, conn } = held.splice(0)[0]!;
  assert.ok(req.body?.equals(body));
  await new Promise<void>((resolve) => conn.onClose(resolve));
  assert.ok(conn.closed);
  socket.destroy();
});
