import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeFrame,
  encodeFrameParts,
  FrameDecoder,
  frameBytesMax,
  headerBytesMax,
} from '../../src/remoting/codec.js';
import { languageCodes, type RemotingCommand, SerializeType } from '../../src/remoting/command.js';
import { RemotingProtocolError } from '../../src/remoting/errors.js';
import { encodeFrame, plainBinaryHeader } from './helpers.js';

/** A command with every key present, as decodeFrame returns them. */
function cmd(over: Partial<RemotingCommand>): RemotingCommand {
  return {
    code: 10,
    language: 'JAVA',
    version: 453,
    opaque: 1,
    flag: 0,
    remark: undefined,
    extFields: undefined,
    serializeType: 0,
    body: undefined,
    ...over,
  };
}

function jsonFrame(header: string, body = Buffer.alloc(0)): Buffer {
  const h = Buffer.from(header, 'utf8');
  const out = Buffer.alloc(8 + h.length + body.length);
  out.writeInt32BE(4 + h.length + body.length, 0);
  out.writeInt32BE(h.length, 4);
  h.copy(out, 8);
  body.copy(out, 8 + h.length);
  return out;
}

test('golden bytes: JSON header frame', () => {
  const c = cmd({ opaque: 7, extFields: { topic: 'T' }, body: Buffer.from('hi') });
  const header =
    '{"code":10,"extFields":{"topic":"T"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":453}';
  // 122-byte header: length = 4 + 122 + 2 = 128 = 0x80; type 0 | header length 0x7a.
  const expected = Buffer.concat([
    Buffer.from('00000080' + '0000007a', 'hex'),
    Buffer.from(header, 'utf8'),
    Buffer.from('6869', 'hex'),
  ]);
  assert.equal(header.length, 122);
  assert.deepEqual(encodeFrame(c), expected);
  assert.deepEqual(Buffer.concat(encodeFrameParts(c)), expected);
  assert.deepEqual(decodeFrame(expected.subarray(4)), c);
});

test('golden bytes: ROCKETMQ header frame', () => {
  const c = cmd({
    code: 310,
    opaque: 1,
    flag: 1,
    remark: 'ok',
    extFields: { a: 'b' },
    serializeType: 1,
    body: Buffer.from('xy'),
  });
  const expected = Buffer.from(
    [
      '00000025', // length of the rest: 4 + 31 + 2 = 37
      '0100001f', // serialize type 1 | header length 31
      '0136', // code 310
      '00', // language JAVA
      '01c5', // version 453
      '00000001', // opaque
      '00000001', // flag: response
      '00000002' + '6f6b', // remark "ok"
      '00000008', // extFields bytes
      '0001' + '61' + '00000001' + '62', // "a" = "b"
      '7879', // body "xy"
    ].join(''),
    'hex',
  );
  assert.deepEqual(encodeFrame(c), expected);
  assert.deepEqual(decodeFrame(expected.subarray(4)), c);
});

test('JSON header: numbers and booleans in extFields become strings, nulls and unknown fields are dropped', () => {
  const frame = jsonFrame(
    '{"code":34,"language":"NODE_JS","opaque":5,"flag":0,"version":121,"unknown":{"x":1},' +
      '"extFields":{"queueId":3,"commitOffset":1234567890123,"unitMode":false,"nothing":null,"s":"str"}}',
  );
  const decoded = decodeFrame(frame.subarray(4));
  assert.deepEqual(decoded.extFields, { queueId: '3', commitOffset: '1234567890123', unitMode: 'false', s: 'str' });
  assert.equal(decoded.language, 'NODE_JS');
  assert.equal(decoded.remark, undefined);
  assert.equal(decoded.body, undefined);
  assert.equal(decoded.serializeType, 0);
});

test('JSON header: an extFields key named __proto__ stays a plain field, in order, and sets no prototype', () => {
  const frame = jsonFrame('{"code":10,"opaque":1,"extFields":{"a":"1","__proto__":"x","b":{"c":2}}}');
  const fields = decodeFrame(frame.subarray(4)).extFields as Record<string, string>;
  assert.deepEqual(Object.keys(fields), ['a', '__proto__', 'b']);
  assert.equal(Object.getOwnPropertyDescriptor(fields, '__proto__')?.value, 'x');
  assert.equal(Object.getPrototypeOf(fields), Object.prototype);
  assert.equal(fields['b'], '{"c":2}');
});

