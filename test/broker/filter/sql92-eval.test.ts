/**
 * SQL92 filter semantics, as RocketMQ's filter module evaluates them: a table of expressions against property
 * sets, each checked both from a Map and from the stored `key\u0001value\u0002` bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sql92Filter } from '../../../src/broker/filter/sql92/sql-filter.js';
import { encodeProperties } from '../../../src/common/properties.js';

type Props = Record<string, string>;
/** [expression, properties, matches] */
type Row = [string, Props, boolean];

const a5: Props = { a: '5' };

const rows: Row[] = [
  // comparisons with an int literal: the property is read with Integer.valueOf
  ['a > 4', a5, true],
  ['a > 5', a5, false],
  ['a >= 5', a5, true],
  ['a < 6', a5, true],
  ['a <= 4', a5, false],
  ['a = 5', a5, true],
  ['a = 5', { a: '05' }, true],
  ['a = 5', { a: '+5' }, true],
  ['a <> 5', a5, false],
  ['a <> 6', a5, true],
  ['5 = a', a5, true],
  ['4 < a', a5, true],
  ['a > -1', a5, true],
  ['a > - 1', { a: '-2' }, false],
  ['a = - -5', a5, true],
  ['a = +5', a5, true],
  // an int literal against a property that is not an int: the message does not match (Integer.valueOf throws)
  ['a > 4', { a: '5.5' }, false],
  ['a < 100', { a: 'x' }, false],
  ['a = 5', { a: ' 5' }, false],
  ['a > 1', { a: '3000000000' }, false],
  ['a > 2147483648', { a: '3000000000' }, true],
  ['a < 9223372036854775807', { a: '3000000000' }, true],
  // the failure fails the whole expression, even an OR whose other side is TRUE
  ["a > 4 OR b = 'x'", { a: 'oops', b: 'x' }, false],
  ["b = 'x' OR a > 4", { a: 'oops', b: 'x' }, true],
  ["b = 'y' AND a > 4", { a: 'oops', b: 'x' }, false],
  // double literals: Double.valueOf (whitespace trimmed, NaN, exponents, f/d suffixes)
  ['a > 4.5', a5, true],
  ['a = 5.0', a5, true],
  ['a = 5.0', { a: ' 5 ' }, true],
  ['a > 4.5', { a: '4.6d' }, true],
  ['a > 1.5', { a: '2e3' }, true],
  ['a > 1.5', { a: 'NaN' }, true],
  ['a < 1.5', { a: '-Infinity' }, true],
  ['a BETWEEN 1.5 AND 2.5', { a: '2' }, true],
  ['a > 1E2', { a: '101' }, true],
  ['a > .5', { a: '1' }, true],
  // two properties: = compares strings, < > compare both as doubles
  ['a = b', { a: 'x', b: 'x' }, true],
  ['a = b', { a: '1', b: '1.0' }, false],
  ['a < b', { a: '1', b: '1.5' }, true],
  ['a < b', { a: '10', b: '9' }, false],
  ['a < b', { a: 'x', b: 'y' }, false],
  // strings
  ["a = 'abc'", { a: 'abc' }, true],
  ["a = 'abc'", { a: 'ABC' }, false],
  ["a <> 'abc'", { a: 'abd' }, true],
  ["a = 'it''s'", { a: "it's" }, true],
  ["a = ''", { a: '' }, true],
  ["a = 'héllo ✓'", { a: 'héllo ✓' }, true],
  ["'5' = a", a5, true],
  // booleans: a String equals TRUE when it reads "true" in any case
  ['a = TRUE', { a: 'true' }, true],
  ['a = TRUE', { a: 'TRUE' }, true],
  ['a = FALSE', { a: 'yes' }, true],
  ['a = TRUE', { a: '1' }, false],
  ['TRUE', {}, true],
  ['FALSE', {}, false],
  ['NOT FALSE', {}, true],
  ['(a > 1) = TRUE', a5, true],
  ['(a > 1) = FALSE', a5, false],
  // a property alone is a condition that is never TRUE (its values are Strings); NOT of it is TRUE when present
  ['a', { a: 'true' }, false],
  ['NOT a', { a: 'x' }, true],
  ['NOT a', {}, false],
  // missing property: NULL, so comparisons are never TRUE, and neither is their negation
  ['a > 4', {}, false],
  ['NOT (a > 4)', {}, false],
  ['a = 5', {}, false],
  ['a <> 5', {}, false],
  ["a = 'x'", { b: 'x' }, false],
  ["a IN ('x')", {}, false],
  ["a NOT IN ('x')", {}, false],
  ['a BETWEEN 1 AND 9', {}, false],
  ['a NOT BETWEEN 1 AND 9', {}, false],
  // NULL only on the right of = is FALSE (RocketMQ), so <> is TRUE there
  ['a = b', { a: 'x' }, false],
  ['a <> b', { a: 'x' }, true],
  ['b <> a', { a: 'x' }, false],
  // three-valued AND / OR
  ['a > 1 OR b > 1', { a: '5' }, true],
  ['b > 1 OR a > 1', { a: '5' }, true],
  ['a > 1 AND b > 1', { a: '5' }, false],
  ['NOT (a > 1 AND b > 1)', { a: '5' }, false],
  ['NOT (a > 9 AND b > 1)', { a: '5' }, true],
  ['NOT (a > 1 OR b > 1)', { a: '5' }, false],
  ['NOT (a > 9 OR b > 1)', { a: '5' }, false],
  // IS NULL / IS NOT NULL
  ['a IS NULL', {}, true],
  ['a IS NULL', a5, false],
  ['a IS NOT NULL', a5, true],
  ['a IS NOT NULL', {}, false],
  ["a IS NULL OR a = 'x'", {}, true],
  ['a is not null', { a: '' }, true],
  // BETWEEN
  ['a BETWEEN 1 AND 5', a5, true],
  ['a BETWEEN 5 AND 5', a5, true],
  ['a BETWEEN 6 AND 9', a5, false],
  ['a NOT BETWEEN 6 AND 9', a5, true],
  ['a NOT BETWEEN 1 AND 9', a5, false],
  ['a BETWEEN -1 AND 1', { a: '0' }, true],
  ['a between 1 and 9 and b = 1', { a: '2', b: '1' }, true],
  // IN: strings only, exact
  ["a IN ('x', 'y')", { a: 'y' }, true],
  ["a IN ('x', 'y')", { a: 'z' }, false],
  ["a NOT IN ('x', 'y')", { a: 'z' }, true],
  ["a NOT IN ('x', 'y')", { a: 'x' }, false],
  ["a IN ('1','2','3','4','5','6')", { a: '6' }, true],
  ["a IN ('5')", a5, true],
  // CONTAINS / STARTSWITH / ENDSWITH (RocketMQ 5): a missing property is FALSE, also for the NOT forms
  ["a CONTAINS 'bc'", { a: 'abcd' }, true],
  ["a CONTAINS 'x'", { a: 'abcd' }, false],
  ["a NOT CONTAINS 'x'", { a: 'abcd' }, true],
  ["a NOT CONTAINS 'x'", {}, false],
  ["a STARTSWITH 'ab'", { a: 'abcd' }, true],
  ["a NOT STARTSWITH 'ab'", { a: 'abcd' }, false],
  ["a ENDSWITH 'cd'", { a: 'abcd' }, true],
  ["a NOT ENDSWITH 'cd'", { a: 'abce' }, true],
  ["a CONTAINS ''", { a: 'abcd' }, false],
  // TAGS and KEYS are properties
  ["TAGS = 'TagA'", { TAGS: 'TagA' }, true],
  ["TAGS IN ('TagA', 'TagB') AND a > 1", { TAGS: 'TagB', a: '2' }, true],
  ["TAGS = 'TagA'", {}, false],
  ["KEYS = 'k1'", { KEYS: 'k1' }, true],
  // precedence: AND before OR, comparisons before AND, parentheses first
  ['a = 1 OR a = 2 AND b = 3', { a: '1', b: '0' }, true],
  ['(a = 1 OR a = 2) AND b = 3', { a: '1', b: '0' }, false],
  ['a = 2 AND b = 3 OR c = 4', { c: '4' }, true],
  ['a = 2 AND (b = 3 OR c = 4)', { c: '4' }, false],
  ['NOT a = 1 OR TRUE', { a: '1' }, true],
  ['NOT (a = 1) OR b = 1', { a: '1', b: '1' }, true],
  ['NOT (a = 1) AND b = 1', { a: '1', b: '1' }, false],
  // NOT binds tighter than =: (NOT a) = 5 compares a Boolean with an int, which is never equal
  ['NOT a = 5', a5, false],
  // case: keywords any case, property names exact
  ["a = 'x' and B = 'y'", { a: 'x', B: 'y' }, true],
  ["a = 'x' AnD b = 'y'", { a: 'x', B: 'y' }, false],
  // identifiers: _ and $ and digits
  ['_a$1 = 1', { _a$1: '1' }, true],
  // comments and white space
  ['a = 5 -- trailing comment', a5, true],
  ['a /* inline */ = 5', a5, true],
  ['\n\ta\r\n=\f5\n', a5, true],
  // long literals: L suffix, bounds
  ['a = 5L', a5, true],
  ['a = 9223372036854775807', { a: '9223372036854775807' }, true],
  ['a = 9223372036854775807', { a: '9223372036854775808' }, false],
  ['a = 9223372036854775807', { a: `-0000${'0'.repeat(40)}9223372036854775807` }, false],
  ['a = 9223372036854775807', { a: `+${'0'.repeat(40)}9223372036854775807` }, true],
  ['a < 9223372036854775807', { a: '9'.repeat(30000) }, false],
  ['a > 2147483648', { a: `-${'1'.repeat(20)}` }, false],
  // 2147483647 is an int literal: the property is read as an int, and 2147483648 is not one
  ['a > 2147483647', { a: '2147483648' }, false],
  // literal against literal
  ['1 = 1', {}, true],
  ['1 = 1.0', {}, true],
  ['2147483648 > 1', {}, true],
  ["'a' = 'a'", {}, true],
  ['1 = TRUE', {}, false],
];

