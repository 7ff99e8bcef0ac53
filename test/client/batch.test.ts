import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBatchBody } from '../../src/broker/processors/batch-codec.js';
import { encodeBatch } from '../../src/client/batch.js';
import { encodeMessageProperties } from '../../src/client/message.js';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { decodeProperties } from '../../src/common/properties.js';

test('one entry matches MessageDecoder.encodeMessage byte for byte', () => {
  const msg = { topic: 'T', body: 'hi', flag: 7, properties: { K: 'v' } };
  const batch = encodeBatch([msg]);
  const props = Buffer.from(encodeMessageProperties(msg, batch.msgId));
  const expected = Buffer.concat([
    Buffer.from([0, 0, 0, 22 + 2 + props.length]), // total size: 4+4+4+4+4+2 + body + properties
    Buffer.from([0, 0, 0, 0]), // magic
    Buffer.from([0, 0, 0, 0]), // body crc
    Buffer.from([0, 0, 0, 7]), // flag
    Buffer.from([0, 0, 0, 2]),
    Buffer.from('hi'),
    Buffer.from([0, props.length]),
    props,
  ]);
  assert.deepEqual(batch.body, expected);
});

test('a batch is the concatenation of entries with a UNIQ_KEY each', () => {
  const batch = encodeBatch([
    { topic: 'T', body: 'one', tags: 'A', keys: ['k1', 'k2'] },
    { topic: 'T', body: Buffer.from('two'), flag: 3 },
  ]);
  assert.equal(batch.topic, 'T');
  const uniqIds = batch.msgId.split(',');
  assert.equal(uniqIds.length, 2);
  // Walk it as RocketMQ's decodeMessages does.
  let pos = 0;
  const seen: { body: string; flag: number; props: Map<string, string> }[] = [];
  while (pos < batch.body.length) {
    const size = batch.body.readInt32BE(pos);
    const flag = batch.body.readInt32BE(pos + 12);
    const bodyLen = batch.body.readInt32BE(pos + 16);
    const body = batch.body.toString('utf8', pos + 20, pos + 20 + bodyLen);
    const propsLen = batch.body.readInt16BE(pos + 20 + bodyLen);
    const props = decodeProperties(batch.body.toString('utf8', pos + 22 + bodyLen, pos + 22 + bodyLen + propsLen));
    assert.equal(size, 22 + bodyLen + propsLen);
    seen.push({ body, flag, props });
    pos += size;
  }
  assert.equal(seen.length, 2);
  assert.equal(seen[0]?.body, 'one');
  assert.equal(seen[0]?.props.get('TAGS'), 'A');
  assert.equal(seen[0]?.props.get('KEYS'), 'k1 k2');
  assert.equal(seen[0]?.props.get('UNIQ_KEY'), uniqIds[0]);
  assert.equal(seen[1]?.flag, 3);
  assert.equal(seen[1]?.props.get('UNIQ_KEY'), uniqIds[1]);
  // The broker's decoder reads the same bytes.
  const items = decodeBatchBody(batch.body);
  assert.ok(Array.isArray(items));
  assert.equal(items.length, 2);
});

test('batch rules: one topic, no delay, not empty', () => {
  assert.throws(() => encodeBatch([]), InvalidArgumentError);
  assert.throws(
    () =>
      encodeBatch([
        { topic: 'A', body: 'x' },
        { topic: 'B', body: 'y' },
      ]),
    /all must use 'A'/,
  );
  assert.throws(() => encodeBatch([{ topic: 'A', body: 'x', delayTimeLevel: 2 }]), /delay/);
  assert.throws(() => encodeBatch([{ topic: 'A', body: '' }]), /empty/);
  assert.throws(
    () =>
      encodeBatch([
        { topic: 'A', body: 'x', messageGroup: 'g1' },
        { topic: 'A', body: 'y', messageGroup: 'g2' },
      ]),
    /another messageGroup/,
  );
  assert.throws(() =>
    encodeBatch([
      { topic: 'A', body: 'x', messageGroup: 'g1' },
      { topic: 'A', body: 'y' },
    ]),
  );
  assert.equal(
    encodeBatch([
      { topic: 'A', body: 'x', messageGroup: 'g1' },
      { topic: 'A', body: 'y', messageGroup: 'g1' },
    ]).msgId.split(',').length,
    2,
  );
});

test('ids written as bytes: each entry holds the properties encodeMessageProperties gives for its msgId', () => {
  const msgs = [
    { topic: 'T', body: 'plain' },
    { topic: 'T', body: 'tagged', tags: 'Täg', keys: ['ключ', 'k2'], flag: 9 },
    { topic: 'T', body: 'props', properties: { A: 'b' } },
    { topic: 'T', body: Buffer.from('last') },
  ];
  const batch = encodeBatch(msgs);
  const ids = batch.msgId.split(',');
  assert.equal(ids.length, msgs.length);
  assert.equal(new Set(ids).size, msgs.length);
  const items = decodeBatchBody(batch.body);
  assert.ok(Array.isArray(items));
  let pos = 0;
  for (const [i, msg] of msgs.entries()) {
    assert.match(ids[i] as string, /^[0-9A-F]{32}$/);
    const size = batch.body.readInt32BE(pos);
    const bodyLen = batch.body.readInt32BE(pos + 16);
    const propsLen = batch.body.readUInt16BE(pos + 20 + bodyLen);
    const props = batch.body.subarray(pos + 22 + bodyLen, pos + 22 + bodyLen + propsLen);
    assert.deepEqual(props, Buffer.from(encodeMessageProperties(msg, ids[i] as string)), `entry ${i}`);
    assert.equal(size, 22 + bodyLen + propsLen);
    pos += size;
  }
  assert.equal(pos, batch.body.length);
});

test('the batch body limit counts the encoded batch', () => {
  const msgs = Array.from({ length: 4 }, () => ({ topic: 'T', body: Buffer.alloc(100) }));
  assert.throws(() => encodeBatch(msgs, 400), /batch body is \d+ bytes, over the limit of 400/);
  assert.equal(encodeBatch(msgs, 1000).msgId.split(',').length, 4);
});

test('a UNIQ_KEY the user set is kept in a batch (as MessageClientIDSetter.setUniqID), so resends de-duplicate', () => {
  const userId = '0A0B0C0D00010000000000000000ABCD';
  const batch = encodeBatch([
    { topic: 'T', body: 'one', properties: { UNIQ_KEY: userId, K: 'v' } },
    { topic: 'T', body: 'two' },
    { topic: 'T', body: 'three', properties: { UNIQ_KEY: 'order-7' } },
    { topic: 'T', body: 'four', tags: 'x' },
  ]);
  const ids = batch.msgId.split(',');
  assert.equal(ids.length, 4);
  assert.equal(ids[0], userId);
  assert.match(ids[1] as string, /^[0-9A-F]{32}$/);
  assert.equal(ids[2], 'order-7');
  assert.match(ids[3] as string, /^[0-9A-F]{32}$/);
  const items = decodeBatchBody(batch.body);
  assert.ok(Array.isArray(items));
  const bodyLen = batch.body.readInt32BE(16);
  const propsLen = batch.body.readUInt16BE(20 + bodyLen);
  const props = decodeProperties(batch.body.toString('utf8', 22 + bodyLen, 22 + bodyLen + propsLen));
  assert.equal(props.get('UNIQ_KEY'), userId);
  assert.equal(props.get('K'), 'v');
});
