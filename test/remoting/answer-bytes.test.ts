import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { BrokerContext } from '../../src/broker/context.js';
import { sendResponse } from '../../src/broker/processors/send-response.js';
import { decodeFrame, encodeFrameParts } from '../../src/remoting/codec.js';
import {
  createRequest,
  languageCodes,
  type RemotingCommand,
  type SerializeType,
  SerializeType as ST,
} from '../../src/remoting/command.js';
import { OffsetMsgIdText } from '../../src/store/put-path.js';
import { plainBinaryHeader } from './helpers.js';

/** The frame as the encoder wrote it before it wrote the JSON header itself: JSON.stringify of the fields. */
function jsonFrameByStringify(c: RemotingCommand): Buffer {
  const header = Buffer.from(
    JSON.stringify({
      code: c.code,
      extFields: c.extFields,
      flag: c.flag,
      language: c.language,
      opaque: c.opaque,
      remark: c.remark,
      serializeTypeCurrentRPC: 'JSON',
      version: c.version,
    }),
    'utf8',
  );
  const prefix = Buffer.alloc(8);
  prefix.writeInt32BE(4 + header.length, 0);
  prefix.writeInt32BE(header.length, 4);
  return Buffer.concat([prefix, header]);
}

/** A binary header frame: the header laid out field by field (plainBinaryHeader), behind its length words. */
function binaryFrameByLayout(c: RemotingCommand): Buffer {
  const header = plainBinaryHeader(c);
  const words = Buffer.alloc(8);
  words.writeInt32BE(4 + header.length, 0);
  words.writeInt32BE((1 << 24) | header.length, 4);
  return Buffer.concat([words, header]);
}

const encoded = (c: RemotingCommand) => Buffer.concat(encodeFrameParts(c));

function batchIds(count: number, firstOffset: number): string {
  const ids = new OffsetMsgIdText('C0A8000100002A9F', count);
  for (let i = 0; i < count; i++) ids.add(firstOffset + i * 1187);
  return ids.text();
}

const ctx = { config: { regionId: 'DefaultRegion', traceOn: true } } as unknown as BrokerContext;

test("a batch's send answer is byte-equal to the old encoding in both header types, and decodes to its fields", () => {
  for (const type of [ST.json, ST.rocketmq] as SerializeType[]) {
    for (const [count, first] of [
      [1, 0],
      [64, 123_456_789],
      [256, 2 ** 40 + 17],
    ] as const) {
      const req = createRequest(320, { b: 'T' });
      req.serializeType = type;
      req.opaque = 1000 + count;
      const ids = batchIds(count, first);
      const answer = { code: 0, remark: undefined, stored: true };
      // The plain path marks msgId as hex and commas; the general path does not: both give the old bytes.
      const marked = sendResponse(ctx, req, answer, ids, 5, 987_654_321n, true);
      const unmarked = sendResponse(ctx, req, answer, ids, 5, 987_654_321n);
      assert.equal(marked.plainFields?.has('msgId'), true);
      const old = type === ST.json ? jsonFrameByStringify(unmarked) : binaryFrameByLayout(unmarked);
      assert.ok(encoded(marked).equals(old), `marked answer, type ${type}, ${count} ids`);
      assert.ok(encoded(unmarked).equals(old), `unmarked answer, type ${type}, ${count} ids`);
      const back = decodeFrame(old.subarray(4));
      assert.deepEqual(back.extFields, {
        msgId: ids,
        queueId: '5',
        queueOffset: '987654321',
        MSG_REGION: 'DefaultRegion',
        TRACE_ON: 'true',
      });
      assert.equal(back.opaque, 1000 + count);
      assert.equal(back.flag, 1);
    }
  }
});

