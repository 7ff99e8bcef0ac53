import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSubscription, parseTagExpression, tagMatches } from '../../src/client/subscription.js';
import { InvalidArgumentError } from '../../src/common/errors.js';

test('tag expressions parse like RocketMQ FilterAPI', () => {
  assert.deepEqual(parseTagExpression('*'), []);
  assert.deepEqual(parseTagExpression(''), []);
  assert.deepEqual(parseTagExpression(undefined), []);
  assert.deepEqual(parseTagExpression('TagA'), ['TagA']);
  assert.deepEqual(parseTagExpression(' TagA || TagB ||TagC'), ['TagA', 'TagB', 'TagC']);
  assert.deepEqual(parseTagExpression('a || a'), ['a']);
  assert.throws(() => parseTagExpression('||'), InvalidArgumentError);
});

test('subscription carries Java hash codes of its tags', () => {
  const sub = buildSubscription('T', 'TagA || TagB', 42);
  assert.deepEqual(sub, {
    topic: 'T',
    subString: 'TagA || TagB',
    tagsSet: ['TagA', 'TagB'],
    codeSet: [2598919, 2598920],
    subVersion: 42,
    expressionType: 'TAG',
    classFilterMode: false,
  });
  assert.equal(buildSubscription('T', '*').subString, '*');
});

test('exact tag check drops other and missing tags', () => {
  const sub = buildSubscription('T', 'TagA || TagB');
  assert.equal(tagMatches(sub, 'TagA'), true);
  assert.equal(tagMatches(sub, 'TagC'), false);
  assert.equal(tagMatches(sub, undefined), false);
  assert.equal(tagMatches(buildSubscription('T', '*'), undefined), true);
});

test('a SQL92 selector is sent as written with type SQL92; the client does no tag check for it', () => {
  const sub = buildSubscription('T', { sql: "a > 1 AND TAGS = 'x'" }, 7);
  assert.deepEqual(sub, {
    topic: 'T',
    subString: "a > 1 AND TAGS = 'x'",
    tagsSet: [],
    codeSet: [],
    subVersion: 7,
    expressionType: 'SQL92',
    classFilterMode: false,
  });
  assert.equal(tagMatches(sub, undefined), true);
  assert.equal(tagMatches(sub, 'y'), true);
  assert.throws(() => buildSubscription('T', { sql: '  ' }), InvalidArgumentError);
  assert.deepEqual(buildSubscription('T', { tag: 'A || B' }, 7), buildSubscription('T', 'A || B', 7));
});
