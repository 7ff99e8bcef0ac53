/**
 * The parsed expression. Shapes follow RocketMQ's expression classes, since its parse-time checks look at them:
 * a literal is a ConstantExpression, a property a PropertyExpression, the rest BooleanExpressions except `-x`.
 * `<>`, IS [NOT] NULL and [NOT] BETWEEN are built from the nodes below, as RocketMQ builds them.
 */
import type { Value } from './values.js';

export type Node =
  /** TRUE, FALSE and NULL are boolean constants (usable as conditions); numbers and strings are not. */
  | { k: 'literal'; value: Value; boolean: boolean; pos: number }
  | { k: 'property'; name: string; pos: number }
  | { k: 'negate'; e: Node; pos: number }
  | { k: 'not'; e: Node; pos: number }
  /** A property used as a condition: true only for a Boolean value, which a String never is. */
  | { k: 'cast'; e: Node; pos: number }
  | { k: 'and' | 'or'; l: Node; r: Node; pos: number }
  /** RocketMQ's doCreateEqual; IS NULL is `equal(x, NULL)`. */
  | { k: 'equal'; l: Node; r: Node; pos: number }
  | { k: 'compare'; op: CompareOp; l: Node; r: Node; pos: number }
  | { k: 'in'; e: Node; list: ReadonlySet<string>; not: boolean; pos: number }
  | { k: 'match'; op: MatchOp; e: Node; search: string; not: boolean; pos: number };

export type CompareOp = '>' | '>=' | '<' | '<=';
export type MatchOp = 'CONTAINS' | 'STARTSWITH' | 'ENDSWITH';

/** RocketMQ's BooleanExpression: what AND, OR, NOT and the top level accept without a cast. */
export function isBooleanNode(n: Node): boolean {
  if (n.k === 'literal') return n.boolean;
  return n.k !== 'property' && n.k !== 'negate';
}

/** The property names an expression reads, in first-use order. */
export function propertyNames(n: Node, out: string[] = []): string[] {
  switch (n.k) {
    case 'property':
      if (!out.includes(n.name)) out.push(n.name);
      break;
    case 'negate':
    case 'not':
    case 'cast':
    case 'in':
    case 'match':
      propertyNames(n.e, out);
      break;
    case 'and':
    case 'or':
    case 'equal':
    case 'compare':
      propertyNames(n.l, out);
      propertyNames(n.r, out);
      break;
    case 'literal':
      break;
  }
  return out;
}
