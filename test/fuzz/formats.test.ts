/**
 * Fuzzes the decoders of stored and carried formats: CommitLog records (and PULL bodies of several), batch
 * bodies, message properties and the lenient JSON reader for Java-written bodies. Bounded time (harness.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBatchBody } from '../../src/broker/processors/batch-codec.js';
import { JsonSyntaxError, parseTolerantJson } from '../../src/common/json.js';
import { decodeProperties, encodeProperties } from '../../src/common/properties.js';
import { bodyCrc, checkRecord, decodeRecords, RecordFormatError, RecordPos } from '../../src/common/record.js';
import { type FuzzTarget, fuzz, reported } from './harness.js';

const records: FuzzTarget = {
  name: 'records',
  allowed: [RecordFormatError],
  run(raw, rng) {
    // Half the time the body CRC is made right, so mutations of the lengths get past the CRC check.
    const input = rng.below(2) === 0 ? withBodyCrcFixed(raw) : raw;
    const checked = checkRecord(input, 0, true);
    if (typeof checked === 'number') assert.ok(checked <= input.length, 'a record longer than its bytes passed');
    for (const msg of decodeRecords(input)) assert.ok(msg.storeSize <= input.length);
  },
};

function withBodyCrcFixed(raw: Buffer): Buffer {
  if (raw.length < RecordPos.body) return raw;
  const bodyLen = raw.readInt32BE(RecordPos.bodyLength);
  if (bodyLen < 0 || RecordPos.body + bodyLen > raw.length) return raw;
  const out = Buffer.from(raw);
  out.writeInt32BE(bodyCrc(out.subarray(RecordPos.body, RecordPos.body + bodyLen)), RecordPos.bodyCrc);
  return out;
}

const batchBodies: FuzzTarget = {
  name: 'batch-bodies',
  allowed: [],
  run(input) {
    const items = decodeBatchBody(input);
    if (typeof items === 'string') return;
    let bytes = 0;
    for (const item of items) bytes += 22 + item.body.length + item.properties.length;
    assert.equal(bytes, input.length, 'decoded items do not cover the body exactly');
  },
};

const properties: FuzzTarget = {
  name: 'properties',
  allowed: [],
  tokens: ['\u0001', '\u0002', '\u0001\u0002', 'KEYS', '\u00e9', '\ud83d\ude00'],
  run(input) {
    const map = decodeProperties(input.toString('utf8'));
    for (const [k, v] of map) assert.ok(k.length > 0 && !k.includes('\u0002') && !v.includes('\u0002'));
    // What decodes, re-encodes to the same properties.
    assert.deepEqual(decodeProperties(encodeProperties(map)), map);
  },
};

const json: FuzzTarget = {
  name: 'json',
  allowed: [JsonSyntaxError],
  tokens: ['{', '}', '[', ']', '"', '\\', ':', ',', '{{', '0:', 'null', '1e999', '-', '"\\u00'],
  run(input) {
    parseTolerantJson(input.toString('utf8'));
  },
};

test('fuzz: CommitLog records and PULL bodies', (t) => {
  assert.ok(reported(t, fuzz(records)).refused > 0);
});

test('fuzz: SEND_BATCH_MESSAGE bodies', (t) => {
  assert.ok(reported(t, fuzz(batchBodies)).inputs > 0);
});

test('fuzz: message properties', (t) => {
  assert.ok(reported(t, fuzz(properties)).inputs > 0);
});

test('fuzz: the lenient JSON reader', (t) => {
  assert.ok(reported(t, fuzz(json)).refused > 0);
});
