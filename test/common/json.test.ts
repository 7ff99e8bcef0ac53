import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonSyntaxError, jsonDepthMax, parseTolerantJson } from '../../src/common/json.js';

test('strict JSON parses as JSON.parse does', () => {
  const text = '{"a":[1,2.5,-3e2,true,false,null],"b":{"c":"x\\"y\\u00e9"}}';
  assert.deepEqual(parseTolerantJson(text), JSON.parse(text));
});

test('unquoted numeric and identifier keys, as fastjson writes Map<Long,String>', () => {
  const text = '{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"b"}],key:1}';
  assert.deepEqual(parseTolerantJson(text), {
    brokerDatas: [{ brokerAddrs: { '0': '127.0.0.1:10911', '1': '127.0.0.1:10921' }, brokerName: 'b' }],
    key: 1,
  });
  assert.deepEqual(parseTolerantJson('{ -1 : "a" , 2:[ ] , }'), { '-1': 'a', '2': [] });
  assert.deepEqual(parseTolerantJson('[1,2,]'), [1, 2]);
});

test('a "__proto__" key stays plain data', () => {
  const v = parseTolerantJson('{__proto__:{"polluted":1}, 0:1}') as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.deepEqual(Object.keys(v).sort(), ['0', '__proto__']);
});

test('bad input throws JsonSyntaxError with an offset, never loops', () => {
  for (const bad of ['{0:', '{0 "a"}', '[1 2]', '{"a":1} x', '{', '[', '"abc', '{:1}', 'nul', '{0:tru}', '']) {
    assert.throws(() => parseTolerantJson(bad), JsonSyntaxError, bad);
  }
  assert.throws(() => parseTolerantJson('{0:"a"'), /offset \d+/);
});

test('nesting past the limit is refused, not a stack overflow', () => {
  const deep = `${'{0:'.repeat(jsonDepthMax + 10)}1${'}'.repeat(jsonDepthMax + 10)}`;
  assert.throws(() => parseTolerantJson(deep), JsonSyntaxError);
  // Object keys nest too (fastjson writes MessageQueue keys as objects): found by test/fuzz/formats.test.ts.
  assert.throws(() => parseTolerantJson('['.concat('{'.repeat(20_000))), JsonSyntaxError);
  assert.throws(() => parseTolerantJson(`{${'{'.repeat(20_000)}"a":1}`), JsonSyntaxError);
  const ok = `${'{0:'.repeat(50)}1${'}'.repeat(50)}`;
  assert.ok(parseTolerantJson(ok) !== undefined);
});

test('object map keys (fastjson MessageQueue keys) come back as compact JSON text', () => {
  const v = parseTolerantJson(
    '{{"brokerName":"b","queueId":1,"topic":"t"}:{"maxOffset":3},{"queueId":2}:{}}',
  ) as Record<string, unknown>;
  assert.deepEqual(Object.keys(v), ['{"brokerName":"b","queueId":1,"topic":"t"}', '{"queueId":2}']);
  assert.deepEqual(JSON.parse(Object.keys(v)[0] as string), { brokerName: 'b', queueId: 1, topic: 't' });
});
