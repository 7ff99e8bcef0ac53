/** Topic attributes in RocketMQ 5's `+k=v,-k` form, and which of them restrict a topic's message type. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyAttributeChanges,
  encodeAttributeChanges,
  parseAttributeChanges,
  restrictedMessageTypeOf,
} from '../../src/common/topic-attributes.js';

test('+message.type=X sets, -message.type removes, other keys keep their value', () => {
  const set = parseAttributeChanges('+message.type=FIFO');
  assert.ok(typeof set !== 'string');
  assert.deepEqual(applyAttributeChanges(undefined, set), { 'message.type': 'FIFO' });
  const remove = parseAttributeChanges('-message.type');
  assert.ok(typeof remove !== 'string');
  assert.equal(applyAttributeChanges({ 'message.type': 'FIFO' }, remove), undefined);
  const none = parseAttributeChanges('');
  assert.ok(typeof none !== 'string');
  assert.deepEqual(applyAttributeChanges({ 'message.type': 'DELAY' }, none), { 'message.type': 'DELAY' });
  assert.equal(encodeAttributeChanges({ 'message.type': 'TRANSACTION' }), '+message.type=TRANSACTION');
});

test('malformed, repeated, unknown keys and bad values are refused with a message naming them', () => {
  const cases: Array<[string, RegExp]> = [
    ['message.type=FIFO', /must start with \+/],
    ['+message.type', /\+key=value/],
    ['+message.type=', /\+key=value/],
    ['-', /-key/],
    ['+message.type=FIFO,-message.type', /given twice/],
    ['+queue.type=BCQ', /'queue.type' is not supported/],
    ['+message.type=fifo', /'fifo' is not one of/],
  ];
  for (const [input, expected] of cases) {
    const r = parseAttributeChanges(input);
    assert.equal(typeof r, 'string', input);
    assert.match(r as string, expected, input);
  }
});

test('only NORMAL, FIFO, DELAY and TRANSACTION restrict; none, UNSPECIFIED and MIXED accept every type', () => {
  for (const t of ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION']) {
    assert.equal(restrictedMessageTypeOf({ 'message.type': t }), t);
  }
  assert.equal(restrictedMessageTypeOf(undefined), undefined);
  assert.equal(restrictedMessageTypeOf({}), undefined);
  assert.equal(restrictedMessageTypeOf({ 'message.type': 'UNSPECIFIED' }), undefined);
  assert.equal(restrictedMessageTypeOf({ 'message.type': 'MIXED' }), undefined);
  assert.equal(restrictedMessageTypeOf({ 'message.type': 'bogus' }), undefined);
});