const jsonSamples = [
  '',
  'a',
  'quote " inside',
  'back \\ slash',
  'tab\there, newline\n, cr\r, bell\u0007, nul\u0000, unit\u001f',
  'del \u007f and \u0080',
  'TAGS\u0001tagA\u0002UNIQ_KEY\u00017F00000100012A9F4C3A000000000001\u0002',
  'ключ',
  'Täg',
  'emoji 🚀',
  'lone \ud800 surrogate',
  'lone \udc00 low',
  '</script>',
  '\u2028\u2029',
  'x'.repeat(256),
  'y'.repeat(257),
  `${'z'.repeat(300)}"`,
  `é${'w'.repeat(255)}`,
];

test('JSON header: the bytes JSON.stringify gives, for escapes, non-ASCII, lone surrogates, long strings and odd values', () => {
  for (const [i, s] of jsonSamples.entries()) {
    const extFields: Record<string, string> = { _value: s, [s === '' ? 'empty' : s]: 'v', n: String(i) };
    for (const remark of [undefined, s]) {
      const c: RemotingCommand = {
        code: 300 + i,
        language: i % 2 === 0 ? 'JAVA' : s,
        version: 453,
        opaque: -5 - i,
        flag: 3,
        remark,
        extFields,
        serializeType: ST.json,
        body: undefined,
      };
      assert.ok(
        encoded(c).equals(jsonFrameByStringify(c)),
        `sample ${i} (remark ${remark === undefined ? 'none' : 'set'})`,
      );
      assert.deepEqual(decodeFrame(encoded(c).subarray(4)).extFields, extFields);
    }
  }
  // Values that are not strings (a caller's cast), undefined fields, a __proto__ key, no extFields at all.
  const odd = { num: 7, yes: true, none: undefined, nil: null, text: 'x' } as unknown as Record<string, string>;
  Object.defineProperty(odd, '__proto__', { value: 'p', enumerable: true });
  for (const extFields of [odd, undefined, {}]) {
    const c: RemotingCommand = {
      code: 0,
      language: 'JAVA',
      version: 0,
      opaque: 2 ** 31 - 1,
      flag: 1,
      remark: '',
      extFields,
      serializeType: ST.json,
      body: undefined,
    };
    assert.ok(encoded(c).equals(jsonFrameByStringify(c)), JSON.stringify(extFields));
  }
});

test('JSON header: random fields and values encode as JSON.stringify does', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary', maxLength: 400 })),
      fc.option(fc.string({ unit: 'binary' }), { nil: undefined }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      (extFields, remark, opaque) => {
        const c: RemotingCommand = {
          code: 320,
          language: 'JAVA',
          version: 453,
          opaque,
          flag: 0,
          remark,
          extFields,
          serializeType: ST.json,
          body: undefined,
        };
        assert.ok(encoded(c).equals(jsonFrameByStringify(c)));
      },
    ),
    { numRuns: 500 },
  );
});

test('binary header: random fields, remarks, languages and numbers encode as laid out field by field, and decode back', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 400 })),
      fc.option(fc.string({ unit: 'binary', maxLength: 300 }), { nil: undefined }),
      fc.constantFrom(...languageCodes),
      fc.integer({ min: -(2 ** 15), max: 2 ** 15 - 1 }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.integer({ min: 0, max: 3 }),
      (extFields, remark, language, code, opaque, flag) => {
        const c: RemotingCommand = {
          code,
          language,
          version: 453,
          opaque,
          flag,
          remark,
          extFields,
          serializeType: ST.rocketmq,
          body: undefined,
        };
        const bytes = encoded(c);
        assert.ok(bytes.equals(binaryFrameByLayout(c)));
        const back = decodeFrame(bytes.subarray(4));
        assert.equal(back.code, code);
        assert.equal(back.language, language);
        assert.equal(back.opaque, opaque);
        assert.equal(back.flag, flag);
        assert.equal(back.remark, remark === '' ? undefined : remark);
        // Lone surrogates do not survive UTF-8: compare with what the bytes say.
        const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('utf8');
        const expected = new Map(Object.entries(extFields).map(([k, v]) => [utf8(k), utf8(v)]));
        assert.deepEqual(new Map(Object.entries(back.extFields ?? {})), expected);
      },
    ),
    { numRuns: 1000 },
  );
});