test('malformed headers and limits throw RemotingProtocolError', () => {
  const bad = [
    jsonFrame('{not json'),
    jsonFrame('[1,2]'),
    jsonFrame('{"opaque":1}'), // no code
    jsonFrame('{"code":"ten"}'),
    Buffer.from('0000000401000000', 'hex'), // ROCKETMQ header of 0 bytes
    Buffer.from('000000080200000000000000', 'hex'), // serialize type 2
    Buffer.from('0000000400ffffff', 'hex'), // header longer than the frame
  ];
  for (const frame of bad) assert.throws(() => decodeFrame(frame.subarray(4)), RemotingProtocolError);
  assert.throws(() => decodeFrame(Buffer.alloc(2)), RemotingProtocolError);
  // JSON.parse takes 30,000 levels in a 60 KB header; JSON.stringify (which printed them) overflowed the stack.
  const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
  for (const header of [`{"code":10,"extFields":{"a":${deep}}}`, `{"code":${deep}}`, `{"code":1,"flag":${deep}}`]) {
    assert.throws(() => decodeFrame(jsonFrame(header).subarray(4)), RemotingProtocolError);
  }
  assert.throws(() => encodeFrame(cmd({ remark: 'x'.repeat(headerBytesMax) })), /headerBytesMax/);
  assert.throws(() => encodeFrame(cmd({ body: Buffer.alloc(frameBytesMax) })), /frameBytesMax/);
  assert.throws(() => new FrameDecoder(1024).push(Buffer.from('00000401', 'hex')), /exceeds frameBytesMax 1024/);
  assert.throws(() => new FrameDecoder().push(Buffer.from('80000000', 'hex')), RemotingProtocolError);
  assert.throws(() => new FrameDecoder().push(Buffer.from('00000003', 'hex')), /shorter than 4/);
});

test('FrameDecoder: byte-at-a-time feeding and many frames in one chunk', () => {
  const cmds = [
    cmd({ opaque: 1 }),
    cmd({ opaque: 2, body: Buffer.alloc(300, 7), serializeType: 1, extFields: { k: 'v' } }),
    cmd({ opaque: 3, remark: 'héllo ✓', body: Buffer.from([0]) }),
  ];
  const stream = Buffer.concat(cmds.map((c) => encodeFrame(c)));

  const oneByOne = new FrameDecoder();
  const frames: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) {
    const out = oneByOne.push(stream.subarray(i, i + 1));
    // A frame completes exactly at its last byte.
    if (out.length > 0) assert.equal(out.length, 1);
    frames.push(...out);
  }
  assert.equal(oneByOne.pendingBytes, 0);
  assert.deepEqual(frames.map(decodeFrame), cmds);

  const many = Buffer.concat(Array.from({ length: 200 }, () => stream));
  const all = new FrameDecoder().push(many);
  assert.equal(all.length, 600);
  assert.deepEqual(decodeFrame(all[599]!), cmds[2]);
});

test('FrameDecoder: append then next takes frames one at a time; bytes past the last whole frame stay held', () => {
  const cmds = [cmd({ opaque: 1 }), cmd({ opaque: 2, body: Buffer.alloc(300, 7) }), cmd({ opaque: 3 })];
  const stream = Buffer.concat(cmds.map((c) => encodeFrame(c)));
  const d = new FrameDecoder();
  d.append(stream.subarray(0, stream.length - 5));
  assert.deepEqual(decodeFrame(d.next()!), cmds[0]);
  assert.deepEqual(decodeFrame(d.next()!), cmds[1]);
  assert.equal(d.next(), undefined);
  assert.equal(d.pendingBytes, encodeFrame(cmds[2]!).length - 4 - 5);
  d.append(stream.subarray(stream.length - 5));
  assert.deepEqual(decodeFrame(d.next()!), cmds[2]);
  assert.equal(d.next(), undefined);
  assert.equal(d.pendingBytes, 0);
  const bad = new FrameDecoder(1024);
  bad.append(Buffer.from('00000401', 'hex'));
  assert.throws(() => bad.next(), /exceeds frameBytesMax 1024/);
});

const text = fc.string({ unit: 'binary', maxLength: 40 });
const commandArb = (serializeType: 0 | 1) =>
  fc.record({
    code: serializeType === 1 ? fc.integer({ min: -32768, max: 32767 }) : fc.integer(),
    language: fc.constantFrom(...languageCodes),
    version: fc.integer({ min: -32768, max: 32767 }),
    opaque: fc.integer(),
    flag: fc.integer({ min: 0, max: 3 }),
    remark: fc.option(fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }), { nil: undefined }),
    extFields: fc.option(fc.dictionary(text, text, { maxKeys: 8 }), { nil: undefined }),
    body: fc.option(
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)),
      { nil: undefined },
    ),
  });

/** What decoding yields: ROCKETMQ headers cannot tell an empty map from none. */
function normalized(c: RemotingCommand): RemotingCommand {
  const empty = c.extFields !== undefined && Object.keys(c.extFields).length === 0;
  const extFields = c.extFields === undefined || (c.serializeType === 1 && empty) ? undefined : { ...c.extFields };
  return cmd({ ...c, extFields });
}

