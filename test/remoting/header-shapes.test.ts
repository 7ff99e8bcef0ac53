import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerializeType } from '../../src/remoting/command.js';
import { RemotingProtocolError } from '../../src/remoting/errors.js';
import { optionalInt, optionalLong } from '../../src/remoting/fields.js';
import { compiledShapes, readBinaryHeader } from '../../src/remoting/rocketmq-header.js';

/** A binary header with these entries, written by hand (keys and values as UTF-8; duplicate keys allowed). */
function headerOf(entries: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of entries) {
    const kb = Buffer.from(k, 'utf8');
    const vb = Buffer.from(v, 'utf8');
    const head = Buffer.alloc(2);
    head.writeInt16BE(kb.length);
    const vl = Buffer.alloc(4);
    vl.writeInt32BE(vb.length);
    parts.push(head, kb, vl, vb);
  }
  const map = Buffer.concat(parts);
  const fixed = Buffer.alloc(13 + 4 + 4);
  fixed.writeInt16BE(320, 0);
  fixed.writeUInt8(13, 2);
  fixed.writeInt16BE(453, 3);
  fixed.writeInt32BE(77, 5);
  fixed.writeInt32BE(0, 9);
  fixed.writeInt32BE(0, 13);
  fixed.writeInt32BE(map.length, 17);
  return Buffer.concat([fixed, map]);
}

/** What the header's fields must decode to: each entry assigned in order (a later duplicate wins, first place). */
function reference(entries: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  const out = new Map<string, string>();
  for (const [k, v] of entries) out.set(k, v);
  // Integer-like keys come first in a JavaScript object, in ascending order, whatever the order they were added in.
  const isIndex = (k: string) => /^(0|[1-9]\d*)$/.test(k) && Number(k) < 2 ** 32 - 1;
  const all = [...out];
  const indexes = all.filter(([k]) => isIndex(k)).sort((a, b) => Number(a[0]) - Number(b[0]));
  return [...indexes, ...all.filter(([k]) => !isIndex(k))];
}

function check(entries: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const h = readBinaryHeader(headerOf(entries));
  assert.equal(h.code, 320);
  assert.equal(h.opaque, 77);
  assert.equal(h.language, 'NODE_JS');
  const fields = h.extFields;
  assert.ok(fields !== undefined);
  assert.equal(Object.getPrototypeOf(fields), Object.prototype);
  const got = Object.keys(fields).map((k) => [k, Object.getOwnPropertyDescriptor(fields, k)?.value as string]);
  assert.deepEqual(got, reference(entries));
  for (const k of Object.keys(fields)) {
    const d = Object.getOwnPropertyDescriptor(fields, k);
    assert.ok(d?.writable && d.enumerable, k);
    // A `__proto__` field is defined (not configurable), as it was; every other field is assigned.
    if (k !== '__proto__') assert.ok(d.configurable, k);
  }
  return fields;
}

test('a send header decodes to the same fields every time, each decode its own object', () => {
  const entries: Array<[string, string]> = [
    ['a', 'group'],
    ['b', 'topic'],
    ['c', 'TBW102'],
    ['d', '4'],
    ['e', '-1'],
    ['f', '0'],
    ['g', '1765100000123'],
    ['h', '0'],
    ['i', ''],
    ['j', '0'],
    ['k', 'false'],
    ['l', '16'],
    ['m', 'true'],
    ['n', 'broker-a'],
  ];
  const seen: Record<string, string>[] = [];
  for (let i = 0; i < 5; i++) {
    entries[6] = ['g', String(1765100000123 + i)];
    seen.push(check(entries));
  }
  // Objects from one compiled shape are separate: a write to one is not seen in another.
  seen[0]!['b'] = 'changed';
  seen[1]!['extra'] = 'x';
  assert.equal(seen[2]!['b'], 'topic');
  assert.equal(seen[2]!['extra'], undefined);
  assert.equal(seen[4]!['g'], '1765100000127');
});

test('keys a literal cannot hold as they are decode field by field, with the same result', () => {
  const odd: Array<Array<[string, string]>> = [
    [
      ['a', '1'],
      ['__proto__', 'p'],
      ['b', '2'],
    ],
    [
      ['x', '1'],
      ['x', '2'],
      ['y', '3'],
    ],
    [
      ['q"uote', '1'],
      ['back\\slash', '2'],
    ],
    [
      ['clé', 'é'],
      ['k', 'v'],
    ],
    [
      ['', 'empty key'],
      ['k', 'v'],
    ],
    [['k'.repeat(40), 'long key']],
    [
      ['b', '1'],
      ['10', 'ten'],
      ['2', 'two'],
      ['constructor', 'c'],
      ['toString', 't'],
    ],
  ];
  for (let round = 0; round < 3; round++) {
    for (const entries of odd) {
      const fields = check(entries);
      if (entries.some(([k]) => k === '__proto__')) {
        assert.equal(Object.getOwnPropertyDescriptor(fields, '__proto__')?.value, 'p');
      }
    }
  }
});

