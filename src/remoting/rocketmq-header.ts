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

/** Writes `s` (`bytes` UTF-8 bytes, from utf8Bytes) at `at`; returns the offset after it. */
function writeUtf8(out: Buffer, s: string, bytes: number, at: number): number {
  // bytes === length only for ASCII: any char ≥ 0x80 (a lone surrogate too) takes 2 or more bytes.
  if (bytes === s.length) {
    if (bytes <= asciiLoopCharsMax) {
      for (let i = 0; i < bytes; i++) out[at + i] = s.charCodeAt(i);
      return at + bytes;
    }
    // ASCII (a batch answer's offsetMsgIds, ~2 KiB): latin1 writes the same bytes, a copy without UTF-8 encoding.
    return at + out.write(s, at, bytes, 'latin1');
  }
  return at + out.write(s, at, bytes, 'utf8');
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
  out[at++] = languageByName.get(cmd.language) ?? languageOther;
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

/** Decodes a binary header; `header` is exactly the header bytes. */
export function readBinaryHeader(header: Buffer): Omit<RemotingCommand, 'serializeType' | 'body'> {
  const need = (at: number, n: number, what: string) => {
    if (at + n > header.length) {
      throw new RemotingProtocolError(`ROCKETMQ header truncated reading ${what} (${header.length} bytes)`);
    }
  };
  need(0, fixedBytes + 4, 'fixed fields');
  const code = header.readInt16BE(0);
  const language = languageCodes[header.readUInt8(2)] ?? 'OTHER';
  const version = header.readInt16BE(3);
  const opaque = header.readInt32BE(5);
  const flag = header.readInt32BE(9);
  let at = fixedBytes;
  const remarkBytes = header.readInt32BE(at);
  at += 4;
  if (remarkBytes < 0) throw new RemotingProtocolError(`ROCKETMQ header remark length ${remarkBytes} is negative`);
  need(at, remarkBytes, 'remark');
  const remark = remarkBytes === 0 ? undefined : header.toString('utf8', at, at + remarkBytes);
  at += remarkBytes;
  need(at, 4, 'extFields length');
  const mapBytes = header.readInt32BE(at);
  at += 4;
  if (mapBytes < 0) throw new RemotingProtocolError(`ROCKETMQ header extFields length ${mapBytes} is negative`);
  need(at, mapBytes, 'extFields');
  if (mapBytes === 0) return { code, language, version, opaque, flag, remark };
  const end = at + mapBytes;
  const extFields: Record<string, string> = {};
  while (at < end) {
    if (at + 2 > end) throw new RemotingProtocolError('ROCKETMQ header extFields entry truncated at key length');
    const keyBytes = header.readInt16BE(at);
    at += 2;
    if (keyBytes < 0 || at + keyBytes + 4 > end) {
      throw new RemotingProtocolError(`ROCKETMQ header extFields key length ${keyBytes} overruns the map`);
    }
    const key = readHeaderKey(header, at, keyBytes);
    at += keyBytes;
    const valueBytes = header.readInt32BE(at);
    at += 4;
    if (valueBytes < 0 || at + valueBytes > end) {
      throw new RemotingProtocolError(`ROCKETMQ header extFields value length ${valueBytes} overruns the map`);
    }
    setField(extFields, key, readHeaderValue(header, at, valueBytes));
    at += valueBytes;
  }
  return { code, language, version, opaque, flag, remark, extFields };
}

/** Assigns without letting a `__proto__` key replace the object's prototype. */
export function setField(fields: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(fields, key, { value, enumerable: true, writable: true });
  else fields[key] = value;
}
