import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBatchBody, forEachBatchItem } from '../../src/broker/processors/batch-codec.js';
import { encodeBatch } from '../../src/client/batch.js';

const batch = () =>
  encodeBatch([
    { topic: 'T', body: 'first body', tags: 'A', keys: ['k1'] },
    { topic: 'T', body: Buffer.from([0, 1, 2, 0xff]), flag: 7 },
  ]).body;

test('batch items are Buffers over the request bytes: every Buffer method works on them', () => {
  const body = batch();
  const items = decodeBatchBody(body);
  assert.ok(Array.isArray(items));
  const [a, b] = items;
  assert.ok(a !== undefined && b !== undefined);
  for (const v of [a.body, b.body, a.properties, b.properties]) {
    assert.ok(Buffer.isBuffer(v));
    assert.ok(v instanceof Buffer);
    assert.equal(v.buffer, body.buffer, 'a view, not a copy');
  }
  assert.equal(a.body.toString('utf8'), 'first body');
  assert.equal(a.body.toString('latin1', 0, 5), 'first');
  assert.ok(b.body.equals(Buffer.from([0, 1, 2, 0xff])));
  assert.equal(b.body.readUInt16BE(2), 0x02ff);
  assert.equal(b.flag, 7);
  assert.ok(Buffer.isBuffer(b.body.subarray(1, 3)));
  assert.deepEqual([...b.body.subarray(1, 3)], [1, 2]);
  const copy = Buffer.alloc(4);
  b.body.copy(copy);
  assert.ok(copy.equals(b.body));
  assert.ok(Buffer.concat([a.properties as Buffer, Buffer.from([2])]).includes(Buffer.from('TAGS\u0001A')));
  assert.equal(Buffer.byteLength(a.properties as Buffer), (a.properties as Buffer).length);
  // Same place in the request as the encoding says: writing the request changes the view.
  const at = body.indexOf('first body');
  body[at] = 0x46;
  assert.equal(a.body.toString('utf8', 0, 1), 'F');
});

test('forEachBatchItem visits each item in order with its flag, body and properties', () => {
  const seen: string[] = [];
  const bad = forEachBatchItem(batch(), (flag, body, properties) => {
    seen.push(`${flag}:${body.length}:${properties.toString('latin1').includes('TAGS') ? 'tags' : '-'}`);
    return undefined;
  });
  assert.equal(bad, undefined);
  assert.deepEqual(seen, ['0:10:tags', '7:4:-']);
});
