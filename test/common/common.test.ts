import assert from 'node:assert/strict';
import { test } from 'node:test';
import { javaStringHashCode } from '../../src/common/hash.js';
import { BoundedMemo } from '../../src/common/memo.js';
import { decodeProperties, encodeProperties } from '../../src/common/properties.js';
import { checkGroupName, checkTopicName } from '../../src/common/validate.js';

test('javaStringHashCode matches Java String.hashCode', () => {
  assert.equal(javaStringHashCode(''), 0);
  assert.equal(javaStringHashCode('TagA'), 2598919);
  assert.equal(javaStringHashCode('hello world'), 1794106052);
  assert.equal(
    javaStringHashCode('a much longer tag that overflows int32'),
    javaStringHashCode('a much longer tag that overflows int32'),
  );
  assert.ok(javaStringHashCode('a much longer tag that overflows int32') <= 0x7fffffff);
});

test('properties round-trip and tolerate junk', () => {
  const s = encodeProperties({ TAGS: 'a', KEYS: 'k1 k2', UNIQ_KEY: 'X' });
  assert.equal(s, 'TAGS\u0001a\u0002KEYS\u0001k1 k2\u0002UNIQ_KEY\u0001X\u0002');
  assert.deepEqual(
    [...decodeProperties(s)],
    [
      ['TAGS', 'a'],
      ['KEYS', 'k1 k2'],
      ['UNIQ_KEY', 'X'],
    ],
  );
  assert.deepEqual([...decodeProperties('A\u0001b')], [['A', 'b']]);
  assert.deepEqual([...decodeProperties('\u0002\u0002noseparator\u0002K\u0001v\u0002')], [['K', 'v']]);
});

test('topic and group names are validated', () => {
  assert.equal(checkTopicName('Topic_1-a%|b'), undefined);
  assert.match(checkTopicName('') ?? '', /empty/);
  assert.match(checkTopicName('a b') ?? '', /characters/);
  assert.match(checkTopicName('x'.repeat(128)) ?? '', /longer/);
  assert.match(checkGroupName('g/1') ?? '', /characters/);
});

test('BoundedMemo: computes once per key, and forgets everything past its bound', () => {
  let calls = 0;
  const memo = new BoundedMemo(2, (k: string) => {
    calls++;
    return k.length;
  });
  assert.equal(memo.get('ab'), 2);
  assert.equal(memo.get('ab'), 2);
  assert.equal(calls, 1);
  memo.get('abc');
  memo.get('abcd'); // a third key: the memo starts over
  memo.get('ab');
  assert.equal(calls, 4);
});
