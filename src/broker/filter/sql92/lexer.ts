/**
 * Tokens of RocketMQ's SQL92 selector grammar (filter/parser/SelectorParser.jj): keywords and identifiers are
 * case-insensitive (identifier text is kept as written: property names are case-sensitive), `'…'` strings with
 * `''` for a quote, decimal integers with an optional L, floats with an optional exponent, `-- …` and `/* … *\/`
 * comments.
 */
import { Sql92ParseError } from './errors.js';

export const TokenKind = {
  id: 'id',
  keyword: 'keyword',
  string: 'string',
  decimal: 'decimal',
  float: 'float',
  op: 'op',
  eof: 'eof',
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

export interface Token {
  kind: TokenKind;
  /** Keywords upper-cased; strings unquoted; otherwise the text as written. */
  text: string;
  /** 0-based index of the first character. */
  pos: number;
}

const keywords = new Set([
  'NOT',
  'AND',
  'OR',
  'BETWEEN',
  'IN',
  'TRUE',
  'FALSE',
  'NULL',
  'IS',
  'CONTAINS',
  'STARTSWITH',
  'ENDSWITH',
]);
const twoCharOps = new Set(['<>', '>=', '<=']);
const oneCharOps = new Set(['=', '>', '<', '(', ')', ',', '+', '-']);
/** Longest expression accepted (RocketMQ has none; a subscription is a few hundred bytes at most). */
export const expressionCharsMax = 64 * 1024;
/** Most tokens: bounds the depth of the left-nested trees that chains of AND / OR / = build. */
export const tokensMax = 4096;

const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36;
const isIdPart = (c: number) => isIdStart(c) || isDigit(c);
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12;

export function tokenize(text: string): Token[] {
  if (text.length > expressionCharsMax) {
    throw Sql92ParseError.at(text, expressionCharsMax, `longer than ${expressionCharsMax} characters`);
  }
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    if (out.length >= tokensMax) throw Sql92ParseError.at(text, i, `more than ${tokensMax} tokens`);
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === 45 && text.charCodeAt(i + 1) === 45) {
      // A line comment; RocketMQ needs a line end after it, we also take the end of the text.
      while (i < n && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw Sql92ParseError.at(text, i, 'unterminated comment');
      i = end + 2;
    } else if (c === 39) {
      i = readString(text, i, out);
    } else if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      i = readNumber(text, i, out);
    } else if (isIdStart(c)) {
      const start = i;
      while (i < n && isIdPart(text.charCodeAt(i))) i++;
      const word = text.slice(start, i);
      const upper = word.toUpperCase();
      if (keywords.has(upper)) out.push({ kind: TokenKind.keyword, text: upper, pos: start });
      else out.push({ kind: TokenKind.id, text: word, pos: start });
    } else {
      const two = text.slice(i, i + 2);
      if (twoCharOps.has(two)) {
        out.push({ kind: TokenKind.op, text: two, pos: i });
        i += 2;
      } else if (oneCharOps.has(text[i] as string)) {
        out.push({ kind: TokenKind.op, text: text[i] as string, pos: i });
        i++;
      } else {
        throw Sql92ParseError.at(
          text,
          i,
          `unexpected character ${JSON.stringify(String.fromCodePoint(text.codePointAt(i) ?? c))}`,
        );
      }
    }
  }
  out.push({ kind: TokenKind.eof, text: '', pos: n });
  return out;
}

function readString(text: string, start: number, out: Token[]): number {
  let value = '';
  let i = start + 1;
  for (;;) {
    const q = text.indexOf("'", i);
    if (q < 0) throw Sql92ParseError.at(text, start, 'unterminated string literal');
    value += text.slice(i, q);
    if (text.charCodeAt(q + 1) === 39) {
      value += "'";
      i = q + 2;
    } else {
      out.push({ kind: TokenKind.string, text: value, pos: start });
      return q + 1;
    }
  }
}

/** DECIMAL_LITERAL: "0" | [1-9][0-9]*[lL]?; FLOATING_POINT_LITERAL: digits "." digits? exp? | "." digits exp? | digits exp. */
function readNumber(text: string, start: number, out: Token[]): number {
  const n = text.length;
  let i = start;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  let isFloat = false;
  if (text.charCodeAt(i) === 46) {
    isFloat = true;
    i++;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
  }
  const e = text.charCodeAt(i);
  if (e === 101 || e === 69) {
    let j = i + 1;
    const sign = text.charCodeAt(j);
    if (sign === 43 || sign === 45) j++;
    if (isDigit(text.charCodeAt(j))) {
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      isFloat = true;
      i = j;
    }
  }
  if (isFloat) {
    out.push({ kind: TokenKind.float, text: text.slice(start, i), pos: start });
    return i;
  }
  // "0" stands alone: "007" is three tokens in RocketMQ (and so an error after the first).
  if (text.charCodeAt(start) === 48) {
    out.push({ kind: TokenKind.decimal, text: '0', pos: start });
    return start + 1;
  }
  const l = text.charCodeAt(i);
  if (l === 108 || l === 76) i++;
  out.push({ kind: TokenKind.decimal, text: text.slice(start, i), pos: start });
  return i;
}
