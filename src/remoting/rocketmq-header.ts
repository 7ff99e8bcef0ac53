/**
 * ROCKETMQ (serialize type 1) binary header, layout per RocketMQ's RocketMQSerializable, big-endian:
 *   code int16 | language int8 | version int16 | opaque int32 | flag int32
 *   | remark: int32 length + utf8 (0 = none)
 *   | extFields: int32 total length, then per entry int16 key length + key, int32 value length + value
 */
import type { RemotingCommand } from './command.js';
import { languageCodes } from './command.js';
import { RemotingProtocolError } from './errors.js';
import { readHeaderKey, readHeaderValue } from './header-strings.js';

const fixedBytes = 2 + 1 + 2 + 4 + 4;
const languageOther = 7;
const keyBytesMax = 0x7fff;

const languageByName: ReadonlyMap<string, number> = new Map(languageCodes.map((name, i) => [name, i]));

/** Header fields already measured, so the frame encoder can allocate once (strings are written in place). */
export interface BinaryHeaderPlan {
  bytes: number;
  remark: string | undefined;
  remarkBytes: number;
  /** key, value, key, value… */
  entries: string[];
  /** utf8 byte length of each entry. */
  lengths: number[];
}

/** Strings up to this length are measured and written by a char loop when ASCII (keys, numbers, names). */
const asciiLoopCharsMax = 256;

/**
 * UTF-8 bytes of `s`. A short ASCII string (every char < 0x80: its UTF-8 bytes are its char codes) is measured
 * without a native call: a header has ~30 strings, and Buffer.byteLength + Buffer#write per string were half its cost.
 */
