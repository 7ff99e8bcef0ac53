/**
 * Recursive descent over RocketMQ's SelectorParser.jj, precedence loosest first:
 *   or   := and (OR and)*
 *   and  := eq (AND eq)*
 *   eq   := cmp ('=' cmp | '<>' cmp | IS NULL | IS NOT NULL)*
 *   cmp  := unary ('>'|'>='|'<'|'<=' unary | [NOT] BETWEEN unary AND unary | [NOT] IN '(' str (',' str)* ')'
 *                 | [NOT] CONTAINS|STARTSWITH|ENDSWITH str)*
 *   unary := '+' unary | '-' unary | NOT unary | primary        (so `NOT a > 1` is `(NOT a) > 1`, as in RocketMQ)
 *   primary := literal | identifier | '(' or ')'
 * RocketMQ's parse-time checks are kept (a string or boolean compared by `<`, `= NULL`, IN on a non-property,
 * BETWEEN bounds out of order, zero or overflowing floats). Unlike RocketMQ, text after a complete expression is
 * an error rather than ignored, so `a > 1 ADN b < 2` is refused instead of meaning `a > 1`.
 */
import { type CompareOp, isBooleanNode, type MatchOp, type Node } from './ast.js';
import { Sql92ParseError } from './errors.js';
import { type Token, TokenKind, tokenize } from './lexer.js';
import { compareValues, mismatch, Num, NumKind, type Value, valueText } from './values.js';

/** Deepest nesting of parentheses and unary operators (keeps recursion far from the stack limit). */
export const nestingMax = 200;
const compareOps = new Set(['>', '>=', '<', '<=']);
const matchOps = new Set(['CONTAINS', 'STARTSWITH', 'ENDSWITH']);

/** Parses a SQL92 selector; throws Sql92ParseError naming the position. */
export function parseSql92(text: string): Node {
  return new Parser(text).parse();
}

class Parser {
  private readonly tokens: Token[];
  private at = 0;
  private depth = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  parse(): Node {
    if (this.peek().kind === TokenKind.eof) throw this.error(this.peek(), 'empty expression');
    const root = this.asBoolean(this.or());
    const rest = this.peek();
    if (rest.kind !== TokenKind.eof) throw this.error(rest, `unexpected ${describe(rest)} after a complete expression`);
    return root;
  }

  private or(): Node {
    let left = this.and();
    while (this.isKeyword('OR')) {
      const op = this.next();
      const right = this.and();
      left = { k: 'or', l: this.asBoolean(left), r: this.asBoolean(right), pos: op.pos };
    }
    return left;
  }

  private and(): Node {
    let left = this.equality();
    while (this.isKeyword('AND')) {
      const op = this.next();
      const right = this.equality();
      left = { k: 'and', l: this.asBoolean(left), r: this.asBoolean(right), pos: op.pos };
    }
    return left;
  }

  private equality(): Node {
    let left = this.comparison();
    for (;;) {
      const t = this.peek();
      if (isOp(t, '=') || isOp(t, '<>')) {
        this.next();
        const right = this.comparison();
        this.checkEqualOperand(left, t);
        this.checkEqualOperand(right, t);
        if (left.k === 'literal' && right.k === 'literal' && left.boolean && !right.boolean) {
          throw this.error(t, `${valueText(left.value)} cannot be compared with ${valueText(right.value)}`);
        }
        const eq: Node = { k: 'equal', l: left, r: right, pos: t.pos };
        left = t.text === '=' ? eq : { k: 'not', e: eq, pos: t.pos };
      } else if (t.kind === TokenKind.keyword && t.text === 'IS') {
        this.next();
        const not = this.isKeyword('NOT');
        if (not) this.next();
        this.expectKeyword('NULL');
        const eq: Node = { k: 'equal', l: left, r: nullLiteral(t.pos), pos: t.pos };
        left = not ? { k: 'not', e: eq, pos: t.pos } : eq;
      } else {
        return left;
      }
    }
  }

