/**
 * Turns a parsed expression into nested closures over an array of property values (one slot per property the
 * expression names), with RocketMQ's three-valued logic: a missing property is NULL, comparisons with NULL are
 * NULL, AND / OR / NOT follow SQL, and only TRUE matches. A comparison Java would throw on (`a > 5` with a = 'x')
 * throws `mismatch`, which fails the whole message, as RocketMQ's evaluate() does.
 */
import type { Node } from './ast.js';
import { compareDouble, compareValues, javaDouble, mismatch, Num, NumKind, type Value } from './values.js';

/** Property values by slot; undefined = the message does not have that property. */
export type Slots = ReadonlyArray<string | undefined>;
export type Evaluator = (slots: Slots) => Value;

export function compileNode(n: Node, slotOf: (name: string) => number): Evaluator {
  switch (n.k) {
    case 'literal': {
      const v = n.value;
      return () => v;
    }
    case 'property': {
      const i = slotOf(n.name);
      return (s) => s[i] ?? null;
    }
    case 'negate': {
      // Numbers only come from literals, so `-5` folds; anything else (a String, a condition) negates to NULL.
      if (n.e.k === 'literal' || n.e.k === 'negate') {
        const v = compileNode(n.e, slotOf)([]);
        const folded = v instanceof Num ? negate(v) : null;
        return () => folded;
      }
      const e = compileNode(n.e, slotOf);
      return (s) => {
        const v = e(s);
        return v instanceof Num ? negate(v) : null;
      };
    }
    case 'not': {
      const e = compileNode(n.e, slotOf);
      return (s) => {
        const v = e(s);
        return v === null ? null : !v;
      };
    }
    case 'cast': {
      const e = compileNode(n.e, slotOf);
      return (s) => {
        const v = e(s);
        return v === null ? null : typeof v === 'boolean' ? v : false;
      };
    }
    case 'and': {
      const l = compileNode(n.l, slotOf);
      const r = compileNode(n.r, slotOf);
      return (s) => {
        const lv = l(s);
        if (lv === false) return false;
        const rv = r(s);
        if (rv === false) return false;
        return lv === null || rv === null ? null : true;
      };
    }
    case 'or': {
      const l = compileNode(n.l, slotOf);
      const r = compileNode(n.r, slotOf);
      return (s) => {
        const lv = l(s);
        if (lv === true) return true;
        const rv = r(s);
        if (rv === true) return true;
        return lv === null || rv === null ? null : false;
      };
    }
    case 'equal': {
      const l = compileNode(n.l, slotOf);
      const r = compileNode(n.r, slotOf);
      return (s) => {
        const lv = l(s);
        const rv = r(s);
        // RocketMQ: NULL on the left gives NULL, NULL on the right only FALSE; both NULL is TRUE (IS NULL).
        if (lv === null) return rv === null ? true : null;
        if (rv === null) return false;
        return compareValues(lv, rv) === 0;
      };
    }
    case 'compare': {
      const l = compileNode(n.l, slotOf);
      const r = compileNode(n.r, slotOf);
      const test = testOf(n.op);
      return (s) => {
        const lv = l(s);
        if (lv === null) return null;
        const rv = r(s);
        if (rv === null) return null;
        // Two Strings are compared as doubles (RocketMQ refuses to order strings).
        if (typeof lv === 'string' && typeof rv === 'string')
          return test(compareDouble(javaDouble(lv), javaDouble(rv)));
        return test(compareValues(lv, rv));
      };
    }
    case 'in': {
      const e = compileNode(n.e, slotOf);
      const { list, not } = n;
      return (s) => {
        const v = e(s);
        if (typeof v !== 'string') return null;
        return list.has(v) !== not;
      };
    }
    case 'match': {
      const e = compileNode(n.e, slotOf);
      const { search, not } = n;
      const has = matcherOf(n.op);
      return (s) => {
        if (search === '') return false;
        const v = e(s);
        if (typeof v !== 'string') return false;
        return has(v, search) !== not;
      };
    }
  }
}

/** True only when the expression is TRUE for these values. */
export function matchesSlots(ev: Evaluator, slots: Slots): boolean {
  try {
    return ev(slots) === true;
  } catch (err) {
    if (err === mismatch) return false;
    throw err;
  }
}

function negate(v: Num): Num {
  if (v.kind === NumKind.long) return new Num(v.kind, -(v.v as bigint));
  // An int 0 stays 0 (Java has no -0 int); a double keeps its sign rules.
  if (v.kind === NumKind.int) return new Num(v.kind, v.v === 0 ? 0 : -(v.v as number));
  return new Num(v.kind, -(v.v as number));
}

function testOf(op: '>' | '>=' | '<' | '<='): (c: number) => boolean {
  switch (op) {
    case '>':
      return (c) => c > 0;
    case '>=':
      return (c) => c >= 0;
    case '<':
      return (c) => c < 0;
    case '<=':
      return (c) => c <= 0;
  }
}

function matcherOf(op: 'CONTAINS' | 'STARTSWITH' | 'ENDSWITH'): (v: string, search: string) => boolean {
  switch (op) {
    case 'CONTAINS':
      return (v, search) => v.includes(search);
    case 'STARTSWITH':
      return (v, search) => v.startsWith(search);
    case 'ENDSWITH':
      return (v, search) => v.endsWith(search);
  }
}
