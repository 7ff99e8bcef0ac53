/**
 * Typed reads of a command's extFields (RocketMQ's CommandCustomHeader fields arrive as strings).
 * A missing required field or a value that does not parse throws HeaderFieldError, which a processor may let
 * propagate: the server answers SYSTEM_ERROR (1) with the message, which names the field.
 */
import { InvalidArgumentError } from '../common/errors.js';
import type { RemotingCommand } from './command.js';

export class HeaderFieldError extends InvalidArgumentError {
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`header field '${field}' ${problem}`, { code: 1 });
    this.field = field;
  }
}

const intPattern = /^[+-]?\d+$/;
const int32Min = -(2 ** 31);
const int32Max = 2 ** 31 - 1;
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

type Cmd = Pick<RemotingCommand, 'extFields'>;

/** Most digits `shortDecimal` reads: any such number is an exact double. */
const shortDigitsMax = 15;

/**
 * The value of `v` when it is an optional sign and 1–15 decimal digits (a header's usual number: queue ids, flags, a
 * timestamp), else NaN (then the general parse decides: spaces, more digits, junk). No trim copy, no regular
 * expression, no Number(): what the general parse gives for the same text.
 */
function shortDecimal(v: unknown): number {
  if (typeof v !== 'string') return Number.NaN;
  const n = v.length;
  let i = 0;
  const first = n === 0 ? 0 : v.charCodeAt(0);
  if (first === 0x2d || first === 0x2b) i = 1;
  if (i === n || n - i > shortDigitsMax) return Number.NaN;
  let x = 0;
  for (; i < n; i++) {
    const d = v.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return Number.NaN;
    x = x * 10 + d;
  }
  return first === 0x2d ? -x : x;
}

function raw(cmd: Cmd, name: string): string | undefined {
  const fields = cmd.extFields;
  if (fields === undefined || !Object.hasOwn(fields, name)) return undefined;
  return fields[name];
}

export function requireString(cmd: Cmd, name: string): string {
  const v = raw(cmd, name);
  if (v === undefined) throw new HeaderFieldError(name, 'is missing');
  return v;
}

export function optionalString(cmd: Cmd, name: string): string | undefined {
  return raw(cmd, name);
}

/** A Java int (32-bit signed). */
export function requireInt(cmd: Cmd, name: string): number {
  const v = optionalInt(cmd, name);
  if (v === undefined) throw new HeaderFieldError(name, 'is missing');
  return v;
}

/** A Java int, or undefined when absent or empty. */
export function optionalInt(cmd: Cmd, name: string): number | undefined {
  const text = raw(cmd, name);
  if (text === undefined) return undefined;
  const quick = shortDecimal(text);
  if (quick >= int32Min && quick <= int32Max) return quick;
  const v = text.trim();
  if (v === '') return undefined;
  const n = intPattern.test(v) ? Number(v) : Number.NaN;
  if (!(n >= int32Min && n <= int32Max)) throw new HeaderFieldError(name, `is not a 32-bit integer: '${v}'`);
  return n;
}

/** A Java long (64-bit signed) as bigint. */
export function requireLong(cmd: Cmd, name: string): bigint {
  const v = optionalLong(cmd, name);
  if (v === undefined) throw new HeaderFieldError(name, 'is missing');
  return v;
}

/** A Java long as bigint, or undefined when absent or empty. */
export function optionalLong(cmd: Cmd, name: string): bigint | undefined {
  const text = raw(cmd, name);
  if (text === undefined) return undefined;
  const quick = shortDecimal(text);
  if (!Number.isNaN(quick)) return BigInt(quick);
  const v = text.trim();
  if (v === '') return undefined;
  const n = intPattern.test(v) ? BigInt(v) : undefined;
  if (n === undefined || n < int64Min || n > int64Max) {
    throw new HeaderFieldError(name, `is not a 64-bit integer: '${v}'`);
  }
  return n;
}

/** 'true' / 'false' (any case), or undefined when absent or empty. */
export function optionalBool(cmd: Cmd, name: string): boolean | undefined {
  const v = raw(cmd, name)?.trim().toLowerCase();
  if (v === undefined || v === '') return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new HeaderFieldError(name, `is not a boolean: '${v}'`);
}
