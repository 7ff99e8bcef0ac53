/**
 * Values of RocketMQ's SQL92 filter and its comparison rules (ComparisonExpression.__compare with
 * convertStringExpressions on): properties are Strings; literals are String, Integer, Long (outside int range),
 * Double, Boolean or NULL. A String compared with a number is parsed as that number's type (Integer.valueOf,
 * Long.valueOf, Double.valueOf); when it does not parse, the whole expression fails for that message.
 */

export const NumKind = { int: 'int', long: 'long', double: 'double' } as const;
export type NumKind = (typeof NumKind)[keyof typeof NumKind];

/** A numeric literal: numbers only come from the expression, never from a message, so these are built once. */
export class Num {
  constructor(
    readonly kind: NumKind,
    /** bigint for long, number otherwise. */
    readonly v: number | bigint,
  ) {}
}

export type Value = string | boolean | null | Num;

/**
 * Thrown (one shared object, no stack) when a comparison cannot be made, e.g. `a > 5` with a = 'x': RocketMQ's
 * evaluation throws and the message does not match, whatever the rest of the expression says.
 */
export const mismatch: { readonly mismatch: true } = Object.freeze({ mismatch: true });

const intMin = -(2 ** 31);
const intMax = 2 ** 31 - 1;
const longMin = -(2n ** 63n);
const longMax = 2n ** 63n - 1n;
const integerText = /^[+-]?[0-9]+$/;
/** Java's Double.valueOf after trimming: decimal (with an f/d suffix), NaN, Infinity (hex floats not taken). */
const doubleText = /^[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)$/;

/** Integer.valueOf: throws `mismatch` where Java throws NumberFormatException. */
export function javaInt(s: string): number {
  if (!integerText.test(s)) throw mismatch;
  const v = Number(s);
  if (v < intMin || v > intMax) throw mismatch;
  return v;
}

export function javaLong(s: string): bigint {
  if (!integerText.test(s)) throw mismatch;
  // More than 19 significant digits is out of range: refused before BigInt parses a long (up to 32 KiB) value.
  let first = s.charCodeAt(0) === 43 || s.charCodeAt(0) === 45 ? 1 : 0;
  while (first < s.length - 1 && s.charCodeAt(first) === 48) first++;
  if (s.length - first > 19) throw mismatch;
  const v = BigInt(s);
  if (v < longMin || v > longMax) throw mismatch;
  return v;
}

export function javaDouble(s: string): number {
  const t = trimJava(s);
  if (!doubleText.test(t)) throw mismatch;
  const last = t.charCodeAt(t.length - 1);
  const body = last === 102 || last === 70 || last === 100 || last === 68 ? t.slice(0, -1) : t;
  return Number(body);
}

/** String.trim: drops chars ≤ U+0020 at both ends. */
function trimJava(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 32) a++;
  while (b > a && s.charCodeAt(b - 1) <= 32) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Double.compareTo: NaN above everything and equal to itself, -0.0 below 0.0. */
export function compareDouble(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  if (a === 0 && b === 0) {
    const az = Object.is(a, -0);
    const bz = Object.is(b, -0);
    return az === bz ? 0 : az ? -1 : 1;
  }
  return 0;
}

function sign(x: number | bigint): number {
  return x < 0 ? -1 : x > 0 ? 1 : 0;
}

function compareNums(a: Num, b: Num): number {
  if (a.kind === NumKind.double || b.kind === NumKind.double) return compareDouble(Number(a.v), Number(b.v));
  if (a.kind === NumKind.long || b.kind === NumKind.long) return sign(BigInt(a.v) - BigInt(b.v));
  return sign((a.v as number) - (b.v as number));
}

/** A String read as the type of a number it is compared with. */
function parseAs(s: string, kind: NumKind): Num {
  if (kind === NumKind.int) return new Num(kind, javaInt(s));
  if (kind === NumKind.long) return new Num(kind, javaLong(s));
  return new Num(kind, javaDouble(s));
}

/** Boolean.valueOf(String): true only for "true" in any case. */
function javaBoolean(s: string): boolean {
  return s.length === 4 && s.toLowerCase() === 'true';
}

/**
 * __compare for two non-null values: widening between numbers, a String converted to the other side's type,
 * -1 for pairs that do not convert (so `=` is false), `mismatch` thrown where Java throws.
 */
export function compareValues(l: Exclude<Value, null>, r: Exclude<Value, null>): number {
  if (typeof l === 'string') {
    if (typeof r === 'string') return l < r ? -1 : l > r ? 1 : 0;
    if (typeof r === 'boolean') return compareBooleans(javaBoolean(l), r);
    return compareNums(parseAs(l, r.kind), r);
  }
  if (typeof l === 'boolean') {
    if (typeof r === 'boolean') return compareBooleans(l, r);
    // Java casts the Boolean to String here and throws a ClassCastException.
    if (typeof r === 'string') throw mismatch;
    return -1;
  }
  if (typeof r === 'string') return compareNums(l, parseAs(r, l.kind));
  if (typeof r === 'boolean') return -1;
  return compareNums(l, r);
}

function compareBooleans(a: boolean, b: boolean): number {
  return a === b ? 0 : a ? 1 : -1;
}

/** Java's `toString` of a literal, for error messages. */
export function valueText(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') return `'${v.replaceAll("'", "''")}'`;
  return String(v.v);
}
