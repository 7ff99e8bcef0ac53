/**
 * The turn's length while connections compete: a lone busy connection gets framesPerTurnMax frames per event-loop
 * turn, but once two or more send, the turn holds at most framesPerContendedTurnMax frames in all, so a request on a
 * quiet connection waits behind that many at most. Counted in turns (check phases), not time.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRequest, createResponse } from '../../src/remoting/command.js';
import { RemotingServer } from '../../src/remoting/server.js';
import { captureLogs, encodeFrame, type RawPeer, rawPeer } from './helpers.js';

captureLogs();
const framesPerTurnMax = 32;
const framesPerContendedTurnMax = 4;
const server = new RemotingServer({
  name: 'contended',
  port: 0,
  host: '127.0.0.1',
  limits: { framesPerTurnMax, framesPerContendedTurnMax },
});
const Code = { burst: 2100, polite: 2101 } as const;
/** The turn (one check phase each) every frame was handled in, and the codes in handling order. */
let turn = 0;
const perTurn = new Map<number, number>();
const handled: number[] = [];
/** Burst frames handled per connection, and how many each burst sends. */
const perConn = new Map<number, number>();
let burstFrames = 0;
/** Counts only while every burst connection still has frames to send (after that, one may be lone again). */
let contendedOnly = false;

before(async () => {
  for (const code of Object.values(Code)) {
    server.registerProcessor(code, (req, conn) => {
      handled.push(req.code);
      if (req.code !== Code.burst) return createResponse(req, 0, 'ok');
      perConn.set(conn.id, (perConn.get(conn.id) ?? 0) + 1);
      const competing = [...perConn.values()].every((n) => n < burstFrames);
      if (!contendedOnly || competing) perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
      return createResponse(req, 0, 'ok');
    });
  }
  await server.start();
});

after(async () => {
  await server.close();
});

async function answers(peer: RawPeer, count: number): Promise<void> {
  for (let i = 0; i < count; i++) assert.equal((await peer.next()).code, 0);
}

/** Runs `work` while a self-renewing immediate counts turns; returns the burst frames handled in each turn. */
async function countingTurns(work: () => Promise<void>): Promise<number[]> {
  perTurn.clear();
  perConn.clear();
  handled.length = 0;
  let counting = true;
  const tick = () => {
    turn++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    await work();
  } finally {
    counting = false;
  }
  return [...perTurn.values()];
}

const burst = (count: number) =>
  Buffer.concat(Array.from({ length: count }, () => encodeFrame(createRequest(Code.burst, {}, Buffer.alloc(512)))));

test('a lone busy connection gets the whole framesPerTurnMax per turn', async () => {
  const a = await rawPeer(server.port);
  burstFrames = 200;
  contendedOnly = false;
  const counts = await countingTurns(async () => {
    a.socket.write(burst(200));
    await answers(a, 200);
  });
  const most = Math.max(...counts);
  assert.ok(
    most > 2 * framesPerContendedTurnMax,
    `at most ${most} frames in a turn: the lone connection was held back`,
  );
  assert.ok(most <= framesPerTurnMax + 2, `${most} frames in one turn (budget ${framesPerTurnMax})`);
  a.socket.destroy();
});

test('while two connections send, a turn holds framesPerContendedTurnMax frames and a quiet request waits behind few', async () => {
  const a = await rawPeer(server.port);
  const b = await rawPeer(server.port);
  const polite = await rawPeer(server.port);
  const count = 200;
  burstFrames = count;
  contendedOnly = true;
  const counts = await countingTurns(async () => {
    a.socket.write(burst(count));
    b.socket.write(burst(count));
    // After a few turns of the two bursts, one request on a third connection.
    for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
    const before = handled.length;
    polite.socket.write(encodeFrame(createRequest(Code.polite, {})));
    await Promise.all([answers(a, count), answers(b, count), answers(polite, 1)]);
    const behind = handled.indexOf(Code.polite) - before;
    // It waits for the rest of the turn it arrived in and its own: two contended turns' frames at most.
    assert.ok(behind <= 2 * framesPerContendedTurnMax + 2, `the quiet request waited behind ${behind} burst frames`);
  });
  // In the first turn each may take its lone share before the other is known to compete; later they share.
  const later = counts.slice(2);
  const most = Math.max(...later);
  assert.ok(
    most <= framesPerContendedTurnMax + 2,
    `${most} frames in one turn (contended budget ${framesPerContendedTurnMax})`,
  );
  assert.equal(handled.length, 2 * count + 1);
  a.socket.destroy();
  b.socket.destroy();
  polite.socket.destroy();
});
