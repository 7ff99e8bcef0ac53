import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localIPv4 } from '../../src/client/local-address.js';
import { createUniqId, parseUniqId, writeUniqId } from '../../src/client/msg-id.js';

test('UNIQ_KEY is 32 upper-case hex: ip, pid, random, time in month, counter', () => {
  const now = Date.now();
  const a = createUniqId(now);
  const b = createUniqId(now);
  assert.match(a, /^[0-9A-F]{32}$/);
  assert.notEqual(a, b);
  // Same prefix (10 bytes) within a process; the counter makes ids at the same ms differ.
  assert.equal(a.slice(0, 20), b.slice(0, 20));
  assert.equal((parseInt(b.slice(28), 16) - parseInt(a.slice(28), 16) + 0x10000) % 0x10000, 1);
  const info = parseUniqId(a);
  assert.ok(info !== undefined);
  assert.equal(info.ip, localIPv4());
  assert.equal(info.pid, process.pid & 0xffff);
  assert.equal(info.timestampMs, now);
  assert.equal(parseUniqId('xyz'), undefined);
});

test('ids are unique over many calls', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20000; i++) seen.add(createUniqId());
  assert.equal(seen.size, 20000);
});

test('writeUniqId writes the id createUniqId would give, as ASCII, on the same counter', () => {
  const now = Date.now();
  const a = createUniqId(now);
  const buf = Buffer.alloc(40, 0x7a);
  writeUniqId(buf, 4, now);
  const written = buf.toString('latin1', 4, 36);
  const b = createUniqId(now);
  assert.equal(buf.toString('latin1', 0, 4), 'zzzz');
  assert.equal(buf.toString('latin1', 36), 'zzzz');
  assert.equal(written.slice(0, 28), a.slice(0, 28));
  assert.equal((parseInt(written.slice(28), 16) - parseInt(a.slice(28), 16) + 0x10000) % 0x10000, 1);
  assert.equal((parseInt(b.slice(28), 16) - parseInt(written.slice(28), 16) + 0x10000) % 0x10000, 1);
  assert.equal(parseUniqId(written)?.timestampMs, now);
});