function utf8Bytes(s: string): number {
  const n = s.length;
  if (n > asciiLoopCharsMax) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** Buffer#write through a constant: `out.write` is a generic property load in optimized code here. */
const bufferWrite = Buffer.prototype.write as (
  this: Buffer,
  s: string,
  offset: number,
  length: number,
  encoding: BufferEncoding,
) => number;

/** Writes `s` (`bytes` UTF-8 bytes, from utf8Bytes) at `at`; returns the offset after it. */
function writeUtf8(out: Buffer, s: string, bytes: number, at: number): number {
  // bytes === length only for ASCII: any char ≥ 0x80 (a lone surrogate too) takes 2 or more bytes.
  if (bytes === s.length) {
    if (bytes <= asciiLoopCharsMax) {
      for (let i = 0; i < bytes; i++) out[at + i] = s.charCodeAt(i);
      return at + bytes;
    }
    // ASCII (a batch answer's offsetMsgIds, ~2 KiB): latin1 writes the same bytes, a copy without UTF-8 encoding.
    return at + bufferWrite.call(out, s, at, bytes, 'latin1');
  }
  return at + bufferWrite.call(out, s, at, bytes, 'utf8');
}

function putInt32(out: Buffer, at: number, v: number): number {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
  return at + 4;
}

function putInt16(out: Buffer, at: number, v: number): number {
  out[at] = v >>> 8;
  out[at + 1] = v;
  return at + 2;
}

export function planBinaryHeader(cmd: RemotingCommand): BinaryHeaderPlan {
  const remark = cmd.remark ? cmd.remark : undefined;
  const remarkBytes = remark === undefined ? 0 : utf8Bytes(remark);
  const entries: string[] = [];
  const lengths: number[] = [];
  let bytes = fixedBytes + 4 + remarkBytes + 4;
  if (cmd.extFields !== undefined) {
    const plain = cmd.plainFields;
    for (const k in cmd.extFields) {
      const v = cmd.extFields[k];
      if (v === undefined || v === null) continue;
      const value = String(v);
      const keyBytes = utf8Bytes(k);
      // A plain value is ASCII: its length is its byte count (and writeUtf8 copies it as latin1).
      const valueBytes = plain?.has(k) ? value.length : utf8Bytes(value);
      if (keyBytes > keyBytesMax) throw new RemotingProtocolError(`extFields key longer than ${keyBytesMax} bytes`);
      entries.push(k, value);
      lengths.push(keyBytes, valueBytes);
      bytes += 2 + keyBytes + 4 + valueBytes;
    }
  }
  return { bytes, remark, remarkBytes, entries, lengths };
}

/** Writes the planned header at `offset`; returns the offset after it. */
export function writeBinaryHeader(cmd: RemotingCommand, plan: BinaryHeaderPlan, out: Buffer, offset: number): number {
  if (offset < 0 || offset + plan.bytes > out.length) {
    throw new RemotingProtocolError(`header of ${plan.bytes} bytes does not fit at ${offset} in ${out.length}`);
  }
  // Byte stores (a Uint8Array masks each to 8 bits): the range was checked above for the whole header.
  let at = putInt16(out, offset, cmd.code & 0xffff);
  const language = cmd.language;
  // Our own answers are JAVA's (ourLanguage): no map lookup for them.
  out[at++] = language === 'JAVA' ? 0 : (languageByName.get(language) ?? languageOther);
  at = putInt16(out, at, cmd.version & 0xffff);
  at = putInt32(out, at, cmd.opaque | 0);
  at = putInt32(out, at, cmd.flag | 0);
  at = putInt32(out, at, plan.remarkBytes);
  if (plan.remark !== undefined) at = writeUtf8(out, plan.remark, plan.remarkBytes, at);
  const mapLengthAt = at;
  at += 4;
  const { entries, lengths } = plan;
  for (let i = 0; i < entries.length; i += 2) {
    const keyBytes = lengths[i]!;
    const valueBytes = lengths[i + 1]!;
    at = putInt16(out, at, keyBytes);
    at = writeUtf8(out, entries[i]!, keyBytes, at);
    at = putInt32(out, at, valueBytes);
    at = writeUtf8(out, entries[i + 1]!, valueBytes, at);
  }
  putInt32(out, mapLengthAt, at - mapLengthAt - 4);
  return at;
}

/**
 * Decodes a binary header: the bytes `[start, end)` of `buf` (by default all of it). Offsets into the frame, not a
 * view of the header: one typed array less per request.
 */
export function readBinaryHeader(
  buf: Buffer,
  start = 0,
  end: number = buf.length,
): Omit<RemotingCommand, 'serializeType' | 'body'> {
  const header = buf;
  if (start < 0 || end > buf.length) throw new RangeError(`header [${start}, ${end}) outside ${buf.length} bytes`);
  const length = end - start;
  if (length < fixedBytes + 4) {
    throw new RemotingProtocolError(`ROCKETMQ header truncated reading fixed fields (${length} bytes)`);
  }
  // Byte loads instead of Buffer#readInt*BE (a property load and a call each): every range is checked before.
  const code = ((header[start]! << 24) | (header[start + 1]! << 16)) >> 16;
  const language = languageCodes[header[start + 2]!] ?? 'OTHER';
  const version = ((header[start + 3]! << 24) | (header[start + 4]! << 16)) >> 16;
  const opaque = int32At(header, start + 5);
  const flag = int32At(header, start + 9);
  let at = start + fixedBytes;
  const remarkBytes = int32At(header, at);
  at += 4;
  if (remarkBytes < 0) throw new RemotingProtocolError(`ROCKETMQ header remark length ${remarkBytes} is negative`);
  if (at + remarkBytes > end) truncated(length, 'remark');
  const remark = remarkBytes === 0 ? undefined : header.toString('utf8', at, at + remarkBytes);
  at += remarkBytes;
  if (at + 4 > end) truncated(length, 'extFields length');
  const mapBytes = int32At(header, at);
  at += 4;
  if (mapBytes < 0) throw new RemotingProtocolError(`ROCKETMQ header extFields length ${mapBytes} is negative`);
  if (at + mapBytes > end) truncated(length, 'extFields');
  if (mapBytes === 0) return { code, language, version, opaque, flag, remark };
  const mapEnd = at + mapBytes;
  const keys = scratchKeys;
  const values = scratchValues;
  let n = 0;
  let sig = 0x811c9dc5 | 0;
  while (at < mapEnd) {
    if (at + 2 > mapEnd) throw new RemotingProtocolError('ROCKETMQ header extFields entry truncated at key length');
    const keyBytes = ((header[at]! << 24) | (header[at + 1]! << 16)) >> 16;
    at += 2;
    if (keyBytes < 0 || at + keyBytes + 4 > mapEnd) {
      throw new RemotingProtocolError(`ROCKETMQ header extFields key length ${keyBytes} overruns the map`);
    }
    const key = readHeaderKey(header, at, keyBytes);
    // The key sequence's hash, over every key byte (keys are short: one letter each in a V2 send header).
    sig = Math.imul(sig ^ keyBytes, 0x01000193);
    for (let j = at; j < at + keyBytes; j++) sig = Math.imul(sig ^ header[j]!, 0x01000193);
    at += keyBytes;
    const valueBytes = int32At(header, at);
    at += 4;
    if (valueBytes < 0 || at + valueBytes > mapEnd) {
      throw new RemotingProtocolError(`ROCKETMQ header extFields value length ${valueBytes} overruns the map`);
    }
    keys[n] = key;
    values[n] = readHeaderValue(header, at, valueBytes);
    n++;
    at += valueBytes;
  }
  const extFields = fieldsOf(keys, values, n, sig);
  // The scratch arrays hold no string past this call (the frame's values are not kept alive by them).
  for (let i = 0; i < n; i++) values[i] = '';
  return { code, language, version, opaque, flag, remark, extFields };
}

function int32At(b: Buffer, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

function truncated(length: number, what: string): never {
  throw new RemotingProtocolError(`ROCKETMQ header truncated reading ${what} (${length} bytes)`);
}

/** The keys and values of the header being decoded (filled and read within one readBinaryHeader call). */
const scratchKeys: string[] = [];
const scratchValues: string[] = [];

/**
 * The extFields object of a key sequence seen before, made by a function compiled for it: one object literal, so one
 * object shape per key sequence and no per-field store. Built field by field (`setField` per key), a header of a dozen
 * fields cost ~200 ns in keyed stores that see every key of every header (megamorphic), its property array grown as
 * it went; the literal costs ~20 ns. Only sequences of keys the key table holds (short ASCII), without `__proto__`
 * (a literal's `__proto__` sets the prototype) or a repeated key, and a bounded number of them are compiled in all:
 * a peer that sends a new key sequence per request gets the field-by-field object, as before. Same keys, values and
 * key order either way.
 */
interface FieldsShape {
  readonly keys: readonly string[];
  readonly make: (values: readonly string[]) => Record<string, string>;
}

/**
 * The shape table: sets of `shapeWays` slots (a sequence sits in any slot of its set), `shapeSets` sets (a power of
 * two). Sequences that share a set all stay compiled up to `shapeWays` of them; one more replaces them in turn.
 */
const shapeWays = 4;
const shapeSets = 256;
/** Most keys in a compiled sequence. */
const shapeKeysMax = 32;
/** Most sequences compiled per process (each compile ~50 µs): a peer that makes up key sequences gets no more. */
const shapeCompilesMax = 512;
const shapeBySlot: Array<FieldsShape | undefined> = new Array<FieldsShape | undefined>(shapeSets * shapeWays).fill(
  undefined,
);
/** Per set, the way to replace next once every way holds a sequence. */
const shapeNextVictim = new Uint8Array(shapeSets);
let shapeCompiles = 0;
/** A key a literal may hold as it is (what the key table holds, and not `__proto__`). */
const literalKey = /^[\x20-\x7e]{1,32}$/;

/** Key sequences compiled so far in this process (tests). */
export function compiledShapes(): number {
  return shapeCompiles;
}

function sameKeys(shape: FieldsShape, keys: readonly string[], n: number): boolean {
  const known = shape.keys;
  if (known.length !== n) return false;
  let i = 0;
  while (i < n && known[i] === keys[i]) i++;
  return i === n;
}

function fieldsOf(keys: string[], values: string[], n: number, sig: number): Record<string, string> {
  const set = (sig ^ (sig >>> 15) ^ (sig >>> 24)) & (shapeSets - 1);
  const base = set * shapeWays;
  let empty = -1;
  for (let w = 0; w < shapeWays; w++) {
    const shape = shapeBySlot[base + w];
    if (shape === undefined) {
      if (empty < 0) empty = w;
    } else if (sameKeys(shape, keys, n)) return shape.make(values);
  }
  if (n <= shapeKeysMax && shapeCompiles < shapeCompilesMax) {
    const compiled = compileShape(keys, n);
    if (compiled !== undefined) {
      let way = empty;
      if (way < 0) {
        way = shapeNextVictim[set]!;
        shapeNextVictim[set] = (way + 1) % shapeWays;
      }
      shapeBySlot[base + way] = compiled;
      return compiled.make(values);
    }
  }
  const fields: Record<string, string> = {};
  for (let i = 0; i < n; i++) setField(fields, keys[i]!, values[i]!);
  return fields;
}

function compileShape(keys: readonly string[], n: number): FieldsShape | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    if (k === '__proto__' || !literalKey.test(k) || seen.has(k)) return undefined;
    seen.add(k);
  }
  shapeCompiles++;
  const own = keys.slice(0, n);
  // Each key as a JSON string literal (printable ASCII, so also a JavaScript one); values by index.
  const body = `return {${own.map((k, i) => `${JSON.stringify(k)}:v[${i}]`).join(',')}};`;
  let make: (values: readonly string[]) => Record<string, string>;
  try {
    make = new Function('v', body) as typeof make;
  } catch {
    // Code generation from strings refused (--disallow-code-generation-from-strings): field by field from now on.
    shapeCompiles = shapeCompilesMax;
    return undefined;
  }
  return { keys: own, make };
}

/** Assigns without letting a `__proto__` key replace the object's prototype. */
export function setField(fields: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(fields, key, { value, enumerable: true, writable: true });
  else fields[key] = value;
}