for (const [expression, props, want] of rows) {
  test(`${expression}  with ${JSON.stringify(props)}  → ${want}`, () => {
    const f = new Sql92Filter(expression);
    assert.equal(f.matchesMap(new Map(Object.entries(props))), want, 'from a Map');
    // from the stored bytes, with other properties around it
    const bytes = Buffer.from(
      encodeProperties(new Map([['UNIQ_KEY', 'AB12'], ...Object.entries(props), ['WAIT', 'true']])),
    );
    const padded = Buffer.concat([Buffer.from('xx'), bytes, Buffer.from([1, 2, 1])]);
    assert.equal(f.matchesProperties(padded, 2, 2 + bytes.length), want, 'from bytes');
  });
}

test('a filter is reused across messages: no value leaks from one message to the next', () => {
  const f = new Sql92Filter('a IS NULL');
  const one = Buffer.from(encodeProperties(new Map([['a', '1']])));
  const none = Buffer.from(encodeProperties(new Map([['b', '1']])));
  assert.equal(f.matchesProperties(one, 0, one.length), false);
  assert.equal(f.matchesProperties(none, 0, none.length), true);
});

test('a property repeated in the bytes: the last value counts (as a Map decode)', () => {
  const f = new Sql92Filter("a = 'y'");
  const bytes = Buffer.from('a\u0001x\u0002a\u0001y\u0002');
  assert.equal(f.matchesProperties(bytes, 0, bytes.length), true);
});

test('properties without a trailing separator and empty properties', () => {
  const f = new Sql92Filter("a = 'x'");
  const bytes = Buffer.from('b\u00011\u0002a\u0001x');
  assert.equal(f.matchesProperties(bytes, 0, bytes.length), true);
  assert.equal(f.matchesProperties(Buffer.alloc(0), 0, 0), false);
  assert.deepEqual(f.names, ['a']);
});
