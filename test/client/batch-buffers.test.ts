import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BatchItem, decodeBatchBody } from '../../src/broker/processors/batch-codec.js';
import { encodeBatch } from '../../src/client/batch.js';
import {
  batchBuffersFreeBytes,
  giveBackBatchBuffer,
  pooledBytesMax,
  takeBatchBuffer,
} from '../../src/client/batch-buffers.js';
import { encodeMessageProperties, type Message } from '../../src/client/message.js';

test('a batch buffer is reused only after it was given back, and given back at most once', () => {
  const a = takeBatchBuffer(70_000);
  assert.equal(a.length, 70_000);
  const b = takeBatchBuffer(70_000);
  assert.ok(a.buffer !== b.buffer, 'a buffer not given back is not handed out again');
  const free = batchBuffersFreeBytes();
  giveBackBatchBuffer(a);
  const held = batchBuffersFreeBytes() - free;
  assert.ok(held >= 70_000, `holds ${held} bytes`);
  // Twice: ignored, else two batches would share one buffer.
  giveBackBatchBuffer(a);
  assert.equal(batchBuffersFreeBytes() - free, held);
  const c = takeBatchBuffer(65_600);
  assert.ok(c.buffer === a.buffer, 'the same size class is served from the given-back buffer');
  assert.equal(c.length, 65_600);
  const d = takeBatchBuffer(70_000);
  assert.ok(d.buffer !== a.buffer);
  // Buffers the pool did not hand out are left alone, as are small and huge bodies.
  giveBackBatchBuffer(Buffer.allocUnsafeSlow(128 * 1024));
  const small = takeBatchBuffer(100);
  const huge = takeBatchBuffer(pooledBytesMax + 1);
  const before = batchBuffersFreeBytes();
  giveBackBatchBuffer(small);
  giveBackBatchBuffer(huge);
  assert.equal(batchBuffersFreeBytes(), before);
  giveBackBatchBuffer(b);
  giveBackBatchBuffer(c);
  giveBackBatchBuffer(d);
});

/** The entries of `batch` decoded, each checked against what encodeMessageProperties gives for its id. */
function assertEntries(body: Buffer, msgId: string, msgs: readonly Message[]): void {
  const items = decodeBatchBody(body);
  if (typeof items === 'string') assert.fail(items);
  const ids = msgId.split(',');
  assert.equal(items.length, msgs.length);
  let pos = 0;
  for (const [i, msg] of msgs.entries()) {
    const item: BatchItem | undefined = items[i];
    assert.ok(item !== undefined);
    assert.deepEqual(Buffer.from(item.body), Buffer.from(msg.body as Buffer), `body ${i}`);
    assert.equal(item.flag, msg.flag ?? 0);
    const bodyLen = body.readInt32BE(pos + 16);
    const propsLen = body.readUInt16BE(pos + 20 + bodyLen);
    const props = body.subarray(pos + 22 + bodyLen, pos + 22 + bodyLen + propsLen);
    assert.deepEqual(props, Buffer.from(encodeMessageProperties(msg, ids[i] as string)), `properties ${i}`);
    pos += body.readInt32BE(pos);
  }
  assert.equal(pos, body.length);
}

test('a batch encoded into a reused buffer holds exactly its own bytes, none of the previous batch', () => {
  const msgsOf = (fill: number, n: number): Message[] =>
    Array.from({ length: n }, (_, i) => ({
      topic: 'T',
      body: Buffer.alloc(900 + (i % 7) * 31, fill + i),
      ...(i % 3 === 0 ? { tags: `tag${i}`, flag: i } : {}),
    }));
  const first = msgsOf(1, 64);
  const a = encodeBatch(first);
  assertEntries(a.body, a.msgId, first);
  // Dirty it: the next batch must not depend on zeroes.
  a.body.fill(0xee);
  giveBackBatchBuffer(a.body);
  const second = msgsOf(50, 62);
  const b = encodeBatch(second);
  assert.ok(b.body.buffer === a.body.buffer, 'reused');
  assertEntries(b.body, b.msgId, second);
});
