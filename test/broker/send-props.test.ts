import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  scanItemProps,
  scanItemPropsAt,
  scanItemPropsAtGeneral,
  sendPropsOf,
  sendPropsOfItem,
} from '../../src/broker/processors/send-props.js';
import { javaStringHashCode } from '../../src/common/hash.js';
import { decodeProperties, encodeProperties } from '../../src/common/properties.js';

test('sendPropsOf finds TAGS, KEYS and UNIQ_KEY as decodeProperties does', () => {
  const cases = [
    encodeProperties({ TAGS: 'TagA', KEYS: 'k1 k2', WAIT: 'true', UNIQ_KEY: 'ABC' }),
    encodeProperties({ a: 'b', WAIT: 'true' }),
    'TAGS\u0001x\u0002TAGS\u0001y\u0002', // later duplicate wins
    'KEYS\u0001k\u0002\u0001bad\u0002UNIQ_KEY\u0001U', // malformed pair skipped, no trailing separator
    '',
    'TAGSX\u0001no\u0002KEY\u0001no\u0002UNIQ_KEYS\u0001no\u0002',
    encodeProperties({ TAGS: 'étiquette', KEYS: '键 ключ' }),
  ];
  for (const s of cases) {
    const m = decodeProperties(s);
    const want = { tags: m.get('TAGS'), keys: m.get('KEYS'), uniqKey: m.get('UNIQ_KEY') };
    assert.deepEqual(sendPropsOf(s), want, s);
    assert.deepEqual(sendPropsOf(Buffer.from(s, 'utf8')), want, `bytes of ${s}`);
  }
});

test('sendPropsOf gives the same answer for the string and for its utf-8 bytes', () => {
  const piece = fc.constantFrom('TAGS', 'KEYS', 'UNIQ_KEY', 'WAIT', '\u0001', '\u0002', 'a', 'é', '键', ' ');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
      const s = pieces.join('');
      assert.deepEqual(sendPropsOf(Buffer.from(s, 'utf8')), sendPropsOf(s));
    }),
  );
});

test('sendPropsOf reports TRAN_MSG only when present, in both forms', () => {
  const s = encodeProperties({ TAGS: 'a', TRAN_MSG: 'true', PGROUP: 'pg' });
  assert.equal(sendPropsOf(s).tranMsg, 'true');
  assert.equal(sendPropsOf(Buffer.from(s, 'utf8')).tranMsg, 'true');
  assert.equal('tranMsg' in sendPropsOf(encodeProperties({ TAGS: 'a' })), false);
});

test('sendPropsOf marks a message scheduled when DELAY or a timer property is present, in both forms', () => {
  for (const name of ['DELAY', 'TIMER_DELIVER_MS', 'TIMER_DELAY_SEC', 'TIMER_DELAY_MS', '__STARTDELIVERTIME']) {
    const s = encodeProperties({ TAGS: 'a', [name]: '3', UNIQ_KEY: 'U' });
    assert.equal(sendPropsOf(s).scheduled, true, name);
    assert.equal(sendPropsOf(Buffer.from(s, 'utf8')).scheduled, true, `bytes of ${name}`);
  }
  for (const s of [encodeProperties({ TAGS: 'a' }), 'DELAYS\u00013\u0002', 'TIMER_DELAY_MX\u00011\u0002']) {
    assert.equal('scheduled' in sendPropsOf(s), false, s);
    assert.equal('scheduled' in sendPropsOf(Buffer.from(s, 'utf8')), false, `bytes of ${s}`);
  }
});

test('sendPropsOf marks a request (REPLY_TO_CLIENT) and tells it from TIMER_DELAY_SEC, a name of the same length', () => {
  const request = encodeProperties({ CORRELATION_ID: 'c', REPLY_TO_CLIENT: '1.2.3.4@x', TTL: '3000' });
  const timer = encodeProperties({ TIMER_DELAY_SEC: '5' });
  for (const enc of [(s: string) => s, (s: string) => Buffer.from(s, 'utf8')]) {
    assert.equal(sendPropsOf(enc(request)).replyTo, true);
    assert.equal(sendPropsOf(enc(request)).scheduled, undefined);
    assert.equal(sendPropsOf(enc(timer)).replyTo, undefined);
    assert.equal(sendPropsOf(enc(timer)).scheduled, true);
    assert.equal(sendPropsOf(enc(encodeProperties({ REPLY_TO_CLIENTS: 'x' }))).replyTo, undefined);
  }
});

