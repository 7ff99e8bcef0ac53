/**
 * The work connections may put into an event-loop turn: framesPerTurnMax frames per turn, shared among the
 * connections with more waiting (their sockets not read), so another connection's request is served within the
 * same turn as a burst; frames already read wait while the connection is paused for back-pressure; and answers made in the check
 * phase (where the store acks puts) leave before the next poll phase.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { createRequest, createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import { type RemotingConnection, RemotingServer } from '../../src/remoting/server.js';
import { captureLogs, encodeFrame, type RawPeer, rawPeer } from './helpers.js';

captureLogs();
const framesPerTurnMax = 4;
const server = new RemotingServer({ name: 'turns', port: 0, host: '127.0.0.1', limits: { framesPerTurnMax } });

const Code = { burst: 2000, polite: 2001, pausing: 2002, late: 2003 } as const;
/** Codes in the order the server handled them. */
const handled: number[] = [];
const pausedConns: RemotingConnection[] = [];
let pausingSeen = 0;

before(async () => {
  server.registerProcessor(Code.burst, (req) => {
    handled.push(req.code);
    return createResponse(req, 0, 'burst');
  });
  server.registerProcessor(Code.polite, (req) => {
    handled.push(req.code);
    return createResponse(req, 0, 'polite');
  });
  server.registerProcessor(Code.pausing, (req, conn) => {
    pausingSeen++;
    // As the send scheduler does when a connection's queue is full.
    if (pausingSeen === 1) {
      conn.pauseReading?.();
      pausedConns.push(conn);
    }
    return createResponse(req, 0, 'pausing');
  });
  await server.start();
});

after(async () => {
  await server.close();
});

function frames(code: number, count: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, (_, i) => encodeFrame(createRequest(code, { i: String(i) }))));
}

async function answers(peer: RawPeer, count: number): Promise<void> {
  for (let i = 0; i < count; i++) assert.equal((await peer.next()).code, 0);
}

test(`a burst of 400 frames in one read is handled a few per turn: another connection's request goes ahead`, async () => {
  const burst = await rawPeer(server.port);
  const polite = await rawPeer(server.port);
  handled.length = 0;
  // Both writes land before the server's next poll phase: the burst's socket is readable first.
  burst.socket.write(frames(Code.burst, 400));
  polite.socket.write(frames(Code.polite, 1));
  await Promise.all([answers(burst, 400), answers(polite, 1)]);
  const at = handled.indexOf(Code.polite);
  assert.ok(at >= 0 && at <= 2 * framesPerTurnMax, `polite request handled after ${at} burst frames`);
  assert.equal(handled.length, 401);
  burst.socket.destroy();
  polite.socket.destroy();
});

/** Two connections each write `count` frames with `bodyBytes` bodies at once; returns the frames handled per turn. */
async function twoBursts(count: number, bodyBytes: number): Promise<number[]> {
  const a = await rawPeer(server.port);
  const b = await rawPeer(server.port);
  // A self-renewing immediate counts turns (one check phase each).
  let turn = 0;
  let counting = true;
  const tick = () => {
    turn++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  const perTurn = new Map<number, number>();
  server.registerProcessor(Code.burst, (req) => {
    perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
    return createResponse(req, 0, 'burst');
  });
  const body = Buffer.alloc(bodyBytes, 0x62);
  const burst = Buffer.concat(Array.from({ length: count }, () => encodeFrame(createRequest(Code.burst, {}, body))));
  a.socket.write(burst);
  b.socket.write(burst);
  await Promise.all([answers(a, count), answers(b, count)]);
  counting = false;
  a.socket.destroy();
  b.socket.destroy();
  return [...perTurn.values()];
}

for (const [count, bodyBytes, what] of [
  [100, 0, 'many frames per read'],
  [40, 60 * 1024, 'one frame per read, many reads per turn'],
] as const) {
  test(`two bursts share the turn (${what}): the frames handled per turn stay near the budget`, async () => {
    const [first, ...later] = await twoBursts(count, bodyBytes);
    // In the first turn each may take a full budget before either is known to wait; later they share one.
    assert.ok((first ?? 0) <= 2 * framesPerTurnMax, `${first} frames in the first turn`);
    // Counted per iteration here, while the server's turn starts elsewhere in the check phase: allow a share each.
    const most = Math.max(...later);
    assert.ok(most <= framesPerTurnMax + 2, `${most} frames in one turn (budget ${framesPerTurnMax})`);
    assert.ok(
      later.length + 1 >= (2 * count) / (2 * framesPerTurnMax),
      `${2 * count} frames in ${later.length + 1} turns`,
    );
  });
}

test('frames read before pauseReading wait until resumeReading (decoded, unserved work stays bounded)', async () => {
  const peer = await rawPeer(server.port);
  peer.socket.write(frames(Code.pausing, framesPerTurnMax - 1));
  await answers(peer, 1);
  // Several turns later the two frames of the same read are still waiting.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(pausingSeen, 1);
  assert.equal(peer.queued(), 0);
  pausedConns[0]?.resumeReading?.();
  await answers(peer, framesPerTurnMax - 2);
  assert.equal(pausingSeen, framesPerTurnMax - 1);
  // Reading resumed too: a later request is answered.
  peer.socket.write(frames(Code.pausing, 1));
  await answers(peer, 1);
  peer.socket.destroy();
});

test('an answer made in the check phase is handed to the socket before the next poll phase', async () => {
  const peer = await rawPeer(server.port);
  let conn: { socket: Socket } | undefined;
  for (const c of server.connections()) conn = c as unknown as { socket: Socket };
  assert.ok(conn !== undefined);
  const socket = conn.socket;
  let corkedAfterAnswer = -1;
  const checked = new Promise<void>((resolve) => {
    server.registerProcessor(
      Code.late,
      (req) =>
        new Promise<RemotingCommand>((answer) => {
          // Two immediates of one check phase: the answer's promise reactions run between them.
          setImmediate(() => answer(createResponse(req, 0, 'late')));
          setImmediate(() => {
            corkedAfterAnswer = socket.writableCorked;
            resolve();
          });
        }),
    );
  });
  peer.socket.write(frames(Code.late, 1));
  await checked;
  await answers(peer, 1);
  assert.equal(corkedAfterAnswer, 0, 'the answer was still corked after its callback and its reactions had run');
  peer.socket.destroy();
});
