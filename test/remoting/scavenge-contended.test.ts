/**
 * gcSerialScavengeWhileContended: a server whose connections compete for turns (a flood) while its event loop waits
 * for a core (the run-queue share, fixed here) switches its process to serial scavenges, and back to V8's parallel
 * ones once a lone connection has had the turns to itself for a while; a lone busy connection never switches it, nor
 * do competing connections on cores with room. Counted in turns and frames, not time.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRequest, createResponse } from '../../src/remoting/command.js';
import { ScavengeMode, scavengeModeApplied } from '../../src/remoting/gc-mode.js';
import { RemotingServer } from '../../src/remoting/server.js';
import { calmTurnsToLeave, contendedTurnsToEnter } from '../../src/remoting/turn-share.js';
import { captureLogs, encodeFrame, type RawPeer, rawPeer } from './helpers.js';

captureLogs();
const framesPerTurnMax = 32;
const framesPerContendedTurnMax = 4;
/** The cores are oversubscribed: the event loop waited for one half of the time. */
const server = new RemotingServer({
  name: 'scavenge-contended',
  port: 0,
  host: '127.0.0.1',
  limits: { framesPerTurnMax, framesPerContendedTurnMax },
  runQueueShare: () => 0.5,
});
const code = 2110;
/** Scavenge mode seen by each handled frame, in handling order. */
const seen: Array<ScavengeMode | undefined> = [];

before(async () => {
  server.registerProcessor(code, (req) => {
    seen.push(scavengeModeApplied());
    return createResponse(req, 0, 'ok');
  });
  await server.start();
});

after(async () => {
  await server.close();
});

async function answers(peer: RawPeer, count: number): Promise<void> {
  for (let i = 0; i < count; i++) assert.equal((await peer.next()).code, 0);
}

const frames = (count: number) =>
  Buffer.concat(Array.from({ length: count }, () => encodeFrame(createRequest(code, {}, Buffer.alloc(256)))));

/** One request at a time, `count` times: each in a turn of its own. */
async function pingPong(peer: RawPeer, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    peer.socket.write(frames(1));
    await answers(peer, 1);
  }
}

test('a lone busy connection keeps the parallel scavenge', async () => {
  assert.equal(scavengeModeApplied(), ScavengeMode.parallel);
  const a = await rawPeer(server.port);
  seen.length = 0;
  // At most framesPerTurnMax a turn: ≥ 100 turns of one connection.
  a.socket.write(frames(100 * framesPerTurnMax));
  await answers(a, 100 * framesPerTurnMax);
  assert.deepEqual(new Set(seen), new Set([ScavengeMode.parallel]));
  a.socket.destroy();
});

test('competing connections switch to serial scavenges; a lone one afterwards switches back', async () => {
  const a = await rawPeer(server.port);
  const b = await rawPeer(server.port);
  seen.length = 0;
  // Two shares of 2 frames a turn: 200 frames each take ~100 turns of competition, more than contendedTurnsToEnter.
  const count = 200;
  a.socket.write(frames(count));
  b.socket.write(frames(count));
  await Promise.all([answers(a, count), answers(b, count)]);
  assert.equal(seen[0], ScavengeMode.parallel);
  assert.equal(seen.at(-1), ScavengeMode.serial, 'still parallel after the two bursts');
  const switched = seen.indexOf(ScavengeMode.serial);
  // Not before contendedTurnsToEnter turns of at least one frame each (here 2 connections × 2 frames a turn).
  assert.ok(switched >= contendedTurnsToEnter, `serial after ${switched} frames`);
  b.socket.destroy();

  seen.length = 0;
  await pingPong(a, calmTurnsToLeave + 20);
  assert.equal(seen[0], ScavengeMode.serial);
  assert.equal(seen.at(-1), ScavengeMode.parallel, 'a lone connection did not bring the parallel scavenge back');
  a.socket.destroy();
});

test('competing connections on cores with room keep the parallel scavenge', async () => {
  const roomy = new RemotingServer({
    name: 'scavenge-roomy',
    port: 0,
    host: '127.0.0.1',
    limits: { framesPerTurnMax, framesPerContendedTurnMax },
    runQueueShare: () => 0.01,
  });
  roomy.registerProcessor(code, (req) => {
    seen.push(scavengeModeApplied());
    return createResponse(req, 0, 'ok');
  });
  await roomy.start();
  try {
    assert.equal(scavengeModeApplied(), ScavengeMode.parallel);
    const a = await rawPeer(roomy.port);
    const b = await rawPeer(roomy.port);
    seen.length = 0;
    const count = 200;
    a.socket.write(frames(count));
    b.socket.write(frames(count));
    await Promise.all([answers(a, count), answers(b, count)]);
    assert.equal(seen.length, 2 * count);
    assert.deepEqual(new Set(seen), new Set([ScavengeMode.parallel]));
    a.socket.destroy();
    b.socket.destroy();
  } finally {
    await roomy.close();
  }
});
