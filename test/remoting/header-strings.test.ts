import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame, encodeFrameParts } from '../../src/remoting/codec.js';
import { createRequest, SerializeType } from '../../src/remoting/command.js';
import { readHeaderKey, readHeaderValue } from '../../src/remoting/header-strings.js';

/** `s`'s UTF-8 bytes at offset 3 of a bigger buffer, as in a header. */
function placed(s: string | Buffer): { b: Buffer; at: number; n: number } {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const b = Buffer.alloc(bytes.length + 6, 0x41);
  bytes.copy(b, 3);
  return { b, at: 3, n: bytes.length };
}

const samples: Array<string | Buffer> = [
  '',
  'a',
  'queueId',
  '0',
  '-1',
  '123456789012345678',
  'x'.repeat(24),
  'y'.repeat(25),
  'k'.repeat(32),
  'k'.repeat(33),
  '7F00000100002A9F0000000012345678',
  'DefaultRegion',
  'tópico',
  '名前',
  '\u{1F600}x',
  'a\u0001b\u0002',
  'end\u007f',
  // Malformed UTF-8: decoded the way Buffer#toString does (replacement chars).
  Buffer.from([0x61, 0xc3]),
  Buffer.from([0xff, 0x62, 0x63]),
  Buffer.from([0x61, 0x80, 0x62]),
];

test('keys and values read as Buffer#toString utf8 reads them: ASCII, non-ASCII, malformed, at every length edge', () => {
  for (let round = 0; round < 3; round++) {
    for (const s of samples) {
      const { b, at, n } = placed(s);
      const want = b.toString('utf8', at, at + n);
      assert.equal(readHeaderKey(b, at, n), want, `key ${JSON.stringify(want)} round ${round}`);
      assert.equal(readHeaderValue(b, at, n), want, `value ${JSON.stringify(want)} round ${round}`);
    }
  }
});

test('a remembered key is compared byte by byte: keys sharing a slot, a length or their ends stay apart', () => {
  // Same length, first, middle and last bytes: the same slot of the key table whatever its hash's weights.
  const keys = ['abXcd', 'abXzd', 'aqXqd', 'abXcd', 'a?X?d', 'abXzd'];
  for (let round = 0; round < 4; round++) {
    for (const k of keys) {
      const { b, at, n } = placed(k);
      assert.equal(readHeaderKey(b, at, n), k);
    }
  }
  // The table keeps a copy: a key read from a buffer later overwritten is not changed by it.
  const { b, at, n } = placed('reusedKey');
  assert.equal(readHeaderKey(b, at, n), 'reusedKey');
  b.write('reusedKez', at, 'latin1');
  assert.equal(readHeaderKey(b, at, n), 'reusedKez');
  b.write('reusedKey', at, 'latin1');
  assert.equal(readHeaderKey(b, at, n), 'reusedKey');
});

test('a binary header decodes to the fields encoded, __proto__ as a plain field', () => {
  const fields: Record<string, string> = {
    msgId: '7F00000100002A9F0000000012345678',
    queueId: '3',
    queueOffset: '123456',
    MSG_REGION: 'DefaultRegion',
    TRACE_ON: 'true',
    clé: 'valeur é',
    long: 'v'.repeat(300),
    empty: '',
  };
  const req = createRequest(310, { ...fields });
  req.serializeType = SerializeType.rocketmq;
  Object.defineProperty(req.extFields, '__proto__', { value: 'p', enumerable: true });
  for (let round = 0; round < 3; round++) {
    const decoded = decodeFrame(Buffer.concat(encodeFrameParts(req)).subarray(4));
    assert.deepEqual(Object.keys(decoded.extFields ?? {}), [...Object.keys(fields), '__proto__']);
    for (const [k, v] of Object.entries(fields)) assert.equal(decoded.extFields?.[k], v);
    assert.equal(Object.getPrototypeOf(decoded.extFields), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(decoded.extFields, '__proto__')?.value, 'p');
  }
});

test('a remembered value is compared byte by byte: values sharing a slot stay apart, a reused buffer is not read back', () => {
  // 2,000 distinct short values (more than the table's slots, so slots are shared and replaced), read three times.
  const values = Array.from({ length: 2000 }, (_, i) => (i % 3 === 0 ? String(1765000000000 + i) : `v${i}-${i % 7}`));
  for (let round = 0; round < 3; round++) {
    for (const v of values) {
      const { b, at, n } = placed(v);
      assert.equal(readHeaderValue(b, at, n), v);
    }
  }
  // The table keeps a copy: a value read from a buffer later overwritten is not changed by it.
  const { b, at, n } = placed('bench-group');
  assert.equal(readHeaderValue(b, at, n), 'bench-group');
  b.write('bench-groux', at, 'latin1');
  assert.equal(readHeaderValue(b, at, n), 'bench-groux');
  b.write('bench-group', at, 'latin1');
  assert.equal(readHeaderValue(b, at, n), 'bench-group');
  // A non-ASCII value of the same length is never taken for an ASCII one.
  const { b: nb, at: nat, n: nn } = placed('bench-grou\u00e9'.slice(0, 10));
  assert.equal(readHeaderValue(nb, nat, nn), 'bench-grou\u00e9'.slice(0, 10));
});
