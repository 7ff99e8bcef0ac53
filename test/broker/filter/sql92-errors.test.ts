/** Bad SQL92 expressions are refused with the position (line, column) of what is wrong and a reason in words. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sql92ParseError } from '../../../src/broker/filter/sql92/errors.js';
import { expressionCharsMax, tokensMax } from '../../../src/broker/filter/sql92/lexer.js';
import { nestingMax } from '../../../src/broker/filter/sql92/parser.js';
import { compileSql92 } from '../../../src/broker/filter/sql92/sql-filter.js';

/** [expression, line, column, reason] */
const rows: Array<[string, number, number, RegExp]> = [
  ['', 1, 1, /empty expression/],
  ['   -- only a comment\n', 2, 1, /empty expression/],
  ['a >', 1, 4, /expected a value, found the end/],
  // `--` starts a comment, also right after an operator
  ['a = --5', 1, 8, /expected a value, found the end/],
  ['a >> 1', 1, 4, /expected a value, found '>'/],
  ['(a > 1', 1, 7, /expected '\)'/],
  ['a > 1 b', 1, 7, /unexpected 'b' after a complete expression/],
  ['a > 1 ADN b < 2', 1, 7, /unexpected 'ADN'/],
  ['a # 1', 1, 3, /unexpected character "#"/],
  ['a != 1', 1, 3, /unexpected character "!"/],
  ["a = 'abc", 1, 5, /unterminated string/],
  ['a > 1 /* x', 1, 7, /unterminated comment/],
  ['5', 1, 1, /not a condition/],
  ["'x'", 1, 1, /not a condition/],
  ['a > 1 AND 5', 1, 11, /not a condition/],
  ['NOT 5', 1, 5, /not a condition/],
  ['-a', 1, 1, /not a condition/],
  ["a > 'x'", 1, 5, /cannot be compared with '>'/],
  ['TRUE < a', 1, 1, /cannot be compared with '<'/],
  ['(a > 1) > 2', 1, 4, /cannot be compared with '>'/],
  ['NOT a > 5', 1, 1, /cannot be compared with '>'/],
  ['a = NULL', 1, 5, /NULL cannot be compared with '='.*IS NULL/],
  ['NULL <> a', 1, 1, /NULL cannot be compared with '<>'/],
  ['TRUE = 1', 1, 6, /TRUE cannot be compared with 1/],
  ["1 IN ('x')", 1, 3, /IN needs a property/],
  ['a IN (1)', 1, 7, /expected a string literal, found '1'/],
  ["a IN ('x',)", 1, 11, /expected a string literal/],
  ['a IN ()', 1, 7, /expected a string literal/],
  ["a IN 'x'", 1, 6, /expected '\('/],
  ['a BETWEEN 5 AND 1', 1, 3, /BETWEEN bounds out of order/],
  ['a BETWEEN 1 OR 5', 1, 13, /expected AND, found OR/],
  ['a BETWEEN NULL AND 1', 1, 3, /BETWEEN bounds cannot be NULL/],
  ["a BETWEEN 'a' AND 'b'", 1, 11, /cannot be compared/],
  ['a > 0.0', 1, 5, /less than the smallest positive double/],
  ['a > 1e999', 1, 5, /greater than the largest double/],
  ['a > 9223372036854775808', 1, 5, /out of the long range/],
  ['a IS 5', 1, 6, /expected NULL, found '5'/],
  ['a IS NOT', 1, 9, /expected NULL, found the end/],
  ['a CONTAINS b', 1, 12, /expected a string literal/],
  ['a = 1\nAND b >', 2, 8, /expected a value, found the end/],
  ['a = 1 AND\n  (b > 2 OR )', 2, 13, /expected a value, found '\)'/],
];

for (const [expression, line, column, reason] of rows) {
  test(`${JSON.stringify(expression)} → line ${line}, column ${column}`, () => {
    const r = compileSql92(expression);
    assert.equal(r.ok, false, 'must not compile');
    if (r.ok) return;
    assert.ok(r.error instanceof Sql92ParseError);
    assert.match(r.error.reason, reason);
    assert.equal(r.error.line, line, r.error.message);
    assert.equal(r.error.column, column, r.error.message);
    assert.match(r.error.message, new RegExp(`at line ${line}, column ${column}$`));
  });
}

test('limits: length, tokens and nesting are bounded with a position', () => {
  const long = compileSql92(`a = '${'x'.repeat(expressionCharsMax)}'`);
  assert.equal(long.ok, false);
  assert.match(long.ok ? '' : long.error.reason, /longer than/);
  const many = compileSql92(Array.from({ length: tokensMax }, () => 'a = 1').join(' AND '));
  assert.equal(many.ok, false);
  assert.match(many.ok ? '' : many.error.reason, /more than \d+ tokens/);
  const deep = compileSql92(`${'('.repeat(nestingMax + 1)}a = 1${')'.repeat(nestingMax + 1)}`);
  assert.equal(deep.ok, false);
  assert.match(deep.ok ? '' : deep.error.reason, /nested deeper/);
  assert.equal(compileSql92(`${'('.repeat(nestingMax - 1)}a = 1${')'.repeat(nestingMax - 1)}`).ok, true);
  assert.equal(compileSql92(`${'NOT '.repeat(nestingMax - 1)}a`).ok, true);
});
