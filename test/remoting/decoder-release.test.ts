/**
 * The FrameDecoder lets go of each chunk (a socket read) once its bytes are consumed, even when it always holds
 * an incomplete frame (a steady stream never drains it): before, consumed chunks stayed in its array until 1024
 * piled up, 64 MiB per connection under a flood (the fairness bench's broker RSS).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FrameDecoder } from '../../src/remoting/codec.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A frame of `bytes` content bytes (after the 4-byte length prefix). */
function frame(bytes: number): Buffer {
  const out = Buffer.alloc(4 + bytes, 0x61);
  out.writeUInt32BE(bytes, 0);
  return out;
}

test('consumed chunks are released while a frame stays incomplete', async () => {
  const decoder = new FrameDecoder();
  const refs: Array<WeakRef<ArrayBuffer>> = [];
  // Each chunk: the end of the previous frame, a whole frame, and the start of the next (never drained).
  const feed = (i: number): number => {
    const whole = Buffer.concat([frame(1000), frame(1000)]);
    // allocUnsafeSlow: a chunk of its own, as a socket read is (not a slice of the shared pool).
    const chunk = Buffer.allocUnsafeSlow(i === 0 ? 1500 : 2008);
    (i === 0 ? whole.subarray(0, 1500) : Buffer.concat([whole.subarray(1500), whole.subarray(0, 1500)])).copy(chunk);
    refs.push(new WeakRef(chunk.buffer));
    decoder.append(chunk);
    let frames = 0;
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) frames++;
    return frames;
  };
  let frames = 0;
  for (let i = 0; i < 100; i++) frames += feed(i);
  assert.equal(frames, 1 + 99 * 2);
  assert.ok(decoder.pendingBytes > 0, 'a frame is still incomplete');
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  const alive = refs.filter((r) => r.deref() !== undefined).length;
  // The last chunk holds the incomplete frame's bytes (the one before may, too); the others are garbage.
  assert.ok(alive <= 2, `${alive} of 100 consumed chunks still referenced`);
});