test('sendPropsOfItem: the same properties as sendPropsOf, an ASCII UNIQ_KEY given by its place in the bytes', () => {
  const piece = fc.constantFrom('TAGS', 'KEYS', 'UNIQ_KEY', 'WAIT', '\u0001', '\u0002', 'a', 'Z9', 'é', '键', ' ');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
      const s = pieces.join('');
      const b = Buffer.from(s, 'utf8');
      const want = sendPropsOf(s);
      const got = sendPropsOfItem(b);
      const text = got.uniqKeyAt === undefined ? got.uniqKey : b.toString('latin1', got.uniqKeyAt, got.uniqKeyEnd);
      assert.equal(text, want.uniqKey, s);
      if (got.uniqKeyAt !== undefined) assert.equal(got.uniqKey, undefined);
      const { uniqKey: _a, uniqKeyAt: _b, uniqKeyEnd: _c, ...rest } = got;
      const { uniqKey: _d, ...restWant } = want;
      assert.deepEqual(rest, restWant, s);
    }),
  );
});

test('sendPropsOfItem: a later UNIQ_KEY wins whatever the forms of the two', () => {
  const cases: [string, string][] = [
    ['UNIQ_KEY\u0001AAA\u0002UNIQ_KEY\u0001é\u0002', 'é'],
    ['UNIQ_KEY\u0001é\u0002UNIQ_KEY\u0001BBB\u0002', 'BBB'],
    ['UNIQ_KEY\u0001AAA\u0002UNIQ_KEY\u0001CCC\u0002', 'CCC'],
  ];
  for (const [s, want] of cases) {
    const b = Buffer.from(s, 'utf8');
    const p = sendPropsOfItem(b);
    const text = p.uniqKeyAt === undefined ? p.uniqKey : b.toString('latin1', p.uniqKeyAt, p.uniqKeyEnd);
    assert.equal(text, want, s);
  }
});

/** Pieces that random properties text is made of: the names the scans look for, both separators, other bytes. */
const propertyPieces = [
  'TAGS',
  'KEYS',
  'UNIQ_KEY',
  'TRAN_MSG',
  'DELAY',
  'REPLY_TO_CLIENT',
  '\u0001',
  '\u0002',
  'a',
  'é',
];

test('scanItemProps: the shared scan holds only the last item scanned (nothing left over from the one before)', () => {
  const piece = fc.constantFrom(...propertyPieces);
  fc.assert(
    fc.property(fc.array(fc.array(piece, { maxLength: 16 }), { minLength: 2, maxLength: 4 }), (items) => {
      for (const pieces of items) {
        const b = Buffer.from(pieces.join(''), 'utf8');
        const want = sendPropsOfItem(b);
        const got = scanItemProps(b);
        assert.equal(got.tags, want.tags);
        assert.equal(got.tagsHash, want.tags === undefined ? 0 : javaStringHashCode(want.tags));
        assert.equal(got.keys, want.keys);
        assert.equal(got.uniqKey, want.uniqKey);
        assert.equal(got.uniqKeyAt, want.uniqKeyAt ?? -1);
        assert.equal(got.uniqKeyEnd, want.uniqKeyEnd ?? -1);
        assert.equal(got.tranMsg, want.tranMsg);
        assert.equal(got.replyTo, want.replyTo === true);
        assert.equal(got.scheduled, want.scheduled === true);
      }
    }),
  );
});

test("scanItemProps: an ASCII UNIQ_KEY's hash taken during the scan is Java's hash of its text", () => {
  const ascii = fc.string({ unit: fc.integer({ min: 3, max: 0x7f }).map((c) => String.fromCharCode(c)) });
  fc.assert(
    fc.property(fc.string(), ascii, fc.string(), (before, key, after) => {
      const s = encodeProperties({
        A: before.replace(/[\u0001\u0002]/g, ''),
        UNIQ_KEY: key,
        B: after.replace(/[\u0001\u0002]/g, ''),
      });
      const scan = scanItemProps(Buffer.from(s, 'utf8'));
      assert.ok(scan.uniqKeyAt >= 0, s);
      assert.equal(scan.uniqKeyHash, javaStringHashCode(key), s);
    }),
  );
});