  private comparison(): Node {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind === TokenKind.op && compareOps.has(t.text)) {
        this.next();
        left = this.compare(t.text as CompareOp, left, this.unary(), t);
        continue;
      }
      const not = t.kind === TokenKind.keyword && t.text === 'NOT';
      const kw = not ? this.peek(1) : t;
      if (kw.kind !== TokenKind.keyword) return left;
      if (kw.text === 'BETWEEN') {
        this.at += not ? 2 : 1;
        const low = this.unary();
        this.expectKeyword('AND');
        const high = this.unary();
        left = not ? this.notBetween(left, low, high, kw) : this.between(left, low, high, kw);
      } else if (kw.text === 'IN') {
        this.at += not ? 2 : 1;
        if (left.k !== 'property') throw this.error(kw, 'IN needs a property on its left');
        this.expectOp('(');
        const list = new Set<string>([this.expectString()]);
        while (isOp(this.peek(), ',')) {
          this.next();
          list.add(this.expectString());
        }
        this.expectOp(')');
        left = { k: 'in', e: left, list, not, pos: kw.pos };
      } else if (matchOps.has(kw.text)) {
        this.at += not ? 2 : 1;
        left = { k: 'match', op: kw.text as MatchOp, e: left, search: this.expectString(), not, pos: kw.pos };
      } else {
        return left;
      }
    }
  }

  private unary(): Node {
    const t = this.peek();
    const isUnary = isOp(t, '+') || isOp(t, '-') || (t.kind === TokenKind.keyword && t.text === 'NOT');
    if (!isUnary) return this.primary();
    this.next();
    this.enter(t);
    const e = this.unary();
    this.depth--;
    if (t.text === '+') return e;
    if (t.text === '-') return { k: 'negate', e, pos: t.pos };
    return { k: 'not', e: this.asBoolean(e), pos: t.pos };
  }

  private primary(): Node {
    const t = this.next();
    switch (t.kind) {
      case TokenKind.string:
        return { k: 'literal', value: t.text, boolean: false, pos: t.pos };
      case TokenKind.decimal:
        return { k: 'literal', value: this.decimal(t), boolean: false, pos: t.pos };
      case TokenKind.float:
        return { k: 'literal', value: this.float(t), boolean: false, pos: t.pos };
      case TokenKind.id:
        return { k: 'property', name: t.text, pos: t.pos };
      case TokenKind.keyword:
        if (t.text === 'TRUE' || t.text === 'FALSE') {
          return { k: 'literal', value: t.text === 'TRUE', boolean: true, pos: t.pos };
        }
        if (t.text === 'NULL') return nullLiteral(t.pos);
        break;
      case TokenKind.op:
        if (t.text === '(') {
          this.enter(t);
          const inner = this.or();
          this.depth--;
          this.expectOp(')');
          return inner;
        }
        break;
      case TokenKind.eof:
        throw this.error(t, 'expected a value, found the end of the expression');
    }
    throw this.error(t, `expected a value, found ${describe(t)}`);
  }

  private compare(op: CompareOp, l: Node, r: Node, t: Token): Node {
    this.checkLessThanOperand(l, t);
    this.checkLessThanOperand(r, t);
    return { k: 'compare', op, l, r, pos: t.pos };
  }

  private between(v: Node, low: Node, high: Node, t: Token): Node {
    if (low.k === 'literal' && high.k === 'literal') {
      if (low.value === null || high.value === null) throw this.error(t, 'BETWEEN bounds cannot be NULL');
      let order: number;
      try {
        order = compareValues(high.value, low.value);
      } catch (err) {
        if (err !== mismatch) throw err;
        order = -1;
      }
      if (order < 0) {
        throw this.error(t, `BETWEEN bounds out of order: ${valueText(low.value)} is above ${valueText(high.value)}`);
      }
    }
    return { k: 'and', l: this.compare('>=', v, low, t), r: this.compare('<=', v, high, t), pos: t.pos };
  }

  private notBetween(v: Node, low: Node, high: Node, t: Token): Node {
    return { k: 'or', l: this.compare('<', v, low, t), r: this.compare('>', v, high, t), pos: t.pos };
  }

  private decimal(t: Token): Value {
    const last = t.text.charCodeAt(t.text.length - 1);
    const digits = last === 108 || last === 76 ? t.text.slice(0, -1) : t.text;
    const v = BigInt(digits);
    if (v > 2n ** 63n - 1n) throw this.error(t, `${t.text} is out of the long range`);
    return v <= 2n ** 31n - 1n ? new Num(NumKind.int, Number(v)) : new Num(NumKind.long, v);
  }

  private float(t: Token): Value {
    const v = Number(t.text);
    if (v === Number.POSITIVE_INFINITY) throw this.error(t, `${t.text} is greater than the largest double`);
    // RocketMQ refuses any float literal below Double.MIN_VALUE, zero included.
    if (v < Number.MIN_VALUE) throw this.error(t, `${t.text} is less than the smallest positive double`);
    return new Num(NumKind.double, v);
  }

  private asBoolean(n: Node): Node {
    if (isBooleanNode(n)) return n;
    if (n.k === 'property') return { k: 'cast', e: n, pos: n.pos };
    throw this.errorAt(n.pos, 'this is not a condition (true or false)');
  }

  private checkLessThanOperand(n: Node, op: Token): void {
    if (n.k === 'literal' ? !(n.value instanceof Num) : isBooleanNode(n)) {
      throw this.errorAt(n.pos, `cannot be compared with '${op.text}' (numbers and properties only)`);
    }
  }

  private checkEqualOperand(n: Node, op: Token): void {
    if (n.k === 'literal' && n.value === null) {
      throw this.errorAt(n.pos, `NULL cannot be compared with '${op.text}' (use IS NULL)`);
    }
  }

  private enter(t: Token): void {
    if (++this.depth > nestingMax) throw this.error(t, `nested deeper than ${nestingMax}`);
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.at + ahead, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (this.at < this.tokens.length - 1) this.at++;
    return t;
  }

  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t.kind === TokenKind.keyword && t.text === word;
  }

  private expectKeyword(word: string): void {
    const t = this.next();
    if (t.kind !== TokenKind.keyword || t.text !== word) throw this.error(t, `expected ${word}, found ${describe(t)}`);
  }

  private expectOp(op: string): void {
    const t = this.next();
    if (!isOp(t, op)) throw this.error(t, `expected '${op}', found ${describe(t)}`);
  }

  private expectString(): string {
    const t = this.next();
    if (t.kind !== TokenKind.string) throw this.error(t, `expected a string literal, found ${describe(t)}`);
    return t.text;
  }

  private error(t: Token, reason: string): Sql92ParseError {
    return Sql92ParseError.at(this.text, t.pos, reason);
  }

  private errorAt(pos: number, reason: string): Sql92ParseError {
    return Sql92ParseError.at(this.text, pos, reason);
  }
}

function nullLiteral(pos: number): Node {
  return { k: 'literal', value: null, boolean: true, pos };
}

function isOp(t: Token, op: string): boolean {
  return t.kind === TokenKind.op && t.text === op;
}

function describe(t: Token): string {
  switch (t.kind) {
    case TokenKind.eof:
      return 'the end of the expression';
    case TokenKind.string:
      return `the string '${t.text}'`;
    case TokenKind.keyword:
      return t.text;
    default:
      return `'${t.text}'`;
  }
}
