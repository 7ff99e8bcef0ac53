/**
 * Fuzzes the SQL92 selector parser and evaluator (bounded time, harness.ts): an input either compiles or is
 * refused with a Sql92ParseError whose position lies inside the text; a compiled filter never throws on any
 * properties and judges the stored bytes as it judges the decoded Map.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sql92ParseError } from '../../src/broker/filter/sql92/errors.js';
import { Sql92Filter } from '../../src/broker/filter/sql92/sql-filter.js';
import { encodeProperties } from '../../src/common/properties.js';
import { type FuzzTarget, fuzz, reported } from './harness.js';

const seeds = [
  "a > 5 AND TAGS IN ('x', 'y')",
  "(a BETWEEN 1 AND 9 OR b = 'it''s') AND NOT (c IS NULL)",
  'a IS NOT NULL OR b NOT BETWEEN -1.5e3 AND 2147483648L',
  "region <> 'eu' AND price >= .5 -- comment\n AND x NOT IN ('1')",
  "a CONTAINS 'b' OR a NOT STARTSWITH 'c' OR a ENDSWITH 'd' /* block */",
  'TRUE = (a < b) AND NOT a',
].map((s) => Buffer.from(s));

const values = ['5', '-1', '1.5', 'x', '', 'true', 'NaN', '2147483648', ' 7 ', 'y', "it's", '1e3'];

const sql92: FuzzTarget = {
  name: 'sql92',
  seeds,
  allowed: [Sql92ParseError],
  tokens: [
    ' AND ',
    ' OR ',
    ' NOT ',
    ' IS NULL',
    ' BETWEEN ',
    ' IN (',
    "'",
    "''",
    '(',
    ')',
    '<>',
    '>=',
    '--',
    '/*',
    '*/',
    '.',
    'E',
    'L',
    ',',
  ],
  run(input, rng) {
    const text = input.toString('utf8');
    let f: Sql92Filter;
    try {
      f = new Sql92Filter(text);
    } catch (err) {
      if (err instanceof Sql92ParseError) {
        assert.ok(err.position >= 0 && err.position <= text.length, `position ${err.position} outside the text`);
        assert.ok(err.line >= 1 && err.column >= 1);
      }
      throw err;
    }
    for (let round = 0; round < 4; round++) {
      const props = new Map<string, string>();
      for (const name of [...f.names, 'TAGS', 'other']) {
        if (rng.below(4) !== 0) props.set(name, rng.pick(values));
      }
      const bytes = Buffer.from(encodeProperties(props));
      const fromMap = f.matchesMap(props);
      assert.equal(typeof fromMap, 'boolean');
      assert.equal(f.matchesProperties(bytes, 0, bytes.length), fromMap, 'bytes and Map disagree');
    }
  },
};

test('fuzz: SQL92 selectors', (t) => {
  const r = reported(t, fuzz(sql92));
  assert.ok(r.refused > 0 && r.refused < r.inputs, `both outcomes seen (${r.refused} of ${r.inputs} refused)`);
});