test('each key sequence is compiled once, however many sequences are in use and interleaved', () => {
  // 60 sequences of 3 to 16 keys, decoded in turn 10 times over.
  const sequences = Array.from({ length: 60 }, (_, s) =>
    Array.from({ length: 3 + (s % 14) }, (_, i): [string, string] => [`k${s}_${i}`, String(i)]),
  );
  const before = compiledShapes();
  for (let round = 0; round < 10; round++) for (const entries of sequences) check(entries);
  const compiled = compiledShapes() - before;
  // Once each (sequences sharing a set of the table stay compiled side by side), not once per decode.
  assert.equal(compiled, 60);
  // A sequence a literal cannot hold is never compiled.
  const again = compiledShapes();
  for (let i = 0; i < 5; i++) {
    check([
      ['a', '1'],
      ['__proto__', 'p'],
    ]);
  }
  assert.equal(compiledShapes(), again);
});

test('random key sequences, more than the shapes compiled in all, decode to what was written', () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."\\ ';
  const keyOf = () => {
    const n = 1 + rand(rand(4) === 0 ? 40 : 6);
    let k = '';
    for (let i = 0; i < n; i++) k += alphabet[rand(alphabet.length)];
    return k;
  };
  const pool = Array.from({ length: 40 }, keyOf);
  // 1,500 sequences, each decoded three times (compiled or not, the same fields); some repeat keys.
  for (let s = 0; s < 1500; s++) {
    const n = 1 + rand(rand(5) === 0 ? 40 : 14);
    const entries: Array<[string, string]> = [];
    for (let i = 0; i < n; i++) entries.push([rand(3) === 0 ? keyOf() : pool[rand(pool.length)]!, `v${s}.${i}`]);
    for (let round = 0; round < 3; round++) check(entries);
  }
});

test('a truncated or overrunning header still fails as before', () => {
  const h = headerOf([
    ['a', '1'],
    ['b', '2'],
  ]);
  for (let cut = 0; cut < h.length; cut++) {
    const part = Buffer.from(h.subarray(0, cut));
    // The map's length field says more than is there (or the fixed fields are cut).
    assert.throws(() => readBinaryHeader(part), RemotingProtocolError, `cut at ${cut}`);
  }
  const bad = Buffer.from(h);
  bad.writeInt16BE(100, 21);
  assert.throws(() => readBinaryHeader(bad), /key length 100 overruns the map/);
  assert.equal(SerializeType.rocketmq, 1);
});

test('header numbers: the short decimal read gives what the general parse gives', () => {
  const samples = [
    '0',
    '-0',
    '+0',
    '7',
    '-1',
    '+12',
    '2147483647',
    '2147483648',
    '-2147483648',
    '-2147483649',
    '123456789012345',
    '1234567890123456',
    '9007199254740993',
    '-9223372036854775808',
    '9223372036854775808',
    ' 5',
    '5 ',
    '\t5\n',
    '',
    ' ',
    '-',
    '+',
    '--1',
    '1e3',
    '0x10',
    '1.5',
    '١٢',
    '12abc',
    '00012',
    '-000',
  ];
  let seed = 7;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let i = 0; i < 3000; i++) {
    const len = rand(20);
    let s = rand(4) === 0 ? '-' : rand(8) === 0 ? '+' : '';
    for (let j = 0; j < len; j++) s += rand(30) === 0 ? ' x-'[rand(3)] : String(rand(10));
    samples.push(s);
  }
  const outcome = (f: () => unknown) => {
    try {
      return { v: f() };
    } catch (err) {
      return { err: (err as Error).message };
    }
  };
  for (const s of samples) {
    const cmd = { extFields: { n: s } };
    const trimmed = s.trim();
    const intOk = /^[+-]?\d+$/.test(trimmed);
    const asInt = intOk ? Number(trimmed) : Number.NaN;
    const expectedInt =
      trimmed === ''
        ? { v: undefined }
        : asInt >= -(2 ** 31) && asInt <= 2 ** 31 - 1
          ? { v: asInt }
          : { err: `header field 'n' is not a 32-bit integer: '${trimmed}'` };
    assert.deepEqual(
      outcome(() => optionalInt(cmd, 'n')),
      expectedInt,
      JSON.stringify(s),
    );
    const asLong = intOk ? BigInt(trimmed) : undefined;
    const expectedLong =
      trimmed === ''
        ? { v: undefined }
        : asLong !== undefined && asLong >= -(2n ** 63n) && asLong <= 2n ** 63n - 1n
          ? { v: asLong }
          : { err: `header field 'n' is not a 64-bit integer: '${trimmed}'` };
    assert.deepEqual(
      outcome(() => optionalLong(cmd, 'n')),
      expectedLong,
      JSON.stringify(s),
    );
    if (typeof expectedInt.v === 'number') assert.ok(Object.is(optionalInt(cmd, 'n'), expectedInt.v), s);
  }
});