for (const serializeType of [0, 1] as const) {
  test(`property: encode → split anywhere → FrameDecoder → decode round-trips (type ${serializeType})`, () => {
    fc.assert(
      fc.property(
        fc.array(commandArb(serializeType), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (raw, cuts) => {
          const cmds = raw.map((r) => ({ ...r, serializeType }) as RemotingCommand);
          const stream = Buffer.concat(cmds.map((c) => encodeFrame(c)));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const decoder = new FrameDecoder();
          const frames: Buffer[] = [];
          let from = 0;
          for (const p of [...points, stream.length]) {
            frames.push(...decoder.push(stream.subarray(from, p)));
            from = p;
          }
          assert.deepEqual(frames.map(decodeFrame), cmds.map(normalized));
        },
      ),
      { numRuns: 300 },
    );
  });
}

test('fuzz: garbage never throws anything but RemotingProtocolError', () => {
  const structured = fc
    .tuple(fc.constantFrom(0, 1, 2, 255), fc.uint8Array({ maxLength: 200 }))
    .map(([type, header]) => {
      const frame = Buffer.alloc(8 + header.length);
      frame.writeInt32BE(4 + header.length, 0);
      frame.writeUInt32BE(((type << 24) | header.length) >>> 0, 4);
      Buffer.from(header).copy(frame, 8);
      return frame;
    });
  const mutatedValid = fc
    .tuple(commandArb(1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }))
    .map(([c, flips]) => {
      const frame = Buffer.from(encodeFrame({ ...c, serializeType: 1 }));
      // Keep the length prefix so the mutation lands in the header.
      for (const [at, v] of flips) if (frame.length > 4) frame[4 + (at % (frame.length - 4))] = v;
      return frame;
    });
  const garbage = fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
    structured,
    mutatedValid,
  );
  fc.assert(
    fc.property(fc.array(garbage, { minLength: 1, maxLength: 4 }), (chunks) => {
      const decoder = new FrameDecoder(64 * 1024);
      try {
        for (const chunk of chunks) {
          for (const frame of decoder.push(chunk)) {
            try {
              decodeFrame(frame);
            } catch (err) {
              assert.ok(err instanceof RemotingProtocolError, String(err));
            }
          }
        }
      } catch (err) {
        assert.ok(err instanceof RemotingProtocolError, String(err));
      }
    }),
    { numRuns: 2000 },
  );
});

test('ROCKETMQ header: ASCII, non-ASCII, lone surrogates and long strings give the bytes of a plain UTF-8 encoder', () => {
  const samples = [
    '',
    'a',
    'bench_producer',
    '1765000000000',
    'TAGS\u0001tagA\u0002WAIT\u0001true\u0002UNIQ_KEY\u00017F00000100012A9F4C3A000000000001\u0002',
    'ключ',
    'Täg',
    'emoji 🚀',
    'lone \ud800 surrogate',
    '\u007f\u0080',
    'x'.repeat(256),
    'y'.repeat(257),
    `${'z'.repeat(300)}é`,
    `é${'w'.repeat(255)}`,
  ];
  for (const [i, s] of samples.entries()) {
    const extFields: Record<string, string> = { _value: s, [s === '' ? 'empty' : s]: 'v', n: String(i) };
    for (const remark of [undefined, s === '' ? undefined : s]) {
      const c = cmd({ code: 0xffff & (300 + i), opaque: -5 - i, flag: 3, remark, extFields, serializeType: 1 });
      const head = encodeFrameParts(c)[0] as Buffer;
      const expected = plainBinaryHeader(c);
      assert.ok(head.subarray(8).equals(expected), `sample ${i} (remark ${remark === undefined ? 'none' : 'set'})`);
      assert.equal(head.readInt32BE(0), 4 + expected.length);
      const back = decodeFrame(head.subarray(4));
      assert.equal(back.remark, remark === undefined ? undefined : Buffer.from(remark, 'utf8').toString('utf8'));
      // A lone surrogate is written as U+FFFD, as Buffer.from writes it.
      assert.deepEqual(back.extFields?.['_value'], Buffer.from(s, 'utf8').toString('utf8'));
    }
  }
});

test('frame heads encoded one after another (a shared slab) stay intact while all are held, big ones too', () => {
  const cmds: RemotingCommand[] = [];
  const heads: Buffer[] = [];
  // ~2 KiB ASCII values (a batch answer's offsetMsgIds), some non-ASCII and some heads over 8 KiB, in both
  // header types: well past one 64 KiB slab.
  for (let i = 0; i < 200; i++) {
    const long = `${i}`.padStart(6, '0').repeat(i % 17 === 0 ? 1500 : 350);
    const extFields: Record<string, string> = { msgId: i % 5 === 0 ? `${long}ü` : long, queueId: String(i % 8) };
    const serializeType = i % 2 === 0 ? SerializeType.json : SerializeType.rocketmq;
    const c = cmd({ code: 0, opaque: i, flag: 1, remark: i % 3 === 0 ? undefined : `r${i}`, extFields, serializeType });
    cmds.push(c);
    const parts = encodeFrameParts(c);
    assert.equal(parts.length, 1);
    heads.push(parts[0] as Buffer);
  }
  for (const [i, head] of heads.entries()) {
    assert.equal(head.readInt32BE(0), head.length - 4, `frame ${i}`);
    assert.deepEqual(decodeFrame(head.subarray(4)), cmds[i], `frame ${i}`);
  }
});
