/**
 * TurnShare tells a flood from chance: `onContended(true)` only after connections competed in contendedTurnsToEnter
 * turns in a row, `onContended(false)` only after calmTurnsToLeave turns in a row without. Counted in turns (check
 * phases), not time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calmTurnsToLeave, contendedTurnsToEnter, TurnShare } from '../../src/remoting/turn-share.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Runs `turns` turns in which `connections` connections handle frames; returns the calls heard so far. */
async function turnsWith(share: TurnShare, connections: number, turns: number, heard: boolean[]): Promise<boolean[]> {
  for (let i = 0; i < turns; i++) {
    void share.turn;
    for (let c = 0; c < connections; c++) share.activate();
    await nextTurn();
  }
  return heard;
}

test('competing connections make the share contended only after contendedTurnsToEnter turns in a row', async () => {
  const heard: boolean[] = [];
  const share = new TurnShare(64, 16, (c) => heard.push(c));
  await turnsWith(share, 2, contendedTurnsToEnter - 1, heard);
  assert.deepEqual(heard, []);
  assert.equal(share.contended, false);
  await turnsWith(share, 2, 1, heard);
  assert.deepEqual(heard, [true]);
  assert.equal(share.contended, true);
  // Still competing: nothing more is heard.
  await turnsWith(share, 3, 10, heard);
  assert.deepEqual(heard, [true]);
});

test('a lone connection ends contention only after calmTurnsToLeave turns without competition', async () => {
  const heard: boolean[] = [];
  const share = new TurnShare(64, 16, (c) => heard.push(c));
  await turnsWith(share, 2, contendedTurnsToEnter, heard);
  assert.deepEqual(heard, [true]);
  // The last competing turn still counts for the recent-turns window (8 turns), then the calm turns count.
  await turnsWith(share, 1, 8 + calmTurnsToLeave - 2, heard);
  assert.deepEqual(heard, [true]);
  await turnsWith(share, 1, 2, heard);
  assert.deepEqual(heard, [true, false]);
  assert.equal(share.contended, false);
});

test('two connections meeting now and then (a turn in 20) never make it contended', async () => {
  const heard: boolean[] = [];
  const share = new TurnShare(64, 16, (c) => heard.push(c));
  for (let round = 0; round < 10; round++) {
    await turnsWith(share, 2, 1, heard);
    await turnsWith(share, 1, 19, heard);
  }
  assert.deepEqual(heard, []);
});