test('scanItemPropsAt: any place in a larger buffer and any bytes around it give the scan of the bytes alone', () => {
  // Pieces that exercise the four-byte steps: separators and zero, 0x03 and 0x83 (next to the word test's
  // threshold), non-ASCII, and runs long enough to cross words.
  const piece = fc.constantFrom(...propertyPieces, '\u0000', '\u0003', '\u0083', '0123456789ABCDEF');
  const around = fc.uint8Array({ maxLength: 9 });
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 20 }), around, around, (pieces, before, after) => {
      const s = pieces.join('');
      const alone = Buffer.from(s, 'utf8');
      const want = sendPropsOf(s);
      const wantItem = sendPropsOfItem(alone);
      const b = Buffer.concat([before, alone, after]);
      const from = before.length;
      const got = scanItemPropsAt(b, from, from + alone.length);
      // TAGS as its hash only (the ConsumeQueue tag hash: tagsCodeOf's rule, 0 when none or empty).
      assert.equal(got.tags, undefined, s);
      assert.equal(got.tagsHash, want.tags === undefined ? 0 : javaStringHashCode(want.tags), s);
      assert.equal(got.keys, want.keys, s);
      assert.equal(got.tranMsg, want.tranMsg, s);
      assert.equal(got.replyTo, want.replyTo === true, s);
      assert.equal(got.scheduled, want.scheduled === true, s);
      const text = got.uniqKeyAt < 0 ? got.uniqKey : b.toString('latin1', got.uniqKeyAt, got.uniqKeyEnd);
      assert.equal(text, want.uniqKey, s);
      assert.equal(got.uniqKeyAt, wantItem.uniqKeyAt === undefined ? -1 : wantItem.uniqKeyAt + from, s);
      assert.equal(got.uniqKeyEnd, wantItem.uniqKeyEnd === undefined ? -1 : wantItem.uniqKeyEnd + from, s);
      if (got.uniqKeyAt >= 0) assert.equal(got.uniqKeyHash, javaStringHashCode(want.uniqKey ?? ''), s);
    }),
    { numRuns: 2000 },
  );
});

test("scanItemPropsAt: properties ending with the SDK's WAIT and UNIQ_KEY give the general scan's result", () => {
  // The SDK's tail (client/message.ts uniqIdPrefix, 32 id bytes, separator) after random heads, with ids of
  // random bytes near the word tests' edges; items in a row share the id's first 28 bytes or not (the hash memo).
  const idByte = fc.constantFrom(0x30, 0x41, 0x46, 0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0x82, 0xc3, 0xff);
  const headPiece = fc.constantFrom(...propertyPieces, 'WAIT', 'true');
  const item = fc.record({
    head: fc.array(headPiece, { maxLength: 10 }),
    headEnds: fc.boolean(),
    shareHead: fc.boolean(),
    id: fc.array(idByte, { minLength: 32, maxLength: 32 }),
    hex: fc.boolean(),
    tail: fc.constantFrom('', 'x', '\u0002', 'WAIT'),
    cut: fc.integer({ min: 0, max: 3 }),
  });
  const around = fc.uint8Array({ maxLength: 9 });
  const hexId = (n: number) => `7F0000010E1C18B4AAC2${n.toString(16).toUpperCase().padStart(12, '0')}`;
  fc.assert(
    fc.property(fc.array(item, { minLength: 1, maxLength: 6 }), around, around, (items, before, after) => {
      let prevId: number[] | undefined;
      for (const [i, it] of items.entries()) {
        let id = it.hex ? [...Buffer.from(hexId(i), 'latin1')] : it.id;
        if (it.shareHead && prevId !== undefined) id = [...prevId.slice(0, 28), ...id.slice(28)];
        prevId = id;
        const head = it.head.join('') + (it.headEnds && it.head.length > 0 ? '\u0002' : '');
        let alone = Buffer.concat([
          Buffer.from(head, 'utf8'),
          Buffer.from('WAIT\u0001true\u0002UNIQ_KEY\u0001', 'latin1'),
          Buffer.from(id),
          Buffer.from('\u0002', 'latin1'),
          Buffer.from(it.tail, 'latin1'),
        ]);
        alone = alone.subarray(0, alone.length - (it.cut === 3 ? 1 : 0));
        const b = Buffer.concat([before, alone, after]);
        const from = before.length;
        const to = from + alone.length;
        const want = { ...scanItemPropsAtGeneral(b, from, to) };
        const got = { ...scanItemPropsAt(b, from, to) };
        assert.deepEqual(got, want, JSON.stringify({ head, id, tail: it.tail, cut: it.cut }));
      }
    }),
    { numRuns: 3000 },
  );
});
